"""Report and analytics periods: a day, an ISO week, a calendar month, or a custom range, in a local zone.

Periods are calendar periods of the operator's zone (a "day" in Berlin starts at local midnight), turned into
aware UTC bounds [start, end) for the queries. Local days are kept as their UTC bounds too, so a day that
DST shortens to 23 hours is still one day.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import GridRoomError


class PeriodError(GridRoomError, ValueError):
    """A period that cannot be read or makes no sense (end before start, unknown zone)."""


class PeriodKind(str, enum.Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    CUSTOM = "custom"


def local_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PeriodError(f"unknown time zone {name!r}") from exc


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant of local midnight at the start of `day` in `zone`."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)


@dataclass(frozen=True)
class Period:
    """[start, end) in aware UTC, what kind of period it is, and the zone its calendar days belong to."""

    kind: PeriodKind
    start: datetime
    end: datetime
    zone: str = "UTC"

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, datetime) or value.utcoffset() is None:
                raise PeriodError(f"period {name} must be a timezone-aware datetime, got {value!r}")
            object.__setattr__(self, name, value.astimezone(timezone.utc))
        if self.end <= self.start:
            raise PeriodError(f"period end {self.end.isoformat()} must be after its start {self.start.isoformat()}")
        local_zone(self.zone)

    @classmethod
    def day(cls, day: date, zone: str = "UTC") -> Period:
        z = local_zone(zone)
        return cls(PeriodKind.DAY, local_midnight(day, z), local_midnight(day + timedelta(days=1), z), zone)

    @classmethod
    def week(cls, any_day: date, zone: str = "UTC") -> Period:
        """The ISO week (Monday to Monday) holding `any_day`."""
        z = local_zone(zone)
        monday = any_day - timedelta(days=any_day.weekday())
        return cls(PeriodKind.WEEK, local_midnight(monday, z), local_midnight(monday + timedelta(days=7), z), zone)

    @classmethod
    def month(cls, year: int, month: int, zone: str = "UTC") -> Period:
        z = local_zone(zone)
        first = date(year, month, 1)
        following = date(year + (month == 12), month % 12 + 1, 1)
        return cls(PeriodKind.MONTH, local_midnight(first, z), local_midnight(following, z), zone)

    @classmethod
    def custom(cls, start: datetime, end: datetime, zone: str = "UTC") -> Period:
        return cls(PeriodKind.CUSTOM, start, end, zone)

    def days(self) -> list[tuple[date, datetime, datetime]]:
        """The local calendar days the period touches, each with its UTC bounds clipped to the period."""
        z = local_zone(self.zone)
        out = []
        day = self.start.astimezone(z).date()
        while True:
            lo, hi = local_midnight(day, z), local_midnight(day + timedelta(days=1), z)
            if lo >= self.end:
                break
            out.append((day, max(lo, self.start), min(hi, self.end)))
            day += timedelta(days=1)
        return out

    def previous(self) -> Period:
        """The period of the same kind just before this one (a custom period: the same length)."""
        z = local_zone(self.zone)
        first = self.start.astimezone(z).date()
        if self.kind is PeriodKind.DAY:
            return Period.day(first - timedelta(days=1), self.zone)
        if self.kind is PeriodKind.WEEK:
            return Period.week(first - timedelta(days=7), self.zone)
        if self.kind is PeriodKind.MONTH:
            before = first - timedelta(days=1)
            return Period.month(before.year, before.month, self.zone)
        return Period.custom(self.start - (self.end - self.start), self.start, self.zone)

    def label(self) -> str:
        z = local_zone(self.zone)
        first = self.start.astimezone(z)
        if self.kind is PeriodKind.DAY:
            return first.strftime("%Y-%m-%d")
        if self.kind is PeriodKind.WEEK:
            year, week, _ = first.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind is PeriodKind.MONTH:
            return first.strftime("%Y-%m")
        return f"{first:%Y-%m-%d %H:%M} to {self.end.astimezone(z):%Y-%m-%d %H:%M}"


_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _parse_instant(text: str, zone: ZoneInfo, what: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"{what}: {text!r} is not an ISO 8601 date or time") from None
    return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(timezone.utc)


def parse_period(text: str, zone: str = "UTC") -> Period:
    """Read a period as operators type it.

    - ``day:2026-03-01`` (or just ``2026-03-01``), ``week:2026-W10``, ``month:2026-03``
    - ``custom:2026-03-01T06:00/2026-03-02T06:00`` (times without an offset are local to `zone`)
    """
    if not isinstance(text, str) or not text.strip():
        raise PeriodError("period is empty: use day:YYYY-MM-DD, week:YYYY-Www, month:YYYY-MM or custom:START/END")
    z = local_zone(zone)
    kind, sep, value = text.strip().partition(":")
    if not sep or kind.lower() not in {k.value for k in PeriodKind}:
        kind, value = "day", text.strip()
    kind = kind.lower()
    value = value.strip()
    try:
        if kind == "day":
            return Period.day(date.fromisoformat(value), zone)
        if kind == "week":
            m = _WEEK.match(value)
            if not m:
                raise PeriodError(f"week {value!r}: use YYYY-Www, e.g. 2026-W10")
            return Period.week(date.fromisocalendar(int(m[1]), int(m[2]), 1), zone)
        if kind == "month":
            m = _MONTH.match(value)
            if not m or not 1 <= int(m[2]) <= 12:
                raise PeriodError(f"month {value!r}: use YYYY-MM, e.g. 2026-03")
            return Period.month(int(m[1]), int(m[2]), zone)
        start_text, slash, end_text = value.partition("/")
        if not slash:
            raise PeriodError(f"custom period {value!r}: use START/END, e.g. 2026-03-01T06:00/2026-03-02T06:00")
        return Period.custom(_parse_instant(start_text, z, "custom period start"),
                             _parse_instant(end_text, z, "custom period end"), zone)
    except PeriodError:
        raise
    except ValueError as exc:  # date.fromisoformat / fromisocalendar / datetime range
        raise PeriodError(f"{kind} period {value!r}: {exc}") from None
