"""Period parsing (hypothesis round trips, DST days, clear errors) and robust z-score anomaly flagging."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.analytics import Period, PeriodError, PeriodKind, parse_period
from core.analytics.anomalies import daily_energy_anomalies, outliers, robust_z
from core.analytics.model import DeviceDay

ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney"])
DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(DAYS, ZONES)
def test_a_day_parses_to_its_local_midnights_and_back(day, zone):
    period = parse_period(f"day:{day.isoformat()}", zone)
    assert period.kind is PeriodKind.DAY and period.label() == day.isoformat()
    assert period.start.astimezone(period.start.tzinfo).tzinfo == timezone.utc
    assert [d for d, _, _ in period.days()] == [day]
    assert timedelta(hours=22) <= period.end - period.start <= timedelta(hours=26)  # DST days are 23 or 25 h
    assert parse_period(day.isoformat(), zone) == period  # "day:" may be left out


@given(DAYS, ZONES)
def test_weeks_and_months_cover_their_days_without_gaps(day, zone):
    year, week, _ = day.isocalendar()
    w = parse_period(f"week:{year}-W{week:02d}", zone)
    assert len(w.days()) == 7 and day in [d for d, _, _ in w.days()] and w.label() == f"{year}-W{week:02d}"
    m = parse_period(f"month:{day.year}-{day.month:02d}", zone)
    days = m.days()
    assert days[0][0] == day.replace(day=1) and days[0][1] == m.start and days[-1][2] == m.end
    assert all(prev[2] == nxt[1] for prev, nxt in zip(days, days[1:]))
    assert m.previous().end == m.start and w.previous().end == w.start


def test_a_dst_day_in_berlin_is_23_hours():
    period = parse_period("day:2026-03-29", "Europe/Berlin")
    assert period.end - period.start == timedelta(hours=23)
    assert period.start == datetime(2026, 3, 28, 23, tzinfo=timezone.utc)


def test_custom_periods_take_local_or_explicit_times():
    period = parse_period("custom:2026-03-01T06:00/2026-03-02T06:00+00:00", "Europe/Berlin")
    assert period.start == datetime(2026, 3, 1, 5, tzinfo=timezone.utc)
    assert period.end == datetime(2026, 3, 2, 6, tzinfo=timezone.utc)
    assert len(period.days()) == 2


@pytest.mark.parametrize("text, message", [
    ("", "period is empty"),
    ("day:2026-02-30", "day period '2026-02-30'"),
    ("week:2026-10", "use YYYY-Www"),
    ("week:2026-W54", "week period"),
    ("month:2026-13", "use YYYY-MM"),
    ("custom:2026-03-01", "use START/END"),
    ("custom:2026-03-02/2026-03-01", "must be after its start"),
    ("custom:yesterday/today", "not an ISO 8601"),
])
def test_bad_periods_say_what_is_wrong(text, message):
    with pytest.raises(PeriodError, match=message):
        parse_period(text)


def test_an_unknown_zone_is_named():
    with pytest.raises(PeriodError, match="Mars/Olympus"):
        parse_period("day:2026-03-01", "Mars/Olympus")


@given(st.text(max_size=30))
def test_parsing_any_text_gives_a_period_or_a_period_error(text):
    try:
        period = parse_period(text)
    except PeriodError:
        return
    assert period.end > period.start


@given(st.lists(st.floats(min_value=0, max_value=5000, allow_nan=False), min_size=1, max_size=40))
def test_robust_z_ignores_order_and_never_flags_identical_values(values):
    z = robust_z(values)
    assert z.shape == (len(values),)
    assert sorted(robust_z(sorted(values))) == pytest.approx(sorted(z))
    assert outliers([values[0]] * len(values)) == []


@given(st.lists(st.floats(min_value=900, max_value=1100), min_size=6, max_size=30), st.floats(min_value=5000, max_value=1e6))
def test_one_wild_value_among_similar_ones_is_flagged(normal, wild):
    flagged = outliers([*normal, wild])
    assert len(normal) in [i for i, _ in flagged]


def _days(device: str, values: list[float]) -> list[DeviceDay]:
    start = date(2026, 3, 1)
    return [DeviceDay(device, start + timedelta(days=i), v, 0.0, None, None, None, None) for i, v in enumerate(values)]


def test_a_device_day_far_from_its_other_days_is_flagged_with_the_reason():
    days = _days("bess-a", [1500, 1480, 1520, 1510, 1490, 4200, 1505])
    (anomaly,) = daily_energy_anomalies(days)
    assert (anomaly.device_id, anomaly.day, anomaly.value) == ("bess-a", date(2026, 3, 6), 4200)
    assert anomaly.robust_z > 3.5 and anomaly.reference == 1505
    assert "4,200.0 kWh" in anomaly.reason and "above the median 1,505.0 kWh of bess-a's days" in anomaly.reason


def test_a_device_far_from_the_fleet_on_one_day_is_flagged():
    day = date(2026, 3, 1)
    days = [DeviceDay(f"bess-{i}", day, 1000.0 + i, 0.0, None, None, None, None) for i in range(6)]
    days.append(DeviceDay("bess-9", day, 10.0, 0.0, None, None, None, None))
    (anomaly,) = daily_energy_anomalies(days)
    assert anomaly.device_id == "bess-9" and anomaly.robust_z < 0 and "below" in anomaly.reason
    assert "the fleet on 2026-03-01" in anomaly.reason


def test_too_few_points_or_tiny_deviations_flag_nothing():
    assert daily_energy_anomalies(_days("bess-a", [1, 1, 900])) == []
    assert daily_energy_anomalies(_days("bess-a", [0.0, 0.0, 0.0, 0.0, 0.0, 0.4])) == []
    # A very steady unit: 5 % more one day is a large robust z but not worth a look.
    assert daily_energy_anomalies(_days("bess-a", [1000, 1000.5, 999.5, 1000.2, 999.8, 1050])) == []
