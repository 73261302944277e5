"""Runtime commands for alarm actions and the event the runtime publishes. Frozen, handled by type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.alarms.priorities import Priority
from core.alarms.sql_store import AlarmHistoryFilter
from core.alarms.transitions import AlarmTransition
from core.auth.principal import Principal


@dataclass(frozen=True, slots=True)
class AcknowledgeAlarms:
    actor: Principal
    alarm_ids: tuple[str, ...]
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class ShelveAlarm:
    actor: Principal
    alarm_id: str
    reason: str
    until: datetime


@dataclass(frozen=True, slots=True)
class UnshelveAlarm:
    actor: Principal
    alarm_id: str


@dataclass(frozen=True, slots=True)
class CommentAlarm:
    actor: Principal
    alarm_id: str
    text: str


@dataclass(frozen=True, slots=True)
class SetAlarmsOutOfService:
    actor: Principal
    device_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class ReturnAlarmsToService:
    actor: Principal
    device_id: str


@dataclass(frozen=True, slots=True)
class UpdateAlarmRule:
    actor: Principal
    rule_id: str
    threshold: float | None = None
    deadband: float | None = None
    on_delay_s: float | None = None
    priority: Priority | None = None


@dataclass(frozen=True, slots=True)
class ListActiveAlarms:
    """Answers with the alarm list (list[ActiveAlarm]), suppressed ones included when asked."""

    actor: Principal
    include_suppressed: bool = False


@dataclass(frozen=True, slots=True)
class QueryAlarmHistory:
    """Answers with journal entries (list[AlarmTransition]), newest first."""

    actor: Principal
    filter: AlarmHistoryFilter = AlarmHistoryFilter()


@dataclass(frozen=True, slots=True)
class AlarmTransitionsPublished:
    """Transitions the engine produced in one evaluation or action, oldest first."""

    transitions: tuple[AlarmTransition, ...]
    annunciated_count: int
    unacked_critical_count: int


@dataclass(frozen=True, slots=True)
class ListAlarmRules:
    """Answers with the rules in force (tuple[AlarmRule, ...])."""

    actor: Principal


@dataclass(frozen=True, slots=True)
class ComputeAlarmLoad:
    """Answers with the EEMUA 191 figures (AlarmLoadReport) for [period_start, period_end)."""

    actor: Principal
    period_start: datetime
    period_end: datetime
    operators: int = 1
