"""Each channel against a real local receiver: e-mail through aiosmtpd, Slack and PagerDuty webhooks
and the SMS gateway through a local HTTP server; failures come back as typed results with reasons."""

from __future__ import annotations

import pytest

from core.alarms.escalation import Channel
from core.alarms.priorities import Priority
from core.alarms.states import AlarmState
from core.notifications import DesktopChannel, EmailChannel, SmsGatewayChannel, WebhookChannel
from tests.core.notifications.receivers import free_port, make_notification

pytestmark = pytest.mark.asyncio

BOOK = {"ann": ["ann@grid.example", "ann.oncall@grid.example"], "bob": []}


async def test_email_reaches_a_real_smtp_server(smtp_server):
    channel = EmailChannel("127.0.0.1", smtp_server.port, "gridroom@grid.example", BOOK, timeout_s=5)
    result = await channel.send(make_notification(Channel.EMAIL, site_timezone="Europe/Brussels"))
    assert result.ok, result.detail
    rcpt, message = await smtp_server.next_message()
    assert rcpt == ("ann@grid.example", "ann.oncall@grid.example")
    assert message["Subject"] == "[GridRoom CRITICAL] cell_hot:bs1/pack01/cell01 on bs1/pack01/cell01"
    assert message["From"] == "gridroom@grid.example"
    assert message["X-GridRoom-Alarm-Id"] == "cell_hot:bs1/pack01/cell01"
    body = message.get_content()
    assert "cell_hot:bs1/pack01/cell01" in body and "critical" in body and "bs1/pack01/cell01" in body
    assert "Cell temperature above 55 °C" in body and "09:58:30 CET site time" in body


async def test_email_address_book_may_be_a_callable(smtp_server):
    channel = EmailChannel("127.0.0.1", smtp_server.port, "gridroom@grid.example",
                           lambda user: [f"{user}@grid.example"], timeout_s=5)
    assert (await channel.send(make_notification(Channel.EMAIL, recipient="cara"))).ok
    rcpt, _ = await smtp_server.next_message()
    assert rcpt == ("cara@grid.example",)


async def test_email_without_address_is_refused_for_good(smtp_server):
    channel = EmailChannel("127.0.0.1", smtp_server.port, "gridroom@grid.example", BOOK, timeout_s=5)
    result = await channel.send(make_notification(Channel.EMAIL, recipient="bob"))
    assert not result.ok and not result.retryable and "no e-mail address for user 'bob'" in result.detail
    assert smtp_server.received.empty()


async def test_email_to_a_dead_port_fails_retryably_with_the_address():
    port = free_port()
    channel = EmailChannel("127.0.0.1", port, "gridroom@grid.example", BOOK, timeout_s=5)
    result = await channel.send(make_notification(Channel.EMAIL))
    assert not result.ok and result.retryable
    assert f"127.0.0.1:{port} unreachable" in result.detail and "ConnectionRefusedError" in result.detail
    assert "password" not in repr(channel).lower()


async def test_slack_webhook_posts_text_and_blocks(http_receiver):
    channel = WebhookChannel(http_receiver.url, style="slack", timeout_s=5)
    result = await channel.send(make_notification())
    assert result.ok and "HTTP 200" in result.detail
    request = await http_receiver.next_request()
    assert (request.method, request.path) == ("POST", "/hook?team=ops")
    assert request.headers["content-type"].startswith("application/json")
    assert request.json["text"].endswith("[GridRoom CRITICAL] cell_hot:bs1/pack01/cell01 on bs1/pack01/cell01")
    assert [b["type"] for b in request.json["blocks"]][:2] == ["header", "section"]


@pytest.mark.parametrize(("priority", "state", "severity", "action"), [
    (Priority.CRITICAL, AlarmState.ACTIVE_UNACKED, "critical", "trigger"),
    (Priority.WARNING, AlarmState.ACTIVE_ACKED, "warning", "acknowledge"),
    (Priority.INFO, AlarmState.NORMAL, "info", "resolve"),
])
async def test_pagerduty_webhook_posts_events_v2(http_receiver, priority, state, severity, action):
    channel = WebhookChannel(http_receiver.url, style="pagerduty", routing_key="R0UTINGKEY", timeout_s=5)
    assert (await channel.send(make_notification(priority=priority, state=state))).ok
    event = (await http_receiver.next_request()).json
    assert event["routing_key"] == "R0UTINGKEY"
    assert event["event_action"] == action
    assert event["dedup_key"] == "cell_hot:bs1/pack01/cell01"
    assert event["payload"]["severity"] == severity
    assert event["payload"]["source"] == "bs1/pack01/cell01"
    assert event["payload"]["timestamp"] == "2026-01-15T08:58:30Z"
    assert event["payload"]["summary"].startswith(f"[GridRoom {priority.value.upper()}] cell_hot:")
    assert event["payload"]["custom_details"]["alarm_id"] == "cell_hot:bs1/pack01/cell01"


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (503, True), (429, True), (400, False), (404, False)])
async def test_webhook_error_status_is_classified(http_receiver, status, retryable):
    http_receiver.statuses.append(status)
    result = await WebhookChannel(http_receiver.url, timeout_s=5).send(make_notification())
    assert not result.ok and result.retryable is retryable
    assert f"HTTP {status}: receiver says no" in result.detail


async def test_sms_gateway_gets_numbers_text_and_bearer_key(http_receiver):
    channel = SmsGatewayChannel(http_receiver.url, "k3y", {"ann": ["+32470000001", "+32470000002"]},
                                sender_id="GridRoom", timeout_s=5)
    assert (await channel.send(make_notification(Channel.SMS))).ok
    request = await http_receiver.next_request()
    assert request.headers["authorization"] == "Bearer k3y"
    assert request.json["to"] == ["+32470000001", "+32470000002"]
    assert request.json["reference"] == "cell_hot:bs1/pack01/cell01" and request.json["from"] == "GridRoom"
    assert request.json["message"].startswith("GridRoom CRITICAL: cell_hot:bs1/pack01/cell01 on bs1/pack01/cell01")
    assert len(request.json["message"]) <= 160


@pytest.mark.parametrize("priority", [Priority.WARNING, Priority.INFO])
async def test_sms_refuses_non_critical_alarms_without_calling_the_gateway(http_receiver, priority):
    channel = SmsGatewayChannel(http_receiver.url, "k3y", {"ann": ["+32470000001"]}, timeout_s=5)
    result = await channel.send(make_notification(Channel.SMS, priority=priority))
    assert not result.ok and not result.retryable
    assert f"only critical alarms are sent by SMS; cell_hot:bs1/pack01/cell01 is {priority.value}" in result.detail
    assert http_receiver.requests == []


async def test_desktop_channel_hands_the_notification_to_the_callback():
    seen = []
    channel = DesktopChannel(seen.append)
    n = make_notification(Channel.DESKTOP)
    assert (await channel.send(n)).ok and seen == [n]

    def broken(_):
        raise RuntimeError("window gone")
    result = await DesktopChannel(broken).send(n)
    assert not result.ok and "window gone" in result.detail


async def test_webhook_to_a_dead_port_is_retryable():
    result = await WebhookChannel(f"http://127.0.0.1:{free_port()}/x", timeout_s=5).send(make_notification())
    assert not result.ok and result.retryable and "unreachable" in result.detail
