"""TimeSeries invariants, slicing, unit conversion and resampling with explicit rules."""

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from core.market.errors import UnknownUnitError
from core.market.series import ResampleRule, TimeSeries
from core.market.units import convert, parse_unit, unit_from_column_name

UTC = timezone.utc
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def hourly(values, unit="EUR/MWh"):
    return TimeSeries.from_datetimes("p", unit, timedelta(hours=1), [T0 + timedelta(hours=i) for i in range(len(values))],
                                     values)


def test_arrays_are_read_only_and_starts_contiguous():
    series = hourly([1.0, 2.0])
    with pytest.raises(ValueError):
        series.values[0] = 5
    with pytest.raises(ValueError, match="contiguous"):
        TimeSeries.from_datetimes("p", "kW", timedelta(hours=1), [T0, T0 + timedelta(hours=2)], [1, 2])


def test_unknown_unit_rejected_naming_it():
    with pytest.raises(UnknownUnitError, match="'furlong'"):
        hourly([1.0], unit="furlong")


def test_naive_datetimes_refused():
    with pytest.raises(ValueError, match="naive"):
        TimeSeries.from_datetimes("p", "kW", timedelta(hours=1), [datetime(2024, 1, 1)], [1.0])


def test_slice_and_value_at():
    series = hourly([1.0, 2.0, 3.0, 4.0])
    part = series.slice(T0 + timedelta(hours=1), T0 + timedelta(hours=3))
    assert part.values.tolist() == [2.0, 3.0] and part.first_start == T0 + timedelta(hours=1)
    assert series.value_at(T0 + timedelta(minutes=90)) == 2.0
    with pytest.raises(KeyError):
        series.value_at(T0 - timedelta(minutes=1))


def test_unit_conversions():
    assert convert(np.array([0.25]), "EUR/kWh", "EUR/MWh")[0] == 250.0
    assert convert(np.array([25.0]), "ct/kWh", "EUR/MWh")[0] == 250.0
    assert convert(np.array([1500.0]), "W", "kW")[0] == 1.5
    assert convert(np.array([2.0]), "MWh", "kWh")[0] == 2000.0
    with pytest.raises(ValueError, match="cannot convert"):
        convert(np.array([1.0]), "kW", "kWh")
    assert hourly([0.1], unit="EUR/kWh").to_unit("EUR/MWh").values[0] == pytest.approx(100.0)


def test_units_from_headers():
    assert unit_from_column_name("price_eur_per_mwh").symbol == "EUR/MWh"
    assert unit_from_column_name("Price (€/MWh)").symbol == "EUR/MWh"
    assert unit_from_column_name("load_w_no_deferrable").symbol == "W"
    assert unit_from_column_name("kwargs") is None and unit_from_column_name("DAM_price") is None
    assert parse_unit("ct/kWh").quantity == "price"


def test_hourly_price_repeats_to_15_min_and_averages_back():
    series = hourly([10.0, 20.0])
    fine = series.resample(timedelta(minutes=15), ResampleRule.REPEAT)
    assert fine.values.tolist() == [10.0] * 4 + [20.0] * 4 and len(fine.start_utc) == 8
    assert "repeat" in fine.notes[-1]
    back = fine.resample(timedelta(hours=1), ResampleRule.MEAN)
    assert back.values.tolist() == [10.0, 20.0]


def test_energy_splits_and_sums_and_wrong_rule_is_refused():
    energy = hourly([4.0], unit="kWh")
    assert energy.resample(timedelta(minutes=15), ResampleRule.SPLIT).values.tolist() == [1.0] * 4
    with pytest.raises(ValueError, match="split"):
        energy.resample(timedelta(minutes=15), ResampleRule.REPEAT)
    with pytest.raises(ValueError, match="mean"):
        hourly([1.0, 2.0]).resample(timedelta(hours=2), ResampleRule.SUM)


def test_partial_buckets_dropped_with_note():
    start = T0 + timedelta(minutes=15)
    series = TimeSeries.from_datetimes("p", "kW", timedelta(minutes=15),
                                       [start + timedelta(minutes=15 * i) for i in range(8)], np.arange(8.0))
    hourly_mean = series.resample(timedelta(hours=1), ResampleRule.MEAN)
    assert hourly_mean.values.tolist() == [4.5] and any("dropped" in n for n in hourly_mean.notes)
