"""The dispatcher against real receivers: retries with exponential backoff driven by the test's
scheduler, visible failures, channels that cannot hold each other up, and enqueue from any thread."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pytest

from core.alarms.escalation import Channel
from core.alarms.priorities import Priority
from core.notifications import (
    DeliveryResult,
    DesktopChannel,
    EmailChannel,
    NotificationDelivered,
    NotificationDispatcher,
    NotificationFailed,
    RetryPolicy,
    SmsGatewayChannel,
    WebhookChannel,
)
from tests.core.notifications.receivers import WAIT_S, free_port, make_notification

pytestmark = pytest.mark.asyncio


class Events:
    """Collects dispatcher events and lets the test await the next one."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()

    def __call__(self, event) -> None:
        self.queue.put_nowait(event)

    async def next(self):
        return await asyncio.wait_for(self.queue.get(), WAIT_S)


async def test_two_server_errors_then_delivered_at_attempt_three(http_receiver, clock, scheduler):
    http_receiver.statuses.extend([500, 500])
    events = Events()
    start = clock.now()
    async with NotificationDispatcher([WebhookChannel(http_receiver.url, timeout_s=5)], clock,
                                      scheduler=scheduler, on_event=events) as dispatcher:
        assert dispatcher.enqueue(make_notification())
        await scheduler.wait_for_sleepers(1)
        assert scheduler.pending_delays() == [2.0]
        scheduler.advance(2)
        await scheduler.wait_for_sleepers(1)
        assert scheduler.pending_delays() == [4.0]
        scheduler.advance(4)
        delivered = await events.next()
    assert isinstance(delivered, NotificationDelivered)
    assert (delivered.channel, delivered.attempts, delivered.at) == ("slack", 3, start + timedelta(seconds=6))
    assert scheduler.requested == [2.0, 4.0]
    log = dispatcher.log()
    assert [(r.attempt, r.ok) for r in log] == [(1, False), (2, False), (3, True)]
    assert [r.at - start for r in log] == [timedelta(0), timedelta(seconds=2), timedelta(seconds=6)]
    assert "HTTP 500" in log[0].error and log[2].error is None
    assert len(http_receiver.requests) == 3 and dispatcher.failed() == ()


async def test_permanent_failure_is_visible_after_five_attempts(http_receiver, clock, scheduler):
    http_receiver.statuses.extend([503] * 10)
    events = Events()
    n = make_notification()
    async with NotificationDispatcher([WebhookChannel(http_receiver.url, timeout_s=5)], clock,
                                      scheduler=scheduler, on_event=events) as dispatcher:
        dispatcher.enqueue(n)
        for delay in (2.0, 4.0, 8.0, 16.0):
            await scheduler.wait_for_sleepers(1)
            assert scheduler.pending_delays() == [delay]
            scheduler.advance(delay)
        failed = await events.next()
        assert dispatcher.pending() == 0
    assert isinstance(failed, NotificationFailed)
    assert failed.notification == n and failed.attempts == 5 and failed.channel == "slack"
    assert "HTTP 503: receiver says no (gave up after 5 attempts)" in failed.error
    assert dispatcher.failed() == (failed,)
    assert len(dispatcher.log()) == 5 and len(http_receiver.requests) == 5


async def test_a_refusal_that_cannot_succeed_fails_at_once(http_receiver, clock, scheduler):
    events = Events()
    sms = SmsGatewayChannel(http_receiver.url, "k3y", {"ann": ["+32470000001"]}, timeout_s=5)
    async with NotificationDispatcher([sms], clock, scheduler=scheduler, on_event=events) as dispatcher:
        dispatcher.enqueue(make_notification(Channel.SMS, priority=Priority.WARNING))
        failed = await events.next()
    assert failed.attempts == 1 and "only critical alarms" in failed.error and "gave up" not in failed.error
    assert scheduler.requested == [] and http_receiver.requests == []


async def test_a_kind_without_a_configured_channel_fails_visibly(clock, scheduler):
    events = Events()
    async with NotificationDispatcher([DesktopChannel(lambda n: None)], clock, scheduler=scheduler,
                                      on_event=events) as dispatcher:
        dispatcher.enqueue(make_notification(Channel.EMAIL))
        failed = await events.next()
    assert failed.attempts == 0 and failed.error == "no email channel is configured"
    assert dispatcher.failed() == (failed,)


async def test_dead_smtp_port_fails_fast_and_does_not_delay_a_webhook(http_receiver, clock, scheduler):
    events = Events()
    email = EmailChannel("127.0.0.1", free_port(), "gridroom@grid.example", {"ann": ["ann@grid.example"]},
                         timeout_s=5)
    async with NotificationDispatcher([email, WebhookChannel(http_receiver.url, timeout_s=5)], clock,
                                      scheduler=scheduler, on_event=events) as dispatcher:
        dispatcher.enqueue(make_notification(Channel.EMAIL))
        dispatcher.enqueue(make_notification(Channel.WEBHOOK))
        delivered = await events.next()
        assert isinstance(delivered, NotificationDelivered) and delivered.channel == "slack"
        await scheduler.wait_for_sleepers(1)  # the e-mail failed its first attempt and waits to retry
        email_attempts = [r for r in dispatcher.log() if r.channel == "email"]
        assert [(r.attempt, r.ok) for r in email_attempts] == [(1, False)]
        assert "ConnectionRefusedError" in email_attempts[0].error
        assert dispatcher.pending() == 1


async def test_a_stalled_smtp_server_does_not_hold_up_the_webhook(http_receiver, clock, scheduler):
    connected = asyncio.Event()
    stalled: list[asyncio.StreamWriter] = []

    async def never_greet(reader, writer):  # accepts, then says nothing: smtplib waits for the banner
        stalled.append(writer)
        connected.set()
        await reader.read()

    server = await asyncio.start_server(never_greet, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    events = Events()
    email = EmailChannel("127.0.0.1", port, "gridroom@grid.example", {"ann": ["ann@grid.example"]}, timeout_s=15)
    try:
        async with NotificationDispatcher([email, WebhookChannel(http_receiver.url, timeout_s=5)], clock,
                                          scheduler=scheduler, on_event=events) as dispatcher:
            dispatcher.enqueue(make_notification(Channel.EMAIL))
            await asyncio.wait_for(connected.wait(), WAIT_S)
            dispatcher.enqueue(make_notification(Channel.WEBHOOK))
            delivered = await events.next()
            assert delivered.channel == "slack"
            assert [r.channel for r in dispatcher.log()] == ["slack"]  # e-mail still waiting for its banner
            assert dispatcher.pending() == 1
            for writer in stalled:  # the server hangs up: the e-mail attempt ends, retryable
                writer.close()
            await scheduler.wait_for_sleepers(1)
            email_record = [r for r in dispatcher.log() if r.channel == "email"][0]
            assert not email_record.ok and "unreachable" in email_record.error
    finally:
        server.close()
        await server.wait_closed()


async def test_enqueue_from_another_thread_returns_at_once(http_receiver, clock, scheduler):
    http_receiver.hold = asyncio.Event()  # the receiver answers nothing until the test says so
    events = Events()
    alarm_ids = [f"cell_hot:bs1/pack01/cell{i:02d}" for i in range(20)]
    results: list[bool] = []
    async with NotificationDispatcher([WebhookChannel(http_receiver.url, timeout_s=10)], clock,
                                      scheduler=scheduler, on_event=events) as dispatcher:
        producer = threading.Thread(
            target=lambda: results.extend(dispatcher.enqueue(make_notification(alarm_id=a)) for a in alarm_ids))
        producer.start()
        await asyncio.to_thread(producer.join, WAIT_S)
        assert not producer.is_alive() and results == [True] * 20
        assert dispatcher.delivered() == ()  # the producer did not wait for any delivery
        http_receiver.hold.set()
        got = [await events.next() for _ in alarm_ids]
    assert all(isinstance(e, NotificationDelivered) and e.attempts == 1 for e in got)
    assert sorted(e.notification.alarm_id for e in got) == sorted(alarm_ids)  # each once, none lost


async def test_enqueue_never_raises_and_buffers_until_started(clock, scheduler):
    shown: asyncio.Queue = asyncio.Queue()
    dispatcher = NotificationDispatcher([DesktopChannel(shown.put_nowait)], clock, scheduler=scheduler)
    n = make_notification(Channel.DESKTOP)
    assert dispatcher.enqueue(n)  # before start: kept
    assert dispatcher.enqueue("not a notification") is False  # type: ignore[arg-type]
    async with dispatcher:
        assert await asyncio.wait_for(shown.get(), WAIT_S) == n
    assert dispatcher.enqueue(n) is False  # stopped: refused, not raised


async def test_webhook_kind_fans_out_to_every_webhook_channel(http_receiver, clock, scheduler):
    events = Events()
    slack = WebhookChannel(http_receiver.url, timeout_s=5)
    pagerduty = WebhookChannel(http_receiver.url, style="pagerduty", routing_key="R0UTING", timeout_s=5)
    async with NotificationDispatcher([slack, pagerduty], clock, scheduler=scheduler, on_event=events) as dispatcher:
        dispatcher.enqueue(make_notification())
        got = {(await events.next()).channel, (await events.next()).channel}
    assert got == {"slack", "pagerduty"}
    bodies = [r.json for r in http_receiver.requests]
    assert sum("blocks" in b for b in bodies) == 1 and sum(b.get("routing_key") == "R0UTING" for b in bodies) == 1


class NeverAnswers:
    """A custom channel (the Protocol is all a channel needs) whose send never completes."""

    name = "pager-of-last-resort"
    kind = Channel.SMS

    async def send(self, message):
        await asyncio.Event().wait()
        return DeliveryResult.success()


async def test_an_attempt_without_outcome_times_out_and_is_retried(clock, scheduler):
    events = Events()
    async with NotificationDispatcher([NeverAnswers()], clock, RetryPolicy(max_attempts=2), scheduler=scheduler,
                                      on_event=events, attempt_timeout_s=0.05) as dispatcher:
        dispatcher.enqueue(make_notification(Channel.SMS))
        await scheduler.wait_for_sleepers(1)
        scheduler.advance(2)
        failed = await events.next()
    assert failed.attempts == 2 and "no outcome within 0.05 s (gave up after 2 attempts)" in failed.error


async def test_a_listener_that_raises_does_not_stop_deliveries(clock, scheduler):
    shown: asyncio.Queue = asyncio.Queue()

    def bad_listener(event):
        raise RuntimeError("listener bug")

    async with NotificationDispatcher([DesktopChannel(shown.put_nowait)], clock, scheduler=scheduler,
                                      on_event=bad_listener) as dispatcher:
        first, second = make_notification(Channel.DESKTOP), make_notification(Channel.DESKTOP, recipient="bob")
        dispatcher.enqueue(first)
        dispatcher.enqueue(second)
        assert [await asyncio.wait_for(shown.get(), WAIT_S) for _ in range(2)] == [first, second]


async def test_stop_returns_while_a_send_is_in_flight(http_receiver, clock, scheduler):
    http_receiver.hold = asyncio.Event()  # the request arrives and is never answered
    dispatcher = NotificationDispatcher([WebhookChannel(http_receiver.url, timeout_s=5)], clock, scheduler=scheduler)
    dispatcher.start()
    dispatcher.enqueue(make_notification())
    await asyncio.wait_for(http_receiver.arrived.get(), WAIT_S)
    assert dispatcher.pending() == 1
    await asyncio.wait_for(dispatcher.stop(), WAIT_S)  # cancels the attempt instead of waiting for it
    assert dispatcher.log() == () and dispatcher.enqueue(make_notification()) is False
    http_receiver.hold.set()
