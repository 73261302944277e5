"""JSON bodies for webhook receivers: Slack incoming webhooks, PagerDuty Events API v2, SMS gateways."""

from __future__ import annotations

from core.alarms.priorities import Priority
from core.alarms.states import AlarmState
from core.notifications.messages import (
    AlarmNotification,
    render_body,
    render_short,
    render_subject,
    state_text,
    time_text,
    utc_iso,
)

# GridRoom's priorities map one to one onto PagerDuty's severities (PagerDuty also has "error", unused).
PAGERDUTY_SEVERITY = {Priority.CRITICAL: "critical", Priority.WARNING: "warning", Priority.INFO: "info"}

# An incident stays open while an operator still has to act. A returned-unacknowledged alarm has
# cleared, so the incident resolves; shelving or maintenance means a person has taken it in hand.
PAGERDUTY_ACTION = {
    AlarmState.ACTIVE_UNACKED: "trigger",
    AlarmState.ACTIVE_ACKED: "acknowledge",
    AlarmState.SHELVED: "acknowledge",
    AlarmState.OUT_OF_SERVICE: "acknowledge",
    AlarmState.RETURNED_UNACKED: "resolve",
    AlarmState.NORMAL: "resolve",
}

_SLACK_EMOJI = {
    Priority.CRITICAL: ":rotating_light:", Priority.WARNING: ":warning:", Priority.INFO: ":information_source:"}
_PD_SUMMARY_MAX = 1024  # PagerDuty rejects longer summaries
_PD_DEDUP_MAX = 255


def slack_payload(n: AlarmNotification) -> dict:
    """A Slack incoming-webhook message: `text` for notifications and old clients, `blocks` for layout."""
    subject = render_subject(n)
    fields = [
        ("Priority", n.priority.value),
        ("Source", n.source),
        ("Rule", n.rule),
        ("State", state_text(n.state)),
        ("Raised at", time_text(n.raised_at, n.site_timezone)),
        ("Recipient", n.recipient),
    ]
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in fields]},
    ]
    if n.message:
        blocks.append({"type": "section", "text": {"type": "plain_text", "text": n.message[:3000]}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"alarm id `{n.alarm_id}`"}]})
    return {"text": f"{_SLACK_EMOJI[n.priority]} {subject}", "blocks": blocks}


def pagerduty_payload(n: AlarmNotification, routing_key: str) -> dict:
    """A PagerDuty Events API v2 event; the alarm id is the dedup key, so ack and resolve find the incident."""
    summary = f"{render_subject(n)}: {n.message}" if n.message else render_subject(n)
    return {
        "routing_key": routing_key,
        "event_action": PAGERDUTY_ACTION[n.state],
        "dedup_key": n.alarm_id[:_PD_DEDUP_MAX],
        "payload": {
            "summary": summary[:_PD_SUMMARY_MAX],
            "source": n.source,
            "severity": PAGERDUTY_SEVERITY[n.priority],
            "timestamp": utc_iso(n.raised_at),
            "component": n.rule,
            "custom_details": {
                "alarm_id": n.alarm_id,
                "rule": n.rule,
                "state": n.state.value,
                "recipient": n.recipient,
                "message": n.message,
                "body": render_body(n),
            },
        },
    }


def sms_payload(n: AlarmNotification, numbers: list[str], sender_id: str | None = None) -> dict:
    """A generic SMS-gateway request: numbers, one short text, and the alarm id as a reference."""
    body = {"to": list(numbers), "message": render_short(n), "reference": n.alarm_id, "priority": n.priority.value}
    if sender_id:
        body["from"] = sender_id
    return body
