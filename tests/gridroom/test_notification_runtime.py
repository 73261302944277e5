"""Notifications wired into the runtime, end to end: the real alarm engine, a ManualClock, a real SMTP
server (aiosmtpd) and a real local HTTP receiver. A critical alarm left unacknowledged for N minutes
goes to the next channel; acknowledging stops the chain; users only hear of priorities they chose; a
dead SMTP server never holds up the engine, and the failure is stored and published."""

from __future__ import annotations

import asyncio
import socket
import threading
from datetime import timedelta

import pytest

from core.alarms import CommandFailed
from core.alarms.escalation import Channel
from core.alarms.inputs import AckLatencyHigh
from core.alarms.messages import AcknowledgeAlarms
from core.alarms.priorities import Priority
from core.alarms.rules import EventKind, EventRule
from core.auth.roles import Role
from core.fleet.live_state import LiveState
from core.notifications.channel_settings import EmailSettings, NotificationSetupService, SlackSettings
from core.notifications.dispatcher import RetryPolicy
from core.notifications.preferences import TEAM_RECIPIENT, NotificationPreferenceService, UserNotificationSettings
from core.notifications.runtime_messages import EscalateNow, NotificationFailurePublished, QueryNotificationLog
from core.runtime.runtime import Runtime
from gridroom.alarm_runtime import AlarmRuntimeService
from gridroom.notification_runtime import NotificationRuntimeService
from tests.core.notifications.receivers import WAIT_S
from tests.support.receiver_fixtures import http_receiver, smtp_server  # noqa: F401  (pytest fixtures)

pytestmark = pytest.mark.asyncio
STRONG = "Correct-Horse-42"
RULES = (EventRule("command_failed", EventKind.COMMAND_FAILED, Priority.CRITICAL, hold_s=3600.0),
         EventRule("ack_latency_high", EventKind.ACK_LATENCY_HIGH, Priority.WARNING, hold_s=3600.0))


class Blackhole:
    """A TCP server that accepts and then says nothing: an SMTP server hung before its greeting."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.connected = threading.Event()
        self.conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        self.conns.append(conn)
        self.connected.set()

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.sock.close()
        self._thread.join(WAIT_S)


class Stack:
    """Users, set-up and a running runtime with the alarm and notification services."""

    def __init__(self, services, clock) -> None:
        self.services, self.clock = services, clock
        services.users.create_first_admin("chief", STRONG, "Chief")
        self.admin = services.users.authenticate("chief", STRONG, host="t")
        self.setup = NotificationSetupService(services.db, services.audit, services.authorizer, clock,
                                              services.secrets)
        self.prefs = NotificationPreferenceService(services.db, services.audit, services.authorizer, clock)
        self.runtime: Runtime | None = None

    def user(self, name: str, **prefs):
        self.services.users.create_user(self.admin, name, Role.OPERATOR, "Temporary-Pass-7", name.title())
        first = self.services.users.authenticate(name, "Temporary-Pass-7", host="t")
        self.services.users.change_password(first, "Temporary-Pass-7", STRONG)
        principal = self.services.users.authenticate(name, STRONG, host="t")
        self.prefs.save(principal, UserNotificationSettings(name, **prefs))
        return principal

    def start(self, **kwargs):
        self.alarm_service = AlarmRuntimeService(self.services, LiveState(), rules=RULES)
        self.notify = NotificationRuntimeService(self.services, self.alarm_service.alarms, check_every_s=3600,
                                                 **kwargs)
        loop = asyncio.get_running_loop()
        self.desktop: asyncio.Queue = asyncio.Queue()
        self.logged: asyncio.Queue = asyncio.Queue()
        self.notify.desktop_listeners.append(lambda n: loop.call_soon_threadsafe(self.desktop.put_nowait, n))
        self.notify.log_listeners.append(lambda a: loop.call_soon_threadsafe(self.logged.put_nowait, a))
        self.runtime = Runtime(self.clock, heartbeat_s=3600)
        self.runtime.add_service(self.alarm_service)
        self.runtime.add_service(self.notify)
        self.runtime.start()

    async def ask(self, message):
        return await asyncio.wrap_future(self.runtime.submit(message))

    async def logged_until(self, predicate):
        """Stored attempts, collected until `predicate(all so far)` holds."""
        seen = []
        while not predicate(seen):
            seen.extend(await asyncio.wait_for(self.logged.get(), WAIT_S))
        return seen

    def stop(self):
        if self.runtime is not None:
            self.runtime.stop()


@pytest.fixture
def stack(sqlite_services, clock, memory_keyring):
    s = Stack(sqlite_services, clock)
    yield s
    s.stop()


async def test_critical_alarm_escalates_to_email_after_five_minutes_and_ack_stops_the_webhook(
        stack, clock, smtp_server, http_receiver):
    stack.setup.save_channel(stack.admin, EmailSettings(True, "127.0.0.1", smtp_server.port, "gridroom@example.org",
                                                        security="none", timeout_s=5))
    stack.setup.save_channel(stack.admin, SlackSettings(True, timeout_s=5), secret=http_receiver.url)
    stack.setup.save_escalation(stack.admin, [("desktop", 0), ("email", 5), ("webhook", 10)], {"critical"})
    stack.user("otto", email="otto@example.org", email_enabled=True, min_priority=Priority.CRITICAL)
    stack.start()
    start = clock.now()
    await asyncio.to_thread(stack.alarm_service.alarms.receive, CommandFailed("bess-7", "c1", "timeout", start))

    desktop = await asyncio.wait_for(stack.desktop.get(), WAIT_S)
    assert (desktop.alarm_id, desktop.recipient, desktop.channel) == ("command_failed:bess-7", "otto", Channel.DESKTOP)
    clock.advance(timedelta(minutes=4, seconds=59))
    assert await stack.ask(EscalateNow()) == []  # not yet
    clock.advance(1)
    queued = await stack.ask(EscalateNow())
    # The service's own check, woken by the alarm's transitions, may run late on a loaded machine and claim the
    # step that just came due before this one does; either way it goes out once (the SMTP server and the
    # delivery log below prove it, and its time proves it was not sent before it was due).
    assert [(n.recipient, n.channel, n.step_index) for n in queued] in ([("otto", Channel.EMAIL, 1)], [])
    rcpt, message = await smtp_server.next_message()
    assert rcpt == ("otto@example.org",)
    assert message["Subject"] == "[GridRoom CRITICAL] command_failed:bess-7 on bess-7"
    assert message["X-GridRoom-Alarm-Id"] == "command_failed:bess-7"

    otto = stack.services.users.authenticate("otto", STRONG, host="t")
    await stack.ask(AcknowledgeAlarms(otto, ("command_failed:bess-7",)))
    clock.advance(timedelta(minutes=10))
    assert await stack.ask(EscalateNow()) == []  # acknowledged: the webhook step never fires
    await stack.logged_until(lambda seen: any(a.record.channel == "email" for a in seen))
    entries = await stack.ask(QueryNotificationLog(stack.admin))
    assert [(e.channel, e.recipient, e.attempt, e.ok, e.final) for e in reversed(entries)] == [
        ("desktop", "otto", 1, True, True), ("email", "otto", 1, True, True)]
    assert entries[0].at == start + timedelta(minutes=5)  # sent when the step came due, not before
    assert http_receiver.requests == []


async def test_a_user_hears_only_of_priorities_at_or_above_the_chosen_minimum(stack, clock, smtp_server):
    stack.setup.save_channel(stack.admin, EmailSettings(True, "127.0.0.1", smtp_server.port, "gridroom@example.org",
                                                        security="none", timeout_s=5))
    stack.setup.save_escalation(stack.admin, [("email", 0)], {"critical", "warning"})
    stack.user("cora", email="cora@example.org", email_enabled=True, min_priority=Priority.CRITICAL)
    stack.user("walt", email="walt@example.org", email_enabled=True, min_priority=Priority.WARNING)
    stack.start()
    await asyncio.to_thread(stack.alarm_service.alarms.receive, AckLatencyHigh("bess-3", 42.0, clock.now()))
    await stack.ask(EscalateNow())
    rcpt, message = await smtp_server.next_message()
    assert rcpt == ("walt@example.org",) and "WARNING" in message["Subject"]
    await asyncio.to_thread(stack.alarm_service.alarms.receive, CommandFailed("bess-4", "c2", "rejected", clock.now()))
    await stack.ask(EscalateNow())
    got = {(await smtp_server.next_message())[0] for _ in range(2)}
    assert got == {("cora@example.org",), ("walt@example.org",)}
    assert smtp_server.received.empty()  # cora never got the warning


async def test_a_dead_smtp_server_never_blocks_the_engine_and_the_failure_is_stored_and_published(
        stack, clock, http_receiver):
    hole = Blackhole()
    try:
        stack.setup.save_channel(stack.admin, EmailSettings(True, "127.0.0.1", hole.port, "gridroom@example.org",
                                                            security="none", timeout_s=60))
        stack.setup.save_channel(stack.admin, SlackSettings(True, timeout_s=5), secret=http_receiver.url)
        stack.setup.save_escalation(stack.admin, [("email", 0), ("webhook", 0)], {"critical"})
        otto = stack.user("otto", email="otto@example.org", email_enabled=True)
        stack.start(retry=RetryPolicy(max_attempts=1))
        await asyncio.to_thread(stack.alarm_service.alarms.receive, CommandFailed("bess-7", "c1", "t", clock.now()))
        await stack.ask(EscalateNow())
        assert await asyncio.to_thread(hole.connected.wait, WAIT_S)  # the e-mail attempt hangs on the greeting
        # Meanwhile the engine keeps evaluating and operators keep acting; the webhook is not held up.
        request = await http_receiver.next_request()
        assert request.json["text"].endswith("command_failed:bess-7 on bess-7")
        for i in range(20):
            clock.advance(1)
            await asyncio.to_thread(stack.alarm_service.alarms.receive,
                                    CommandFailed(f"bess-{100 + i}", f"c{i}", "t", clock.now()))
        assert stack.alarm_service.alarms.annunciated_count == 21
        await stack.ask(AcknowledgeAlarms(otto, ("command_failed:bess-7",)))
        hole.close()  # the server hangs up: the e-mail attempt fails
        seen = await stack.logged_until(lambda s: any(a.record.channel == "email" for a in s))
    finally:
        hole.close()
    email = next(a for a in seen if a.record.channel == "email")
    assert not email.record.ok and email.final and "unreachable" in email.record.error
    failures = await stack.ask(QueryNotificationLog(stack.admin, failures_only=True))
    assert [(f.channel, f.recipient, f.alarm_id, f.attempt) for f in failures] == [
        ("email", "otto", "command_failed:bess-7", 1)]
    published = [e for e in stack.runtime.drain_events() if isinstance(e, NotificationFailurePublished)]
    assert [(e.failure.channel, e.failed_total) for e in published] == [("email", 1)]
    webhook = await stack.ask(QueryNotificationLog(stack.admin))
    assert any(e.channel == "slack" and e.recipient == TEAM_RECIPIENT and e.ok for e in webhook)


async def test_a_step_for_an_unconfigured_channel_is_a_stored_visible_failure(stack, clock):
    stack.setup.save_escalation(stack.admin, [("sms", 0)], {"critical"})
    stack.user("otto", sms_number="+32 470 12 34 56", sms_enabled=True)
    stack.start()
    await asyncio.to_thread(stack.alarm_service.alarms.receive, CommandFailed("bess-7", "c1", "t", clock.now()))
    await stack.ask(EscalateNow())
    seen = await stack.logged_until(lambda s: bool(s))
    assert [(a.record.channel, a.record.attempt, a.record.error) for a in seen] == [
        ("-", 0, "no sms channel is configured")]
    published = [e for e in stack.runtime.drain_events() if isinstance(e, NotificationFailurePublished)]
    assert [e.failure.error for e in published] == ["no sms channel is configured"]
