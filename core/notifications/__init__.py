"""Alarm notifications: channels (e-mail, webhooks, SMS gateway, desktop), a dispatcher that never
blocks the alarm engine (per-channel queues, retries with backoff, a delivery log, visible failures),
and the runner that turns due escalation steps into notifications.

No Qt here: the desktop registers a thread-safe callback with DesktopChannel.
"""

from core.notifications.channels import (
    DeliveryResult,
    DesktopChannel,
    EmailChannel,
    NotificationChannel,
    SmsGatewayChannel,
    WebhookChannel,
)
from core.notifications.dispatcher import (
    DeliveryRecord,
    DispatcherEvent,
    NotificationDelivered,
    NotificationDispatcher,
    NotificationFailed,
    RetryPolicy,
)
from core.notifications.errors import NotificationConfigError, NotificationError
from core.notifications.escalation_runner import EscalationRunner, describe_alarm
from core.notifications.messages import AlarmNotification, render_body, render_short, render_subject
from core.notifications.payloads import PAGERDUTY_ACTION, PAGERDUTY_SEVERITY, pagerduty_payload, slack_payload
from core.notifications.scheduler import ClockScheduler, ManualScheduler, Scheduler

__all__ = [
    "AlarmNotification", "ClockScheduler", "DeliveryRecord", "DeliveryResult", "DesktopChannel", "DispatcherEvent",
    "EmailChannel", "EscalationRunner", "ManualScheduler", "NotificationChannel", "NotificationConfigError",
    "NotificationDelivered", "NotificationDispatcher", "NotificationError", "NotificationFailed",
    "PAGERDUTY_ACTION", "PAGERDUTY_SEVERITY", "RetryPolicy", "Scheduler", "SmsGatewayChannel", "WebhookChannel",
    "describe_alarm", "pagerduty_payload", "render_body", "render_short", "render_subject", "slack_payload",
]
