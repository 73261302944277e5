"""Scheduled report definitions, kept in the settings file (core/settings.py) under extra["report_schedules"],
with the end of the newest period each one produced under extra["report_schedule_marks"].

The settings file rather than a table: these are a workstation's or a site server's own jobs, like its
database URL, and no migration is needed. Adding and removing need MANAGE_SETTINGS and are audited.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.audit.trail import AuditTrail
from core.auth.authorizer import Authorizer
from core.auth.principal import Principal
from core.auth.roles import Permission, Role
from core.auth.tables import UserRow
from core.errors import GridRoomError
from core.reporting.schedule import ReportSchedule, ReportScheduleError
from core.settings import Settings
from core.storage.database import Database

SCHEDULES_KEY = "report_schedules"
MARKS_KEY = "report_schedule_marks"


class ReportScheduleStore:
    def __init__(self, db: Database, audit: AuditTrail, authorizer: Authorizer, known_reports: Iterable[str],
                 settings_path: Path | None = None) -> None:
        self.db = db
        self.audit = audit
        self.authorizer = authorizer
        self.known_reports = tuple(sorted(known_reports))
        self.path = settings_path
        self._lock = threading.Lock()

    # -- file ---------------------------------------------------------------------------------------
    def _file(self) -> Path:
        return self.path or Settings.path()

    def _read(self) -> dict[str, Any]:
        path = self._file()
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise GridRoomError(f"settings file {path} is unreadable: {exc}; fix or delete it") from exc

    def _write(self, raw: dict[str, Any]) -> None:
        path = self._file()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(raw, indent=2), encoding="utf-8")
        tmp.replace(path)  # atomic: a crash never leaves half a settings file

    def _update(self, change) -> Any:
        with self._lock:
            raw = self._read()
            raw.setdefault("database_url", "")
            extra = raw.setdefault("extra", {})
            result = change(extra)
            self._write(raw)
            return result

    # -- definitions ---------------------------------------------------------------------------------
    def schedules(self) -> list[ReportSchedule]:
        """Every stored schedule, by name (system use: the runner)."""
        stored = self._read().get("extra", {}).get(SCHEDULES_KEY, {})
        return [ReportSchedule.from_record(stored[name]) for name in sorted(stored)]

    def list(self, actor: Principal) -> list[ReportSchedule]:
        self.authorizer.require(actor, Permission.VIEW_REPORTS, "report_schedules")
        return self.schedules()

    def add(self, actor: Principal, schedule: ReportSchedule) -> ReportSchedule:
        """Store a new schedule (MANAGE_SETTINGS); a name in use or an unknown report is refused, nothing changed."""
        self.authorizer.require(actor, Permission.MANAGE_SETTINGS, f"report_schedule:{schedule.name}")
        if schedule.report not in self.known_reports:
            raise ReportScheduleError(f"report {schedule.report!r}: known reports are {', '.join(self.known_reports)}")

        def change(extra: dict) -> None:
            stored = extra.setdefault(SCHEDULES_KEY, {})
            if schedule.name in stored:
                raise ReportScheduleError(f"name {schedule.name!r}: a schedule by that name exists; remove it first")
            stored[schedule.name] = schedule.to_record()

        self._update(change)
        self._audit(actor, "report_schedule.add", schedule.name, schedule.to_record())
        return schedule

    def remove(self, actor: Principal, name: str) -> None:
        self.authorizer.require(actor, Permission.MANAGE_SETTINGS, f"report_schedule:{name}")

        def change(extra: dict) -> None:
            if name not in extra.get(SCHEDULES_KEY, {}):
                raise ReportScheduleError(f"no report schedule named {name!r}")
            del extra[SCHEDULES_KEY][name]
            extra.get(MARKS_KEY, {}).pop(name, None)

        self._update(change)
        self._audit(actor, "report_schedule.remove", name, {})

    # -- marks ----------------------------------------------------------------------------------------
    def done_until(self, name: str) -> datetime | None:
        value = self._read().get("extra", {}).get(MARKS_KEY, {}).get(name)
        return datetime.fromisoformat(value) if value else None

    def mark_done(self, name: str, until: datetime) -> None:
        self._update(lambda extra: extra.setdefault(MARKS_KEY, {}).__setitem__(name, until.isoformat()))

    # -- who runs it -------------------------------------------------------------------------------
    def principal_for(self, username: str) -> Principal:
        """The schedule's user as a principal: the Authorizer re-reads role and status on every check, so a
        deactivated user's schedules stop producing (and say why)."""
        with self.db.session() as s:
            user = s.execute(select(UserRow).where(UserRow.username == username)).scalar_one_or_none()
            if user is None:
                raise ReportScheduleError(f"run_as: no user named {username!r}")
            return Principal(user.id, user.username, Role(user.role), host="scheduled-reports")

    def _audit(self, actor: Principal, action: str, name: str, detail: dict) -> None:
        with self.db.session() as s:
            self.audit.append(s, actor, action, f"report_schedule:{name}", detail=detail)
