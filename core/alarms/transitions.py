"""Frozen records the engine emits: state transitions (the alarm journal) and alarm-list rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from core.alarms.priorities import Priority
from core.alarms.states import AlarmState


class TransitionCause(str, Enum):
    """What produced a journal record. COMMENT records keep the state (from_state == to_state)."""

    CONDITION_ACTIVE = "condition_active"
    CONDITION_CLEARED = "condition_cleared"
    ACKNOWLEDGE = "acknowledge"
    SHELVE = "shelve"
    UNSHELVE = "unshelve"
    SHELVE_EXPIRED = "shelve_expired"
    REMOVE_FROM_SERVICE = "remove_from_service"
    RETURN_TO_SERVICE = "return_to_service"
    COMMENT = "comment"


def alarm_id_for(rule_id: str, source_id: str) -> str:
    """The stable id of the alarm that `rule_id` raises for `source_id`."""
    return f"{rule_id}:{source_id}"


def split_alarm_id(alarm_id: str) -> tuple[str, str]:
    """Inverse of alarm_id_for: (rule_id, source_id). Rule ids never contain ':'."""
    rule_id, sep, source_id = alarm_id.partition(":")
    if not sep or not rule_id or not source_id:
        raise ValueError(f"not an alarm id: {alarm_id!r}")
    return rule_id, source_id


@dataclass(frozen=True)
class AlarmTransition:
    """One entry of the alarm journal; a repository persists these as they come."""

    alarm_id: str
    rule_id: str
    source_id: str
    from_state: AlarmState
    to_state: AlarmState
    at: datetime
    priority: Priority
    cause: TransitionCause
    value: float | None = None
    user: str | None = None
    comment: str | None = None
    shelved_until: datetime | None = None


@dataclass(frozen=True)
class ActiveAlarm:
    """One row of the alarm list (an annunciated or suppressed alarm)."""

    alarm_id: str
    rule_id: str
    source_id: str
    state: AlarmState
    priority: Priority
    activated_at: datetime
    state_since: datetime
    value: float | None
    chattering: bool = False
    shelved_until: datetime | None = None
