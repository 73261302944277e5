"""Rendering and payload shapes, without the network: subject/body text, site time, Slack blocks,
PagerDuty Events v2 fields, SMS text; and the configuration errors that must fail at start-up."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.alarms.escalation import Channel
from core.alarms.priorities import Priority
from core.alarms.states import AlarmState
from core.notifications import (
    NotificationConfigError,
    RetryPolicy,
    SmsGatewayChannel,
    WebhookChannel,
    pagerduty_payload,
    render_body,
    render_short,
    render_subject,
    slack_payload,
)
from tests.core.notifications.receivers import make_notification


def test_subject_and_body_name_alarm_priority_source_and_utc_time():
    n = make_notification()
    subject, body = render_subject(n), render_body(n)
    assert subject == "[GridRoom CRITICAL] cell_hot:bs1/pack01/cell01 on bs1/pack01/cell01"
    assert "Priority:  critical" in body and "Source:    bs1/pack01/cell01" in body
    assert "Raised at: 2026-01-15T08:58:30Z\n" in body  # UTC only when no site zone is given
    assert "Acknowledge this alarm" in body  # unacknowledged: tell the reader how to stop escalation
    assert "Acknowledge" not in render_body(make_notification(state=AlarmState.ACTIVE_ACKED))


def test_site_local_time_is_shown_next_to_utc():
    body = render_body(make_notification(site_timezone="Europe/Brussels"))
    assert "2026-01-15T08:58:30Z (2026-01-15 09:58:30 CET site time)" in body


def test_short_text_fits_an_sms():
    n = make_notification(message="x" * 500)
    text = render_short(n)
    assert len(text) == 160 and text.endswith("…") and text.startswith("GridRoom CRITICAL: cell_hot:")


@pytest.mark.parametrize(("field", "value", "match"), [
    ("raised_at", datetime(2026, 1, 1), "naive"),
    ("site_timezone", "Mars/Olympus_Mons", "unknown site time zone"),
    ("recipient", " ", "recipient"),
    ("priority", "urgent", "urgent"),
])
def test_bad_notifications_are_refused_with_a_reason(field, value, match):
    with pytest.raises(NotificationConfigError, match=match):
        make_notification(**{field: value})


def test_slack_payload_has_text_and_blocks():
    payload = slack_payload(make_notification(site_timezone="Europe/Brussels"))
    assert payload["text"] == ":rotating_light: [GridRoom CRITICAL] cell_hot:bs1/pack01/cell01 on bs1/pack01/cell01"
    types = [b["type"] for b in payload["blocks"]]
    assert types == ["header", "section", "section", "context"]
    fields = "\n".join(f["text"] for f in payload["blocks"][1]["fields"])
    assert "*Priority*\ncritical" in fields and "*Source*\nbs1/pack01/cell01" in fields and "CET site time" in fields


@pytest.mark.parametrize(("priority", "severity"), [
    (Priority.CRITICAL, "critical"), (Priority.WARNING, "warning"), (Priority.INFO, "info")])
def test_pagerduty_severity_follows_priority(priority, severity):
    payload = pagerduty_payload(make_notification(priority=priority), "R0UTING")
    assert payload["payload"]["severity"] == severity


@pytest.mark.parametrize(("state", "action"), [
    (AlarmState.ACTIVE_UNACKED, "trigger"), (AlarmState.ACTIVE_ACKED, "acknowledge"),
    (AlarmState.SHELVED, "acknowledge"), (AlarmState.RETURNED_UNACKED, "resolve"), (AlarmState.NORMAL, "resolve")])
def test_pagerduty_event_action_follows_alarm_state(state, action):
    payload = pagerduty_payload(make_notification(state=state), "R0UTING")
    assert payload["event_action"] == action
    assert payload["dedup_key"] == "cell_hot:bs1/pack01/cell01"  # same incident through its whole life


def test_pagerduty_summary_is_capped_at_its_limit():
    payload = pagerduty_payload(make_notification(message="y" * 5000), "R0UTING")
    assert len(payload["payload"]["summary"]) == 1024
    assert payload["payload"]["timestamp"] == "2026-01-15T08:58:30Z"


def test_channel_configuration_errors():
    with pytest.raises(NotificationConfigError, match="routing_key"):
        WebhookChannel("https://events.pagerduty.com/v2/enqueue", style="pagerduty")
    with pytest.raises(NotificationConfigError, match="not an absolute"):
        WebhookChannel("hooks.slack.com/services/x")
    with pytest.raises(NotificationConfigError, match="style"):
        WebhookChannel("https://example.org/hook", style="teams")
    with pytest.raises(NotificationConfigError, match="API key"):
        SmsGatewayChannel("https://sms.example.org/send", "", {})
    secret = WebhookChannel("https://hooks.slack.com/services/T0/B0/SECRET")
    assert "SECRET" not in repr(secret)


def test_retry_policy_backoff_doubles_and_caps():
    policy = RetryPolicy()
    assert [policy.delay_after(n) for n in range(1, 5)] == [2.0, 4.0, 8.0, 16.0]
    assert RetryPolicy(max_attempts=20).delay_after(12) == 300.0
    with pytest.raises(NotificationConfigError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(NotificationConfigError, match="factor"):
        RetryPolicy(factor=0.5)


def test_notifications_are_frozen():
    n = make_notification()
    with pytest.raises(AttributeError):
        n.recipient = "eve"  # type: ignore[misc]
    assert n.channel is Channel.WEBHOOK and n.key == "cell_hot:bs1/pack01/cell01|ann|webhook|-"
