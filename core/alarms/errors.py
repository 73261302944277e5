"""Typed errors of the alarm engine: each says what was refused and why."""

from __future__ import annotations


class AlarmError(Exception):
    """Base of every error raised by core.alarms."""


class RuleValidationError(AlarmError, ValueError):
    """A rule definition was refused; `field` names the offending field, `reason` says why."""

    def __init__(self, rule_id: str, field: str, reason: str) -> None:
        self.rule_id = rule_id
        self.field = field
        self.reason = reason
        super().__init__(f"rule {rule_id!r}: {field}: {reason}")


class UnknownMetricError(RuleValidationError):
    """A rule names a metric the engine cannot measure."""


class IllegalTransitionError(AlarmError):
    """An event is not allowed in the alarm's current state (ISA-18.2 state model)."""

    def __init__(self, state: object, event: object, reason: str) -> None:
        self.state = state
        self.event = event
        self.reason = reason
        super().__init__(f"{type(event).__name__} not allowed in state {state}: {reason}")


class UnknownAlarmError(AlarmError, KeyError):
    """An operator action named an alarm id the engine does not know."""

    def __init__(self, alarm_id: str) -> None:
        self.alarm_id = alarm_id
        super().__init__(alarm_id)

    def __str__(self) -> str:
        return f"unknown alarm id {self.alarm_id!r}"


class OperatorActionRefusedError(AlarmError, ValueError):
    """An operator action (shelve, comment, out-of-service) had invalid arguments."""

    def __init__(self, action: str, reason: str) -> None:
        self.action = action
        self.reason = reason
        super().__init__(f"{action} refused: {reason}")


class SnapshotError(AlarmError, ValueError):
    """A fleet snapshot handed to the engine is inconsistent (lengths, shapes, ids)."""
