"""Input validation: bad input is refused with an error naming the field and the step."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from core.optimization.errors import InvalidOptimizationInput
from core.optimization.problem import BatteryParams, PriceSeries

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("capacity_kwh", 0.0),
        ("max_charge_kw", -1.0),
        ("max_discharge_kw", math.nan),
        ("charge_efficiency", 1.2),
        ("discharge_efficiency", 0.0),
        ("soc_max_pct", 101.0),
        ("initial_soc_pct", -5.0),
        ("terminal_soc_pct", math.inf),
        ("degradation_cost_eur_per_kwh", -0.01),
    ],
)
def test_battery_refuses_bad_values_naming_the_field(field, value):
    params = dict(capacity_kwh=10.0, max_charge_kw=5.0, max_discharge_kw=5.0)
    params[field] = value
    with pytest.raises(InvalidOptimizationInput) as error:
        BatteryParams(**params)
    assert error.value.field == field
    assert field in str(error.value)


def test_battery_refuses_min_soc_above_max_soc():
    with pytest.raises(InvalidOptimizationInput, match="soc_min_pct 80 is above soc_max_pct 20"):
        BatteryParams(capacity_kwh=10, max_charge_kw=1, max_discharge_kw=1, soc_min_pct=80, soc_max_pct=20)


def test_round_trip_efficiency_is_split_evenly():
    battery = BatteryParams.with_round_trip_efficiency(0.81, capacity_kwh=10, max_charge_kw=1, max_discharge_kw=1)
    assert battery.charge_efficiency == pytest.approx(0.9)
    assert battery.discharge_efficiency == pytest.approx(0.9)


def test_nan_price_is_refused_with_its_step():
    with pytest.raises(InvalidOptimizationInput) as error:
        PriceSeries(START, timedelta(hours=1), [10.0, math.nan, 30.0])
    assert error.value.field == "import_price_eur_per_mwh"
    assert error.value.index == 1
    assert "step 1" in str(error.value)


def test_series_of_wrong_length_is_refused():
    with pytest.raises(InvalidOptimizationInput, match="load_kw has 2 steps but import_price_eur_per_mwh has 3"):
        PriceSeries(START, timedelta(hours=1), [1.0, 2.0, 3.0], load_kw=[1.0, 2.0])


def test_negative_load_is_refused():
    with pytest.raises(InvalidOptimizationInput) as error:
        PriceSeries(START, timedelta(hours=1), [1.0, 2.0], load_kw=[1.0, -2.0])
    assert (error.value.field, error.value.index) == ("load_kw", 1)


def test_feed_in_above_import_price_is_refused_with_the_hour():
    with pytest.raises(InvalidOptimizationInput, match="at step 1 \\(2026-01-01 01:00 UTC\\)"):
        PriceSeries(START, timedelta(hours=1), [50.0, 50.0], export_price_eur_per_mwh=[40.0, 60.0])


def test_naive_start_and_empty_horizon_are_refused():
    with pytest.raises(InvalidOptimizationInput, match="timezone-aware"):
        PriceSeries(datetime(2026, 1, 1), timedelta(hours=1), [1.0])
    with pytest.raises(InvalidOptimizationInput, match="no steps"):
        PriceSeries(START, timedelta(hours=1), [])
    with pytest.raises(InvalidOptimizationInput, match="positive timedelta"):
        PriceSeries(START, timedelta(0), [1.0])


def test_series_are_read_only_and_steps_are_utc():
    prices = PriceSeries(START, timedelta(minutes=15), [1.0] * 96)
    with pytest.raises(ValueError):
        prices.import_price_eur_per_mwh[0] = 5.0
    assert prices.step_start(95) == START + timedelta(hours=23, minutes=45)
    assert prices.end == START + timedelta(days=1)
    assert prices.export_price_eur_per_mwh[0] == 1.0  # feed-in defaults to the import price
