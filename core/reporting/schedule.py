"""A scheduled report: which report, daily or weekly, in which zone, to which folder, optionally e-mailed.

Due means: the newest complete period (yesterday for daily, last ISO week for weekly, in the schedule's
zone) has not been produced yet. Only that newest period is produced, never a backlog: a runtime that was
down for a month makes one report when it comes back, not thirty.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from core.analytics.period import Period, PeriodError, local_zone
from core.errors import GridRoomError

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
FORMATS = ("pdf", "csv", "json")


class ReportScheduleError(GridRoomError, ValueError):
    """A schedule definition that is wrong, naming the field."""


class Cadence(str, enum.Enum):
    DAILY = "daily"
    WEEKLY = "weekly"


@dataclass(frozen=True)
class ReportSchedule:
    name: str
    report: str
    cadence: Cadence
    folder: str  # absolute path; files are named <name>-<period label>.<format>
    run_as: str  # the user whose permissions the report runs with (who set it up)
    formats: tuple[str, ...] = ("pdf",)
    recipients: tuple[str, ...] = ()
    zone: str = "UTC"
    device_ids: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not NAME.match(self.name):
            raise ReportScheduleError(f"name {self.name!r}: use 1-64 lower-case letters, digits, '-' or '_'")
        try:
            object.__setattr__(self, "cadence", Cadence(self.cadence))
        except ValueError:
            raise ReportScheduleError(f"cadence {self.cadence!r}: use daily or weekly") from None
        if not self.folder or not Path(self.folder).is_absolute():
            raise ReportScheduleError(f"folder {self.folder!r}: give an absolute path")
        formats = tuple(f.lower().lstrip(".") for f in self.formats)
        bad = [f for f in formats if f not in FORMATS]
        if not formats or bad:
            raise ReportScheduleError(f"formats {list(self.formats)!r}: choose from {', '.join(FORMATS)}")
        object.__setattr__(self, "formats", tuple(dict.fromkeys(formats)))
        bad_mail = [r for r in self.recipients if not EMAIL.match(r)]
        if bad_mail:
            raise ReportScheduleError(f"recipients: not an e-mail address: {', '.join(map(repr, bad_mail))}")
        try:
            local_zone(self.zone)
        except PeriodError as exc:
            raise ReportScheduleError(f"zone: {exc}") from None
        if not self.run_as:
            raise ReportScheduleError("run_as: name the user the report runs as")

    def latest_complete_period(self, now: datetime) -> Period:
        """The newest period of this cadence that has ended by `now`."""
        today = now.astimezone(local_zone(self.zone)).date()
        if self.cadence is Cadence.DAILY:
            return Period.day(today - timedelta(days=1), self.zone)
        return Period.week(today - timedelta(days=7), self.zone)

    def file_path(self, period: Period, fmt: str) -> Path:
        return Path(self.folder) / f"{self.name}-{period.label()}.{fmt}"

    def to_record(self) -> dict[str, Any]:
        return {"name": self.name, "report": self.report, "cadence": self.cadence.value, "folder": self.folder,
                "run_as": self.run_as, "formats": list(self.formats), "recipients": list(self.recipients),
                "zone": self.zone, "device_ids": list(self.device_ids), "groups": list(self.groups)}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ReportSchedule:
        try:
            return cls(record["name"], record["report"], record["cadence"], record["folder"], record["run_as"],
                       tuple(record.get("formats", ("pdf",))), tuple(record.get("recipients", ())),
                       record.get("zone", "UTC"), tuple(record.get("device_ids", ())), tuple(record.get("groups", ())))
        except KeyError as exc:
            raise ReportScheduleError(f"stored schedule {record.get('name', '?')!r} lacks {exc.args[0]!r}") from None

