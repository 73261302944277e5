"""Glue between the alarm engine and the dispatcher: on each tick, turn due escalation steps into
notifications and queue them.

The policy (which step is due, which users accept which channel) lives in core.alarms.escalation;
this file only resolves the alarm's details and hands each message to the dispatcher, whose enqueue
never blocks, so a tick costs the engine's loop next to nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from core.alarms.escalation import EscalationTracker, NotificationPreferences
from core.alarms.rules import AlarmRule
from core.alarms.transitions import ActiveAlarm
from core.clock import Clock
from core.notifications.messages import AlarmNotification

log = logging.getLogger(__name__)

Recipients = Iterable[NotificationPreferences] | Callable[[], Iterable[NotificationPreferences]]


class Enqueuer(Protocol):
    """The part of NotificationDispatcher the runner needs."""

    def enqueue(self, notification: AlarmNotification) -> bool: ...


def describe_alarm(alarm: ActiveAlarm, rule: AlarmRule | None) -> str:
    """The human line of a notification: the rule's description (if any) and the value that tripped it."""
    text = getattr(rule, "description", "") or f"{alarm.rule_id} on {alarm.source_id}"
    if alarm.value is not None:
        text += f" (value {alarm.value:g})"
    return text


class EscalationRunner:
    """Each tick: ask the tracker what is due for the active alarms and enqueue one notification per
    (user, channel). Preferences are read on every tick, so a user's change applies at once."""

    def __init__(self, tracker: EscalationTracker, dispatcher: Enqueuer, clock: Clock, recipients: Recipients, *,
                 rules: Iterable[AlarmRule] = (), site_timezone: str | Callable[[str], str | None] | None = None,
                 describe: Callable[[ActiveAlarm, AlarmRule | None], str] = describe_alarm) -> None:
        self._tracker = tracker
        self._dispatcher = dispatcher
        self._clock = clock
        self._recipients = recipients
        self._rules: Mapping[str, AlarmRule] = {r.rule_id: r for r in rules}
        self._site_timezone = site_timezone
        self._describe = describe

    def _current_recipients(self) -> tuple[NotificationPreferences, ...]:
        source = self._recipients() if callable(self._recipients) else self._recipients
        return tuple(source)

    def _zone_for(self, source_id: str) -> str | None:
        zone = self._site_timezone
        return zone(source_id) if callable(zone) else zone

    def tick(self, alarms: Iterable[ActiveAlarm]) -> list[AlarmNotification]:
        """Queue the notifications due now for `alarms` (the engine's active alarms); return them."""
        alarms = tuple(alarms)
        by_id = {a.alarm_id: a for a in alarms}
        due = self._tracker.due(alarms, self._clock.now(), self._current_recipients())
        sent: list[AlarmNotification] = []
        for item in due:
            alarm = by_id[item.alarm_id]
            try:
                notification = AlarmNotification(
                    alarm_id=alarm.alarm_id, priority=alarm.priority, source=alarm.source_id, rule=alarm.rule_id,
                    message=self._describe(alarm, self._rules.get(alarm.rule_id)), raised_at=alarm.activated_at,
                    state=alarm.state, recipient=item.user, channel=item.channel, step_index=item.step_index,
                    site_timezone=self._zone_for(alarm.source_id))
            except Exception:  # one bad row (e.g. an unknown zone) must not stop the others
                log.exception("could not build a notification for %s", item)
                continue
            self._dispatcher.enqueue(notification)
            sent.append(notification)
        return sent
