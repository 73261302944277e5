"""Aware UTC datetimes <-> the integer epoch milliseconds the telemetry tables store."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)
MINUTE_MS = 60_000
QUARTER_HOUR_MS = 15 * MINUTE_MS


def to_epoch_ms(value: datetime) -> int:
    """Milliseconds since the epoch, floored (exact integer arithmetic, no float rounding)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} refused: telemetry times are aware UTC")
    return (value - EPOCH) // _MS


def from_epoch_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=int(ms))


def floor_ms(ms: int, width_ms: int) -> int:
    """The start of the bucket of width_ms that holds ms."""
    return ms - ms % width_ms
