"""Scheduled reports inside the runtime: once a minute, produce the reports that are due.

The SMTP server for report e-mails is in the settings file under extra["report_smtp"] (host, port, sender,
starttls, use_tls, username); its password, if any, in the keyring under REPORT_SMTP_SECRET. Without it,
reports are still written and the missing e-mail is reported.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from core.errors import GridRoomError
from core.notifications.channels import EmailChannel
from core.reporting import ReportScheduleStore
from core.services import CoreServices
from core.settings import Settings
from reports.registry import report_names
from reports.scheduled import ScheduledReportRunner, ScheduledRun

log = logging.getLogger(__name__)
REPORT_SMTP_SECRET = "smtp:reports"
CHECK_INTERVAL_S = 60.0


def report_mailer(services: CoreServices, settings: Settings | None = None) -> EmailChannel | None:
    """The SMTP channel for report e-mails from the settings, or None when none is configured."""
    smtp = (settings or Settings.load()).extra.get("report_smtp")
    if not smtp:
        return None
    password = services.secrets.get(REPORT_SMTP_SECRET) if smtp.get("username") else None
    return EmailChannel(smtp["host"], int(smtp["port"]), smtp["sender"], {}, username=smtp.get("username"),
                        password=password, starttls=bool(smtp.get("starttls")), use_tls=bool(smtp.get("use_tls")),
                        clock=services.clock, name="report-email")


class ScheduledReportsService:
    """A runtime service: checks for due reports at start and every CHECK_INTERVAL_S after."""

    name = "scheduled-reports"

    def __init__(self, services: CoreServices, settings_path: Path | None = None,
                 mailer: EmailChannel | None = None, interval_s: float = CHECK_INTERVAL_S) -> None:
        self.store = ReportScheduleStore(services.db, services.audit, services.authorizer, report_names(), settings_path)
        self.runner = ScheduledReportRunner(services, self.store, mailer)
        self._services = services
        self._mailer_given = mailer is not None
        self.interval_s = interval_s
        self._task: asyncio.Task | None = None

    async def start(self, runtime) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def tick(self) -> list[ScheduledRun]:
        """One check: produce what is due now (the SMTP settings are re-read, so edits apply without a restart)."""
        if not self._mailer_given:
            try:
                self.runner.mailer = report_mailer(self._services)
            except (GridRoomError, KeyError, ValueError) as exc:
                log.error("report e-mail settings are unusable: %s", exc)
                self.runner.mailer = None
        return await self.runner.run_due()

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # one bad tick (an unreadable settings file) must not end scheduled reports
                log.exception("scheduled reports check failed")
            await asyncio.sleep(self.interval_s)
