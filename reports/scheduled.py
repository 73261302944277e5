"""Producing scheduled reports: each due schedule's newest complete period is written to its folder in every
format it asks for, then e-mailed when it has recipients. The clock is injected, so tests advance a
ManualClock instead of waiting for midnight.

A failed e-mail never loses the report: the files are written first, the failure is returned and audited,
and the schedule counts as done for that period (the files are there to send by hand). A report that
could not be written (no permission, folder not writable) is not marked done and is tried again.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from core.analytics.period import Period
from core.audit.trail import AuditResult
from core.clock import Clock
from core.errors import GridRoomError
from core.notifications.channels import EmailChannel
from core.reporting.schedule import ReportSchedule
from core.reporting.store import ReportScheduleStore
from core.services import CoreServices
from reports.loaders import ReportRequest, export_report
from reports.meta import ReportError
from reports.registry import get_report

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScheduledRun:
    schedule: str
    period: Period
    files: tuple[Path, ...]
    rows: int = 0
    error: str | None = None  # the report could not be made
    email_error: str | None = None  # made, but not mailed
    emailed_to: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None and self.email_error is None


def report_email(schedule: ReportSchedule, period: Period, files: tuple[Path, ...], rows: int) -> EmailMessage:
    """The e-mail carrying a scheduled report's files as attachments."""
    title = get_report(schedule.report).title
    msg = EmailMessage()
    msg["To"] = ", ".join(schedule.recipients)
    msg["Subject"] = f"[GridRoom] {title} {period.label()}"
    msg["X-GridRoom-Report"] = schedule.report
    state = "no data in this period" if rows == 0 else f"{rows:,} rows"
    msg.set_content(f"{title} for {period.label()} ({period.zone}), {state}.\n\n"
                    f"Scheduled report {schedule.name!r}; the files are also in {schedule.folder}.\n")
    for path in files:
        kind, _ = mimetypes.guess_type(path.name)
        maintype, subtype = (kind or "application/octet-stream").split("/", 1)
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return msg


class ScheduledReportRunner:
    def __init__(self, services: CoreServices, store: ReportScheduleStore, mailer: EmailChannel | None = None,
                 clock: Clock | None = None) -> None:
        self.services = services
        self.store = store
        self.mailer = mailer
        self.mailer_problem: str | None = None  # why there is no mailer, when one is configured but unusable
        self.clock = clock or services.clock

    def due(self) -> list[tuple[ReportSchedule, Period]]:
        """Each schedule whose newest complete period has not been produced yet."""
        now = self.clock.now()
        out = []
        for schedule in self.store.schedules():
            period = schedule.latest_complete_period(now)
            done = self.store.done_until(schedule.name)
            if done is None or done < period.end:
                out.append((schedule, period))
        return out

    async def run_due(self) -> list[ScheduledRun]:
        """Produce every due report; returns what happened to each (never raises for one report's failure)."""
        return [await self.produce(schedule, period) for schedule, period in self.due()]

    async def produce(self, schedule: ReportSchedule, period: Period) -> ScheduledRun:
        try:
            files, rows = await asyncio.to_thread(self._write_files, schedule, period)
        except (GridRoomError, ReportError, OSError) as exc:
            log.error("scheduled report %s for %s failed: %s", schedule.name, period.label(), exc)
            return ScheduledRun(schedule.name, period, (), error=str(exc))
        run = ScheduledRun(schedule.name, period, files, rows)
        if schedule.recipients:
            run = await self._mail(schedule, period, run)
        self.store.mark_done(schedule.name, period.end)
        return run

    def _write_files(self, schedule: ReportSchedule, period: Period) -> tuple[tuple[Path, ...], int]:
        actor = self.store.principal_for(schedule.run_as)
        request = ReportRequest(period, schedule.device_ids, schedule.groups)
        Path(schedule.folder).mkdir(parents=True, exist_ok=True)
        exported = [export_report(self.services, actor, schedule.report, request, schedule.file_path(period, fmt))
                    for fmt in schedule.formats]
        return tuple(e.path for e in exported), exported[0].rows

    async def _mail(self, schedule: ReportSchedule, period: Period, run: ScheduledRun) -> ScheduledRun:
        if self.mailer is None:
            error = self.mailer_problem or ("no SMTP server is configured for scheduled reports: enable e-mail "
                                            "in the notification channels")
        else:
            result = await self.mailer.send_message(report_email(schedule, period, run.files, run.rows),
                                                    list(schedule.recipients))
            error = None if result.ok else result.detail
        detail = {"period": period.label(), "recipients": list(schedule.recipients),
                  "files": [p.name for p in run.files]}
        if error:
            detail["error"] = error
            log.error("scheduled report %s for %s written but not e-mailed: %s", schedule.name, period.label(), error)
        with self.services.db.session() as s:
            self.services.audit.append(s, schedule.run_as, "report_schedule.email", f"report_schedule:{schedule.name}",
                                       AuditResult.FAILURE if error else AuditResult.SUCCESS, detail,
                                       host="scheduled-reports")
        if error:
            return ScheduledRun(run.schedule, period, run.files, run.rows, email_error=error)
        return ScheduledRun(run.schedule, period, run.files, run.rows, emailed_to=schedule.recipients)
