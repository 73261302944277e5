"""Scheduled reports driven by a ManualClock (never sleeping), e-mailed through a real aiosmtpd server:
due periods, files in the folder, attachments, no backlog, and failures that keep the files and say why."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from core.audit.trail import AuditFilter
from core.auth.roles import Role
from core.market.service import MarketDataService
from core.notifications.channel_settings import EmailSettings, NotificationSetupService
from core.notifications.channels import EmailChannel
from core.reporting import ReportSchedule, ReportScheduleStore
from gridroom.report_runtime import ScheduledReportsService
from reports.registry import report_names
from reports.scheduled import ScheduledReportRunner
from tests.core.notifications.receivers import RecordingSmtpHandler, free_port
from tests.reports.pdf_checks import csv_rows, pdf_text
from tests.support.analytics_seed import seed_fleet_history
from tests.support.receiver_fixtures import smtp_server  # noqa: F401  (pytest fixtures)

STRONG = "Correct-Horse-42"
PRICE_FILE = Path(__file__).parents[1] / "fixtures" / "timeseries" / "analytics_prices_2026-03-02.csv"


@pytest.fixture
def world(sqlite_services, clock, tmp_path):
    services = sqlite_services
    services.users.create_first_admin("chief", STRONG)
    admin = services.users.authenticate("chief", STRONG)
    seed_fleet_history(services.db)
    store = ReportScheduleStore(services.db, services.audit, services.authorizer, report_names(),
                                tmp_path / "settings.json")
    clock.advance(datetime(2026, 3, 3, 0, 30, tzinfo=timezone.utc) - clock.now())  # 00:30 on 3 March
    return services, admin, store


def _mailer(port: int, clock) -> EmailChannel:
    return EmailChannel("127.0.0.1", port, "gridroom@example.org", {}, clock=clock, timeout_s=5)


def _daily(tmp_path, **changes) -> ReportSchedule:
    fields = dict(name="ops-daily", report="analytics", cadence="daily", folder=str(tmp_path / "out"), run_as="chief",
                  formats=("pdf", "csv"), recipients=("ops@example.org", "lead@example.org"))
    return ReportSchedule(**{**fields, **changes})


@pytest.mark.asyncio
async def test_a_due_daily_report_is_written_and_mailed_once(world, clock, smtp_server, tmp_path):
    services, admin, store = world
    store.add(admin, _daily(tmp_path))
    runner = ScheduledReportRunner(services, store, _mailer(smtp_server.port, clock), clock)

    (run,) = await runner.run_due()
    assert run.ok and run.period.label() == "2026-03-02" and run.emailed_to == ("ops@example.org", "lead@example.org")
    pdf, csv = run.files
    assert pdf == tmp_path / "out" / "ops-daily-2026-03-02.pdf" and csv.suffix == ".csv"
    assert "bess-a" in pdf_text(pdf) and "90.0 kWh" in pdf_text(pdf)  # day 1: 60 + 30 kWh charged
    assert {r["device_id"] for r in csv_rows(csv)} == {"bess-a", "bess-b"}
    recipients, message = await smtp_server.next_message()
    assert sorted(recipients) == ["lead@example.org", "ops@example.org"]
    assert message["Subject"] == "[GridRoom] Energy and availability 2026-03-02"
    attachments = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert set(attachments) == {"ops-daily-2026-03-02.pdf", "ops-daily-2026-03-02.csv"}
    assert attachments["ops-daily-2026-03-02.pdf"] == pdf.read_bytes()

    assert await runner.run_due() == []  # done for that day
    clock.advance(timedelta(hours=23))  # 23:30 on 3 March: that day is not over
    assert await runner.run_due() == []
    clock.advance(timedelta(hours=1))
    (run,) = await runner.run_due()
    assert run.period.label() == "2026-03-03"
    await smtp_server.next_message()
    with services.db.session() as s:
        exports = services.audit.query(s, AuditFilter(action="report.export"))
        mails = services.audit.query(s, AuditFilter(action="report_schedule.email"))
    assert len(exports) == 4 and {e.username for e in exports} == {"chief"}
    assert [m.result for m in mails] == ["success", "success"]


@pytest.mark.asyncio
async def test_a_scheduled_analytics_report_prices_from_the_stored_day_ahead_series(world, clock, tmp_path):
    services, admin, store = world
    market = MarketDataService(services.db, services.audit, services.authorizer, clock)
    assert market.import_file(admin, PRICE_FILE).ok
    store.add(admin, _daily(tmp_path, recipients=(), formats=("pdf", "json")))
    (run,) = await ScheduledReportRunner(services, store, None, clock).run_due()
    assert run.ok and run.period.label() == "2026-03-02"
    # 2 March: 90 kWh charged at 00:00 (80 EUR/MWh), 50 kWh discharged at 12:00 (250 EUR/MWh).
    text = " ".join(pdf_text(run.files[0]).split())
    assert "7.20 EUR" in text and "12.50 EUR" in text and "stored day-ahead price series 'price'" in text
    doc = json.loads(run.files[1].read_text())
    assert doc["priced"] and doc["totals"]["cost"] == pytest.approx(7.2) and doc["totals"]["revenue"] == pytest.approx(12.5)


@pytest.mark.asyncio
async def test_no_backlog_after_downtime_and_weekly_periods(world, clock, tmp_path):
    services, admin, store = world
    store.add(admin, _daily(tmp_path, name="weekly", cadence="weekly", recipients=(), formats=("json",)))
    clock.advance(timedelta(days=20))  # 23 March 2026, a Monday: the newest whole week is 16-22 March
    runner = ScheduledReportRunner(services, store, None, clock)
    (run,) = await runner.run_due()
    assert run.ok and run.period.label() == "2026-W12" and run.files[0].name == "weekly-2026-W12.json"
    assert await runner.run_due() == []


@pytest.mark.asyncio
async def test_a_failed_email_keeps_the_file_and_says_why(world, clock, tmp_path):
    services, admin, store = world
    store.add(admin, _daily(tmp_path, formats=("pdf",)))
    runner = ScheduledReportRunner(services, store, _mailer(free_port(), clock), clock)  # nothing listens there
    (run,) = await runner.run_due()
    assert not run.ok and run.error is None and "unreachable" in run.email_error
    assert run.files[0].exists() and run.files[0].read_bytes().startswith(b"%PDF")
    with services.db.session() as s:
        (mail,) = services.audit.query(s, AuditFilter(action="report_schedule.email"))
    assert mail.result == "failure" and "unreachable" in mail.detail["error"]
    assert await runner.run_due() == []  # the file is there: not made again every minute

    store.remove(admin, "ops-daily")
    store.add(admin, _daily(tmp_path, name="no-smtp", formats=("pdf",)))
    (run,) = await ScheduledReportRunner(services, store, None, clock).run_due()
    assert run.files[0].exists() and "no SMTP server is configured" in run.email_error


@pytest.mark.asyncio
async def test_a_report_that_cannot_be_made_is_reported_and_retried(world, clock, tmp_path):
    services, admin, store = world
    services.users.create_user(admin, "vic", Role.VIEWER, STRONG)
    store.add(admin, _daily(tmp_path, run_as="vic", recipients=()))
    runner = ScheduledReportRunner(services, store, None, clock)
    (run,) = await runner.run_due()
    assert run.error and "new password" in run.error and run.files == ()  # vic never replaced the temporary one
    assert not (tmp_path / "out" / "ops-daily-2026-03-02.pdf").exists()
    assert len(runner.due()) == 1  # tried again next time


@pytest_asyncio.fixture
async def login_smtp_server():
    """An SMTP server that records each AUTH login (plain text: a local test relay; a wrong password is refused)."""
    handler = RecordingSmtpHandler(asyncio.get_running_loop())
    handler.logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        handler.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"mailer", b"s3cret"))

    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


@pytest.mark.asyncio
async def test_report_email_goes_through_the_notification_smtp_channel(world, clock, login_smtp_server, tmp_path):
    services, admin, store = world
    store.add(admin, _daily(tmp_path, formats=("csv",)))
    setup = NotificationSetupService(services.db, services.audit, services.authorizer, clock, services.secrets)
    service = ScheduledReportsService(services, tmp_path / "settings.json")  # no mailer given: the admin's set-up

    (run,) = await service.tick()  # e-mail not enabled in the notification channels yet
    assert run.files[0].exists() and "enable e-mail in the notification channels" in run.email_error

    email = EmailSettings(enabled=True, host="127.0.0.1", port=login_smtp_server.port, sender="alarms@example.org",
                          username="mailer", security="none")
    setup.save_channel(admin, email, secret="s3cret")  # the one SMTP configuration, password to the keyring
    clock.advance(timedelta(days=1))
    (run,) = await service.tick()
    assert run.ok and run.emailed_to == ("ops@example.org", "lead@example.org")
    recipients, message = await login_smtp_server.next_message()
    assert message["From"] == "alarms@example.org" and message["X-GridRoom-Report"] == "analytics"
    assert login_smtp_server.logins == [(b"mailer", b"s3cret")]

    setup.save_channel(admin, email, secret="")  # a user without a stored password: unusable, and said so
    clock.advance(timedelta(days=1))
    (run,) = await service.tick()
    assert "no SMTP password stored for user 'mailer'" in run.email_error
    assert login_smtp_server.received.empty()


def test_schedule_definitions_are_checked_field_by_field(tmp_path):
    from core.reporting import ReportScheduleError

    for changes, message in [({"name": "Ops Daily"}, "name 'Ops Daily'"), ({"cadence": "hourly"}, "cadence 'hourly'"),
                             ({"folder": "relative/out"}, "absolute path"), ({"formats": ("docx",)}, "formats"),
                             ({"recipients": ("ops at example",)}, "not an e-mail address"),
                             ({"zone": "Mars/Base"}, "zone")]:
        with pytest.raises(ReportScheduleError, match=message):
            _daily(tmp_path, **changes)
    schedule = _daily(tmp_path)
    assert ReportSchedule.from_record(schedule.to_record()) == schedule
