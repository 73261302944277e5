"""How schedule values are written in messages: one place, so every message reads the same way."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from core.schedules.model import ScheduleEntry


def _clock(value: datetime) -> str:
    # Seconds only when they matter, so the common whole-minute entries stay short.
    if value.microsecond:
        return value.strftime("%H:%M:%S.%f")
    if value.second:
        return value.strftime("%H:%M:%S")
    return value.strftime("%H:%M")


def format_utc(value: datetime, *, to_minute: bool = False) -> str:
    """'2026-11-23 14:00 UTC' for an aware time (converted to UTC); the raw ISO text for a naive one.

    to_minute rounds to the nearest minute, for computed times (an SoC crossing) whose seconds are noise.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        return value.isoformat()
    value = value.astimezone(timezone.utc)
    if to_minute:
        value = (value + timedelta(seconds=30)).replace(second=0, microsecond=0)
    return f"{value:%Y-%m-%d} {_clock(value)} UTC"


def describe_entry(index: int, entry: ScheduleEntry) -> str:
    """'entry 3 (2026-11-23 14:00-15:00 UTC)': the 1-based index and times, as the operator sees them."""
    start, end = entry.start, entry.end
    if any(t.tzinfo is None or t.utcoffset() is None for t in (start, end)):
        return f"entry {index} ({start.isoformat()} - {end.isoformat()})"
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    if start.date() == end.date():
        return f"entry {index} ({start:%Y-%m-%d} {_clock(start)}-{_clock(end)} UTC)"
    return f"entry {index} ({start:%Y-%m-%d} {_clock(start)} - {end:%Y-%m-%d} {_clock(end)} UTC)"


def format_kw(value: float) -> str:
    """250 -> '250', 12.5 -> '12.5', 0.0001 -> '0.0001': no spurious decimals, no exponent for normal rates."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text not in ("0", "-0") else f"{value:.3g}"


def format_pct(value: float) -> str:
    """A percentage with one decimal at most ('104.2', '95'), which is as precise as an SoC estimate gets."""
    return f"{value:.1f}".removesuffix(".0")


def format_offset(value: datetime) -> str:
    """The UTC offset of an aware time as '+01:00' (the ISO 8601 form operators type)."""
    offset = value.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = int(abs(offset).total_seconds() // 60)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
