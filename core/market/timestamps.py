"""Reading timestamps from files and turning local wall-clock times into UTC across DST changes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

_MONTHS = {m: i + 1 for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}
# '26mar2022 00:00:00' as written by Stata and some exchange exports; month names are parsed here,
# not with strptime('%b'), whose month names depend on the machine's locale.
_DAY_MON_YEAR = re.compile(r"^(\d{1,2})([A-Za-z]{3})(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")


def parse_timestamp(text: str) -> datetime | None:
    """Parse one timestamp; aware when the text carries 'Z' or an offset, naive otherwise. None if unreadable.

    Accepted: ISO 8601 ('2022-03-27T01:00:00Z', '2022-03-27 03:00+02:00', '2022-03-27 03:00')
    and day-month-name-year ('27mar2022 03:00:00').
    """
    text = text.strip()
    if not text or len(text) > 40:
        return None
    match = _DAY_MON_YEAR.match(text)
    if match:
        day, mon, year, hour, minute, second = match.groups()
        month = _MONTHS.get(mon.lower())
        if month is None:
            return None
        try:
            return datetime(int(year), month, int(day), int(hour), int(minute), int(second or 0))
        except ValueError:
            return None
    if not text[:4].isdigit():
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class LocalTimeProblem:
    """Why a local time could not be placed: 'nonexistent' (spring-forward gap) or 'repeated' (3rd time)."""

    kind: str
    message: str


class WallClockLocalizer:
    """Places naive local wall-clock times of one zone on the UTC axis, in file order.

    In the autumn the clock shows the same hour twice. A file lists it twice without saying which is
    which; the rule is order: the first occurrence is still summer time (fold=0), the second is winter
    time (fold=1). A third occurrence cannot be placed. Spring-forward times do not exist at all.
    """

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)
        self._seen_ambiguous: dict[datetime, int] = {}

    def is_nonexistent(self, wall: datetime) -> bool:
        """True for a wall time skipped by a spring-forward change (e.g. 02:30 on the last Sunday of March)."""
        aware = wall.replace(tzinfo=self.zone)
        round_trip = aware.astimezone(timezone.utc).astimezone(self.zone).replace(tzinfo=None)
        return round_trip != wall

    def is_ambiguous(self, wall: datetime) -> bool:
        """True for a wall time that the autumn change shows twice."""
        first = wall.replace(tzinfo=self.zone, fold=0).utcoffset()
        second = wall.replace(tzinfo=self.zone, fold=1).utcoffset()
        return first != second and not self.is_nonexistent(wall)

    def to_utc(self, wall: datetime) -> tuple[datetime | None, LocalTimeProblem | None, bool]:
        """Return (utc, problem, was_ambiguous). Exactly one of utc and problem is None."""
        if self.is_nonexistent(wall):
            return None, LocalTimeProblem(
                "nonexistent", f"local time {wall.isoformat()} does not exist in {self.zone.key} (clocks moved forward)"
            ), False
        if self.is_ambiguous(wall):
            count = self._seen_ambiguous.get(wall, 0)
            self._seen_ambiguous[wall] = count + 1
            if count >= 2:
                return None, LocalTimeProblem(
                    "repeated", f"local time {wall.isoformat()} appears more than twice in {self.zone.key}"
                ), True
            aware = wall.replace(tzinfo=self.zone, fold=count)
            return aware.astimezone(timezone.utc), None, True
        return wall.replace(tzinfo=self.zone).astimezone(timezone.utc), None, False


def utc_offset_seconds(starts_utc_seconds, zone: str):
    """UTC offset in seconds of `zone` at each UTC instant (numpy int64 seconds in, int64 array out).

    Works per distinct hour so that 100,000 rows of the same day cost 24 zoneinfo look-ups, not 100,000.
    """
    import numpy as np

    seconds = np.asarray(starts_utc_seconds, dtype=np.int64)
    if zone in ("UTC", "Etc/UTC"):
        return np.zeros_like(seconds)
    tz = ZoneInfo(zone)
    # DST changes happen on whole hours (all zones GridRoom serves), so the offset is constant per hour.
    hours, inverse = np.unique(seconds // 3600, return_inverse=True)
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    offsets = np.array([
        int((epoch + timedelta(hours=int(h))).astimezone(tz).utcoffset().total_seconds()) for h in hours
    ], dtype=np.int64)
    return offsets[inverse].reshape(seconds.shape)
