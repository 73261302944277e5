"""Runtime commands and events of the notification service. Frozen, handled by type."""

from __future__ import annotations

from dataclasses import dataclass

from core.auth.principal import Principal
from core.notifications.dispatcher import NotificationFailed
from core.notifications.messages import AlarmNotification


@dataclass(frozen=True, slots=True)
class EscalateNow:
    """Check the escalation chains now (besides the periodic check); answers with the notifications queued."""


@dataclass(frozen=True, slots=True)
class ReloadNotificationSetup:
    """Rebuild the channels and the escalation chain from the stored set-up (after an admin saved it);
    answers with the problems found (a channel left out and why)."""


@dataclass(frozen=True, slots=True)
class QueryNotificationLog:
    """Answers with the stored delivery attempts (list[DeliveryLogEntry]), newest first."""

    actor: Principal
    limit: int = 500
    failures_only: bool = False


@dataclass(frozen=True, slots=True)
class DesktopNotificationPublished:
    """A notification for the desktop channel; the signed-in user's desktop shows those addressed to them."""

    notification: AlarmNotification


@dataclass(frozen=True, slots=True)
class NotificationFailurePublished:
    """A notification was given up on (after it was written to the delivery log)."""

    failure: NotificationFailed
    failed_total: int


@dataclass(frozen=True, slots=True)
class NotificationSetupProblems:
    """Channels left out when the set-up was (re)loaded, in words."""

    problems: tuple[str, ...]
