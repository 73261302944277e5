"""LP output to schedule entries (merge and idle rules), and plan economics on a price series."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.optimization.errors import InvalidOptimizationInput
from core.optimization.lp import solve_plan
from core.optimization.problem import BatteryParams, PriceSeries
from core.optimization.results import (
    EntryMode,
    PlannedEntry,
    entries_from_plan,
    entries_from_profile,
    evaluate_net_profile,
    predicted_savings,
    profile_from_entries,
)

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


def _at(hour: float) -> datetime:
    return START + timedelta(hours=hour)


def test_consecutive_equal_steps_merge_and_idle_steps_are_omitted():
    entries = entries_from_profile(np.array([5, 5, 5, 0, 0, -10, -10, 3]), START, HOUR)
    assert entries == (
        PlannedEntry(_at(0), _at(3), EntryMode.CHARGE, 5.0),
        PlannedEntry(_at(5), _at(7), EntryMode.DISCHARGE, 10.0),
        PlannedEntry(_at(7), _at(8), EntryMode.CHARGE, 3.0),
    )


def test_rates_within_tolerance_merge_at_their_mean_rate_and_others_split():
    entries = entries_from_profile(np.array([5.0, 5.004, 5.5]), START, HOUR, merge_tolerance_kw=0.01)
    assert [(e.start, e.end) for e in entries] == [(_at(0), _at(2)), (_at(2), _at(3))]
    assert entries[0].rate_kw == pytest.approx(5.002)


def test_tiny_powers_count_as_idle():
    assert entries_from_profile(np.array([1e-9, -0.001, 0.0]), START, HOUR) == ()


def test_sign_change_splits_even_at_equal_magnitude():
    entries = entries_from_profile(np.array([4.0, -4.0]), START, HOUR)
    assert [e.mode for e in entries] == [EntryMode.CHARGE, EntryMode.DISCHARGE]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([0.0, 2.0, 2.0, -3.0, 7.5]), min_size=1, max_size=40))
def test_entries_carry_the_same_energy_as_the_profile(profile):
    prices = PriceSeries(START, HOUR, [50.0] * len(profile))
    entries = entries_from_profile(np.array(profile), START, HOUR)
    np.testing.assert_allclose(profile_from_entries(entries, prices), profile, atol=1e-12)
    assert all(a.end <= b.start for a, b in zip(entries, entries[1:]))


def test_entries_from_an_optimized_plan_follow_its_power(hourly, ideal_battery):
    prices = hourly([20, 20, 100, 100])
    plan = solve_plan(ideal_battery(), prices)
    entries = entries_from_plan(plan.device, prices)
    assert entries == (
        PlannedEntry(_at(0), _at(2), EntryMode.CHARGE, 5.0),
        PlannedEntry(_at(2), _at(3), EntryMode.DISCHARGE, 10.0),
    )


def test_entries_off_the_step_grid_are_averaged_per_step():
    prices = PriceSeries(START, HOUR, [50.0] * 3)
    entry = PlannedEntry(_at(0.5), _at(1.5), EntryMode.DISCHARGE, 8.0)
    np.testing.assert_allclose(profile_from_entries([entry], prices), [-4.0, -4.0, 0.0])


def test_planned_entry_refuses_nonsense():
    with pytest.raises(InvalidOptimizationInput, match="rate_kw"):
        PlannedEntry(_at(0), _at(1), EntryMode.CHARGE, 0.0)
    with pytest.raises(InvalidOptimizationInput, match="before it starts"):
        PlannedEntry(_at(1), _at(1), EntryMode.CHARGE, 1.0)
    with pytest.raises(ValueError):
        PlannedEntry(_at(0), _at(1), 3, 1.0)


def test_evaluation_by_hand():
    battery = BatteryParams(capacity_kwh=20, max_charge_kw=10, max_discharge_kw=10, charge_efficiency=0.9,
                            discharge_efficiency=0.9, soc_min_pct=0, soc_max_pct=100, initial_soc_pct=0,
                            degradation_cost_eur_per_kwh=0.01)  # fmt: skip
    prices = PriceSeries(START, HOUR, [20, 100, 100], export_price_eur_per_mwh=[10, 90, 90], load_kw=[0, 5, 0])
    result = evaluate_net_profile(np.array([10.0, -8.0, 0.0]), battery, prices)
    # Hour 0 imports 10 kWh at 20; hour 1 exports 3 kWh at 90 (8 out, 5 consumed on site).
    assert result.import_cost_eur == pytest.approx(0.2)
    assert result.export_revenue_eur == pytest.approx(0.27)
    assert result.degradation_cost_eur == pytest.approx(0.18)
    assert result.net_cost_eur == pytest.approx(0.2 - 0.27 + 0.18)
    assert result.throughput_kwh == pytest.approx(18.0)
    np.testing.assert_allclose(result.soc_kwh, [9.0, 9.0 - 8 / 0.9, 9.0 - 8 / 0.9])
    assert result.soc_within_bounds


def test_evaluation_flags_a_plan_that_leaves_the_soc_window(ideal_battery):
    prices = PriceSeries(START, HOUR, [50.0, 50.0])
    assert not evaluate_net_profile(np.array([0.0, -5.0]), ideal_battery(), prices).soc_within_bounds


def test_savings_of_the_optimized_plan_against_the_current_plan_with_a_price_band(hourly, ideal_battery):
    battery = ideal_battery()
    expected = hourly([20, 20, 100, 100])
    low = hourly([20, 20, 60, 60])  # P10: a weaker evening peak
    high = hourly([20, 20, 150, 150])  # P90: a stronger one
    new = solve_plan(battery, expected).device.net_charge_kw  # charge 2 x 5 kWh, sell 10 kWh at once
    current = np.zeros(4)  # today's schedule: idle
    estimate = predicted_savings(new, current, battery, expected, p10_prices=low, p90_prices=high)
    assert estimate.expected_eur == pytest.approx((10 * 100 - 10 * 20) / 1000)
    assert estimate.p10_prices_eur == pytest.approx((10 * 60 - 10 * 20) / 1000)
    assert estimate.p90_prices_eur == pytest.approx((10 * 150 - 10 * 20) / 1000)
    assert estimate.band_eur == (pytest.approx(0.4), pytest.approx(1.3))
    assert estimate.current.net_cost_eur == 0.0


def test_savings_refuse_a_quantile_series_on_another_grid(hourly, ideal_battery):
    other = PriceSeries(START, timedelta(minutes=30), [1.0] * 4)
    with pytest.raises(InvalidOptimizationInput, match="time grid"):
        predicted_savings(np.zeros(4), np.zeros(4), ideal_battery(), hourly([1] * 4), p10_prices=other)
