"""What every report carries about itself: the period (aware UTC), who made it and when, and the local zone
the page shows times in. Data stays in UTC; only the page converts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ReportError(ValueError):
    """Report input that cannot make a truthful report (naive times, unknown zone, unknown report)."""


def _require_utc(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ReportError(f"{what} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(timezone.utc)


def require_utc(value: datetime, what: str = "datetime") -> datetime:
    """`value` in UTC; naive datetimes are refused because their meaning is ambiguous."""
    return _require_utc(value, what)


def zone(name: str) -> tzinfo:
    """The IANA zone `name` (e.g. "Europe/Berlin"); ReportError when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ReportError(f"unknown time zone {name!r}") from exc


@dataclass(frozen=True)
class ReportMeta:
    """Period [period_start, period_end) in UTC, provenance, and the zone used for local times on the page."""

    period_start: datetime
    period_end: datetime
    generated_at: datetime
    generated_by: str
    local_zone: str = "UTC"

    def __post_init__(self) -> None:
        for name in ("period_start", "period_end", "generated_at"):
            object.__setattr__(self, name, _require_utc(getattr(self, name), name))
        if self.period_end < self.period_start:
            raise ReportError("period_end must not be before period_start")
        zone(self.local_zone)

    def to_record(self) -> dict[str, str]:
        """The header of JSON exports (ISO 8601 UTC)."""
        return {
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "generated_at": self.generated_at.isoformat(),
            "generated_by": self.generated_by,
            "local_zone": self.local_zone,
        }


def format_utc(value: datetime, seconds: bool = False) -> str:
    """'2026-03-01 09:15 UTC'."""
    return require_utc(value).strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def format_local(value: datetime, zone_name: str, seconds: bool = False, offset: bool = True) -> str:
    """'2026-03-01 10:15 +01:00' in `zone_name`; the offset keeps a printed local time unambiguous (DST)."""
    local = require_utc(value).astimezone(zone(zone_name))
    text = local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    if offset:
        raw = local.strftime("%z")
        text += f" {raw[:3]}:{raw[3:]}"
    return text
