"""Small builders and hypothesis strategies shared by the schedule tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

from core.schedules.model import DeviceLimits, Mode, ScheduleEntry

UTC = timezone.utc
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def at(hour: float, day: int = 23) -> datetime:
    """2026-11-<day> at `hour` (fractional hours allowed), UTC."""
    return datetime(2026, 11, day, tzinfo=UTC) + timedelta(hours=hour)


def entry(start_h: float, end_h: float, mode: int = Mode.CHARGE, rate_kw: float = 100.0, day: int = 23) -> ScheduleEntry:
    return ScheduleEntry(at(start_h, day), at(end_h, day), mode, rate_kw)


def limits(**overrides) -> DeviceLimits:
    values = dict(device_id="bess-0007", capacity_kwh=1000.0, max_charge_kw=200.0, max_discharge_kw=250.0,
                  soc_min_pct=10.0, soc_max_pct=90.0, charge_efficiency=1.0, discharge_efficiency=1.0,
                  current_soc_pct=50.0)
    values.update(overrides)
    return DeviceLimits(**values)


# Times on a microsecond grid, so exact round-trips are tested at full precision.
utc_times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
rates = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False)
modes = st.sampled_from([Mode.DISCHARGE, Mode.CHARGE])


@st.composite
def valid_entry_lists(draw, max_size: int = 12) -> list[ScheduleEntry]:
    """Sorted, non-overlapping entries (gaps allowed) with arbitrary microsecond times, modes and rates."""
    start = draw(utc_times)
    out = []
    for _ in range(draw(st.integers(0, max_size))):
        start += timedelta(microseconds=draw(st.integers(0, 10**10)))
        end = start + timedelta(microseconds=draw(st.integers(1, 10**10)))
        out.append(ScheduleEntry(start, end, draw(modes), draw(rates)))
        start = end
    return out
