"""Scheduled reports inside the runtime: once a minute, produce the reports that are due.

Report e-mails go through the notification e-mail channel the admin set up (File > Notification channels, or
NotificationSetupService): the same SMTP host, port, sender, user and TLS, and the same SMTP password in the
keyring. There is no second SMTP configuration for reports. With e-mail not enabled there, reports are still
written and the missing e-mail is reported.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from core.auth.principal import SYSTEM
from core.errors import GridRoomError
from core.notifications.assembly import email_channel
from core.notifications.channel_settings import NotificationSetupService
from core.notifications.channels import EmailChannel
from core.reporting import ReportScheduleStore
from core.services import CoreServices
from reports.registry import report_names
from reports.scheduled import ScheduledReportRunner, ScheduledRun

log = logging.getLogger(__name__)
CHECK_INTERVAL_S = 60.0


def report_mailer(services: CoreServices) -> EmailChannel | None:
    """The notification SMTP channel for report e-mails, or None when the admin has not enabled e-mail.

    Raises NotificationConfigError (or KeyringUnavailable) when e-mail is enabled but unusable, e.g. a user
    is set and its password is not in the keyring."""
    setup = NotificationSetupService(services.db, services.audit, services.authorizer, services.clock,
                                     services.secrets)
    settings = setup.load(SYSTEM).email
    if not settings.enabled:
        return None
    # Recipients come from the schedule, never from user look-ups: the address book stays empty.
    return email_channel(settings, setup.secret, lambda _user: (), clock=services.clock, name="report-email")


class ScheduledReportsService:
    """A runtime service: checks for due reports at start and every CHECK_INTERVAL_S after."""

    name = "scheduled-reports"

    def __init__(self, services: CoreServices, settings_path: Path | None = None,
                 mailer: EmailChannel | None = None, interval_s: float = CHECK_INTERVAL_S) -> None:
        """`mailer` fixes the e-mail channel (tests); without it each tick builds it from the notification set-up."""
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
        """One check: produce what is due now (the notification SMTP settings are re-read, so an admin's edit
        applies without a restart)."""
        if not self._mailer_given:
            try:
                self.runner.mailer = await asyncio.to_thread(report_mailer, self._services)
                self.runner.mailer_problem = None
            except GridRoomError as exc:  # e-mail enabled but unusable (no password in the keyring...)
                log.error("the notification e-mail channel is unusable for reports: %s", exc)
                self.runner.mailer = None
                self.runner.mailer_problem = f"the notification e-mail channel is unusable: {exc}"
        return await self.runner.run_due()

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # one bad tick (an unreadable settings file) must not end scheduled reports
                log.exception("scheduled reports check failed")
            await asyncio.sleep(self.interval_s)
