"""Escalation policy for unacknowledged alarms: which notification channels are due, and for whom.

Pure policy, no senders: given an alarm, the time now and what already fired, return the notifications
to send. Each step of the chain fires once per activation of the alarm; acknowledging (or the alarm
leaving ACTIVE_UNACKED) stops the chain, and a new activation starts it again.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from core.alarms.errors import AlarmError
from core.alarms.priorities import Priority
from core.alarms.states import AlarmState
from core.alarms.transitions import ActiveAlarm
from core.clock import ensure_utc


class EscalationPolicyError(AlarmError, ValueError):
    """An escalation chain or preference set that cannot work."""


class Channel(str, Enum):
    """Ways to reach a person."""

    DESKTOP = "desktop"
    EMAIL = "email"
    WEBHOOK = "webhook"
    SMS = "sms"


@dataclass(frozen=True)
class EscalationStep:
    """Notify over `channel` once the alarm has been unacknowledged for `after_min` minutes."""

    channel: Channel
    after_min: float


@dataclass(frozen=True)
class EscalationPolicy:
    """A chain of steps for alarms of the listed priorities (critical only by default)."""

    steps: tuple[EscalationStep, ...]
    priorities: frozenset[Priority] = frozenset({Priority.CRITICAL})

    def __post_init__(self) -> None:
        steps = tuple(self.steps)
        if not steps:
            raise EscalationPolicyError("an escalation chain needs at least one step")
        previous = 0.0
        for index, step in enumerate(steps):
            if not isinstance(step.channel, Channel):
                raise EscalationPolicyError(f"step {index}: unknown channel {step.channel!r}")
            if not math.isfinite(step.after_min) or step.after_min < 0:
                raise EscalationPolicyError(f"step {index}: after_min must be finite and >= 0, got {step.after_min}")
            if step.after_min < previous:
                raise EscalationPolicyError(f"step {index}: steps must be in time order ({step.after_min} < {previous})")
            previous = step.after_min
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "priorities", frozenset(self.priorities))


def default_escalation() -> EscalationPolicy:
    """Desktop at once, e-mail after 5 min, SMS after 15 min unacknowledged (critical alarms)."""
    return EscalationPolicy((
        EscalationStep(Channel.DESKTOP, 0.0),
        EscalationStep(Channel.EMAIL, 5.0),
        EscalationStep(Channel.SMS, 15.0),
    ))


@dataclass(frozen=True)
class NotificationPreferences:
    """Which channels a user accepts, and the least urgent priority they want to hear about."""

    user: str
    channels: frozenset[Channel] = frozenset(Channel)
    min_priority: Priority = Priority.INFO

    def accepts(self, channel: Channel, priority: Priority) -> bool:
        """Whether this user wants `channel` for an alarm of `priority`."""
        return channel in self.channels and priority.rank <= self.min_priority.rank


@dataclass(frozen=True)
class Notification:
    """One message to send: step `step_index` of the chain for `alarm_id` to `user` over `channel`."""

    alarm_id: str
    user: str
    channel: Channel
    step_index: int
    priority: Priority
    elapsed_min: float


def due_steps(policy: EscalationPolicy, elapsed_min: float, fired: frozenset[int]) -> tuple[int, ...]:
    """Indices of steps whose time has come after `elapsed_min` minutes and that have not fired yet."""
    return tuple(i for i, step in enumerate(policy.steps) if step.after_min <= elapsed_min and i not in fired)


@dataclass
class EscalationTracker:
    """Remembers which steps fired for which activation, so each step fires once."""

    policy: EscalationPolicy
    _fired: dict[tuple[str, datetime], set[int]] = field(default_factory=dict)

    def due(
        self, alarms: Iterable[ActiveAlarm], now: datetime, recipients: Iterable[NotificationPreferences]
    ) -> list[Notification]:
        """Notifications due now for `alarms`; steps are marked fired even if no user accepts the channel."""
        now = ensure_utc(now, "now")
        recipients = tuple(recipients)
        out: list[Notification] = []
        live: set[tuple[str, datetime]] = set()
        for alarm in alarms:
            if alarm.state is not AlarmState.ACTIVE_UNACKED or alarm.priority not in self.policy.priorities:
                continue
            key = (alarm.alarm_id, alarm.activated_at)
            live.add(key)
            fired = self._fired.setdefault(key, set())
            elapsed_min = max(0.0, (now - alarm.activated_at).total_seconds() / 60.0)
            for index in due_steps(self.policy, elapsed_min, frozenset(fired)):
                fired.add(index)
                channel = self.policy.steps[index].channel
                out.extend(
                    Notification(alarm.alarm_id, r.user, channel, index, alarm.priority, elapsed_min)
                    for r in recipients
                    if r.accepts(channel, alarm.priority)
                )
        # Forget chains of alarms no longer unacknowledged: their next activation starts afresh.
        for key in [k for k in self._fired if k not in live]:
            del self._fired[key]
        return out
