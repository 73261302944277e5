"""The raw local-time DST excerpt and the UTC file must agree hour by hour."""

from datetime import datetime, timezone

import numpy as np
import pytest

from core.market.assembly import GapPolicy
from core.market.errors import TimeSeriesImportError
from core.market.price_csv import import_price_csv

UTC = timezone.utc


def _local(fixtures):
    return import_price_csv(fixtures / "be_day_ahead_prices_raw_local_dst_excerpt.csv", zone="Europe/Brussels",
                            unit="EUR/kWh", gaps=GapPolicy(keep_long_gaps=True))


def test_local_and_utc_imports_agree_hour_by_hour(fixtures):
    local = _local(fixtures)
    utc = import_price_csv(fixtures / "be_day_ahead_prices_utc_dst_days_2022.csv", gaps=GapPolicy(keep_long_gaps=True))
    by_time = dict(zip(utc.start_utc.tolist(), utc.values))
    present = ~np.isnan(local.values)
    assert present.sum() == 144  # 145 rows, minus the empty nonexistent spring hour
    diffs = [abs(by_time[t] - v) for t, v in zip(local.start_utc[present].tolist(), local.values[present])]
    assert max(diffs) < 1e-3  # the raw file stores float32-rounded EUR/kWh


def test_spring_forward_row_dropped_with_note(fixtures):
    local = _local(fixtures)
    assert local.value_at(datetime(2022, 3, 27, 0, tzinfo=UTC)) == pytest.approx(221.93, abs=1e-2)  # 01:00 CET
    assert local.value_at(datetime(2022, 3, 27, 1, tzinfo=UTC)) == pytest.approx(214.02, abs=1e-2)  # 03:00 CEST
    assert any(n.startswith("line 28:") and "does not exist" in n for n in local.notes)


def test_autumn_repeated_hour_first_is_summer_time(fixtures):
    local = _local(fixtures)
    assert local.value_at(datetime(2022, 10, 30, 0, tzinfo=UTC)) == pytest.approx(100.22, abs=1e-2)
    assert local.value_at(datetime(2022, 10, 30, 1, tzinfo=UTC)) == pytest.approx(99.93, abs=1e-2)
    assert any(n.startswith("line 100:") and "2022-10-30T00:00Z" in n for n in local.notes)
    assert any(n.startswith("line 101:") and "2022-10-30T01:00Z" in n for n in local.notes)


def test_gap_between_the_two_windows_is_rejected_by_default(fixtures):
    with pytest.raises(TimeSeriesImportError) as info:
        import_price_csv(fixtures / "be_day_ahead_prices_raw_local_dst_excerpt.csv", zone="Europe/Brussels",
                         unit="EUR/kWh")
    assert info.value.line == 74 and info.value.rule == "no gaps"


def test_raw_file_without_unit_is_rejected_not_guessed(fixtures):
    with pytest.raises(TimeSeriesImportError, match="names no unit") as info:
        import_price_csv(fixtures / "be_day_ahead_prices_raw_local_dst_excerpt.csv", zone="Europe/Brussels")
    assert info.value.rule == "unit required"


def test_naive_times_without_zone_are_rejected(fixtures):
    with pytest.raises(TimeSeriesImportError) as info:
        import_price_csv(fixtures / "be_day_ahead_prices_raw_local_dst_excerpt.csv", unit="EUR/kWh")
    assert info.value.rule == "time zone required" and info.value.line == 2


def test_value_at_nonexistent_spring_hour_is_an_error():
    text = "time,price [EUR/MWh]\n2022-03-27 01:00,10\n2022-03-27 02:00,11\n2022-03-27 03:00,12\n"
    from core.market.price_csv import parse_price_csv

    with pytest.raises(TimeSeriesImportError) as info:
        parse_price_csv(text, zone="Europe/Brussels")
    assert info.value.line == 3 and "does not exist" in str(info.value)


def test_third_occurrence_of_autumn_hour_is_an_error():
    from core.market.price_csv import parse_price_csv

    rows = "".join(f"2022-10-30 02:00,{v}\n" for v in (1, 2, 3))
    with pytest.raises(TimeSeriesImportError) as info:
        parse_price_csv("time,price [EUR/MWh]\n2022-10-30 01:00,0\n" + rows, zone="Europe/Brussels")
    assert info.value.line == 5 and info.value.rule == "repeated local time"
