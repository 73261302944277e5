"""Escalation end to end: the real alarm engine, the escalation tracker, the runner and the dispatcher
delivering to the desktop callback, a local SMTP server and a local SMS gateway, on a manual clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import numpy as np
import pytest

from core.alarms import (
    AlarmEngine,
    BatterySystemSnapshot,
    Comparison,
    FleetSnapshot,
    InMemoryAlarmStore,
    Metric,
    Priority,
    ThresholdRule,
)
from core.alarms.escalation import (
    Channel,
    EscalationPolicy,
    EscalationStep,
    EscalationTracker,
    NotificationPreferences,
    default_escalation,
)
from core.notifications import (
    DesktopChannel,
    EmailChannel,
    EscalationRunner,
    NotificationDelivered,
    NotificationDispatcher,
    SmsGatewayChannel,
)
from tests.core.notifications.receivers import WAIT_S

pytestmark = pytest.mark.asyncio

CELL_HOT = ThresholdRule("cell_hot", Metric.CELL_TEMP_C, Comparison.HIGH, 55.0, Priority.CRITICAL, deadband=2.0,
                         description="Cell temperature above 55 °C")
SOC_LOW = ThresholdRule("soc_low", Metric.DEVICE_SOC_PCT, Comparison.LOW, 10.0, Priority.WARNING, deadband=2.0)
HOT_CELL = "cell_hot:bs1/pack01/cell01"
ANN = NotificationPreferences("ann")  # every channel
BOB = NotificationPreferences("bob", channels=frozenset({Channel.DESKTOP, Channel.EMAIL}))
EMAILS = {"ann": ["ann@grid.example"], "bob": ["bob@grid.example"], "dan": ["dan@grid.example"]}
PHONES = {"ann": ["+32470000001"], "bob": ["+32470000002"]}


def snapshot(hot_cell_c: float = 25.0, soc_dev0: float = 50.0) -> FleetSnapshot:
    temps = np.full((2, 3), 25.0)
    temps[0, 0] = hot_cell_c
    return FleetSnapshot(("dev0", "dev1", "dev2"), np.array([soc_dev0, 50.0, 50.0]), np.full(3, 25.0),
                         np.zeros(3), (BatterySystemSnapshot("bs1", np.full((2, 3), 3.3), temps),))


class Desktop:
    """The GUI side: a thread-safe callback feeding a queue the test awaits."""

    def __init__(self) -> None:
        self.shown: asyncio.Queue = asyncio.Queue()

    def __call__(self, notification) -> None:
        self.shown.put_nowait(notification)

    async def next(self):
        return await asyncio.wait_for(self.shown.get(), WAIT_S)


class Delivered:
    """Dispatcher events, so the test can wait until an attempt has really finished."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()

    def __call__(self, event) -> None:
        self.queue.put_nowait(event)

    async def channels(self, count: int) -> list[str]:
        events = [await asyncio.wait_for(self.queue.get(), WAIT_S) for _ in range(count)]
        assert all(isinstance(e, NotificationDelivered) for e in events), events
        return sorted(e.channel for e in events)


def build(clock, scheduler, smtp_server, http_receiver, desktop, recipients, policy=None):
    events = Delivered()
    engine = AlarmEngine([CELL_HOT, SOC_LOW], clock, InMemoryAlarmStore())
    dispatcher = NotificationDispatcher([
        DesktopChannel(desktop),
        EmailChannel("127.0.0.1", smtp_server.port, "gridroom@grid.example", EMAILS, timeout_s=5),
        SmsGatewayChannel(http_receiver.url, "k3y", PHONES, timeout_s=5),
    ], clock, scheduler=scheduler, on_event=events)
    runner = EscalationRunner(EscalationTracker(policy or default_escalation()), dispatcher, clock, recipients,
                              rules=engine.rules, site_timezone="Europe/Brussels")
    return engine, dispatcher, runner, events


async def test_unacknowledged_critical_alarm_goes_desktop_then_email_then_sms(
        clock, scheduler, smtp_server, http_receiver):
    desktop = Desktop()
    engine, dispatcher, runner, delivered = build(clock, scheduler, smtp_server, http_receiver, desktop, [ANN, BOB])
    async with dispatcher:
        engine.evaluate(snapshot(hot_cell_c=61.5, soc_dev0=5.0))  # critical cell_hot and warning soc_low
        sent = runner.tick(engine.active_alarms())
        assert [(n.recipient, n.channel, n.alarm_id) for n in sent] == [
            ("ann", Channel.DESKTOP, HOT_CELL), ("bob", Channel.DESKTOP, HOT_CELL)]  # warnings do not escalate
        shown = {(await desktop.next()).recipient, (await desktop.next()).recipient}
        assert shown == {"ann", "bob"}
        assert await delivered.channels(2) == ["desktop", "desktop"]

        clock.advance(timedelta(minutes=4, seconds=59))
        assert runner.tick(engine.active_alarms()) == []
        clock.advance(1)
        assert [(n.recipient, n.channel) for n in runner.tick(engine.active_alarms())] == [
            ("ann", Channel.EMAIL), ("bob", Channel.EMAIL)]
        mails = {(await smtp_server.next_message()) for _ in range(2)}
        assert {rcpt for rcpt, _ in mails} == {("ann@grid.example",), ("bob@grid.example",)}
        for _, message in mails:
            assert HOT_CELL in message["Subject"] and "CRITICAL" in message["Subject"]
            body = message.get_content()
            assert "Cell temperature above 55 °C (value 61.5)" in body
            assert "Raised at: 2026-01-15T09:00:00Z (2026-01-15 10:00:00 CET site time)" in body
        assert await delivered.channels(2) == ["email", "email"]

        clock.advance(timedelta(minutes=10))
        assert [(n.recipient, n.channel) for n in runner.tick(engine.active_alarms())] == [("ann", Channel.SMS)]
        sms = await http_receiver.next_request()
        assert sms.json["to"] == ["+32470000001"] and sms.json["reference"] == HOT_CELL
        assert await delivered.channels(1) == ["sms"]

        clock.advance(timedelta(hours=1))
        assert runner.tick(engine.active_alarms()) == []  # each step fires once per activation
    assert dispatcher.failed() == ()
    assert sorted((r.channel, r.notification.recipient) for r in dispatcher.log() if r.ok) == [
        ("desktop", "ann"), ("desktop", "bob"), ("email", "ann"), ("email", "bob"), ("sms", "ann")]


async def test_once_acknowledged_nothing_more_is_sent(clock, scheduler, smtp_server, http_receiver):
    desktop = Desktop()
    engine, dispatcher, runner, delivered = build(clock, scheduler, smtp_server, http_receiver, desktop, [ANN])
    async with dispatcher:
        engine.evaluate(snapshot(hot_cell_c=61.5))
        runner.tick(engine.active_alarms())
        await desktop.next()
        clock.advance(timedelta(minutes=5))
        assert [n.channel for n in runner.tick(engine.active_alarms())] == [Channel.EMAIL]
        await smtp_server.next_message()
        assert await delivered.channels(2) == ["desktop", "email"]
        engine.acknowledge([HOT_CELL], "ann")
        for _ in range(4):
            clock.advance(timedelta(minutes=10))
            assert runner.tick(engine.active_alarms()) == []
        assert dispatcher.pending() == 0
    assert http_receiver.requests == [] and smtp_server.received.empty() and desktop.shown.empty()
    assert [r.channel for r in dispatcher.log()] == ["desktop", "email"]


async def test_per_user_preferences_filter_channels_and_priorities(clock, scheduler, smtp_server, http_receiver):
    desktop = Desktop()
    policy = EscalationPolicy((EscalationStep(Channel.EMAIL, 0.0), EscalationStep(Channel.SMS, 0.0)),
                              priorities=frozenset({Priority.CRITICAL, Priority.WARNING}))
    people = {
        "ann": NotificationPreferences("ann", channels=frozenset({Channel.EMAIL})),
        "dan": NotificationPreferences("dan", channels=frozenset({Channel.EMAIL}), min_priority=Priority.CRITICAL),
    }
    # Preferences are read on every tick, so an edit applies to the next step without a restart.
    engine, dispatcher, runner, delivered = build(clock, scheduler, smtp_server, http_receiver, desktop,
                                       lambda: people.values(), policy)
    async with dispatcher:
        engine.evaluate(snapshot(hot_cell_c=61.5, soc_dev0=5.0))
        sent = runner.tick(engine.active_alarms())
        assert sorted((n.recipient, n.channel.value, n.alarm_id.split(":")[0]) for n in sent) == [
            ("ann", "email", "cell_hot"), ("ann", "email", "soc_low"), ("dan", "email", "cell_hot")]
        mails = [await smtp_server.next_message() for _ in range(3)]
        assert sorted((rcpt[0], m["X-GridRoom-Priority"]) for rcpt, m in mails) == [
            ("ann@grid.example", "critical"), ("ann@grid.example", "warning"), ("dan@grid.example", "critical")]
        assert await delivered.channels(3) == ["email"] * 3
        assert http_receiver.requests == []  # nobody here takes SMS

        people["ann"] = NotificationPreferences("ann", channels=frozenset({Channel.SMS}))
        engine.evaluate(snapshot(hot_cell_c=25.0, soc_dev0=50.0))  # both clear ...
        engine.acknowledge([HOT_CELL, "soc_low:dev0"], "ann")
        clock.advance(60)
        engine.evaluate(snapshot(hot_cell_c=61.5))  # ... and the critical one comes back
        sent = runner.tick(engine.active_alarms())
        assert sorted((n.recipient, n.channel.value) for n in sent) == [("ann", "sms"), ("dan", "email")]
        assert (await http_receiver.next_request()).json["to"] == ["+32470000001"]
        rcpt, _ = await smtp_server.next_message()
        assert rcpt == ("dan@grid.example",)
        assert await delivered.channels(2) == ["email", "sms"]
    assert len(dispatcher.delivered()) == 5 and dispatcher.failed() == ()
