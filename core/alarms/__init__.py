"""ISA-18.2 alarm engine: rules, lifecycle, evaluation, escalation policy and EEMUA 191 load figures.

Pure logic: no storage, no notifications, no Qt. The engine emits frozen AlarmTransition records to an
AlarmStore that a repository implements.
"""

from core.alarms.default_rules import Chemistry, default_rules
from core.alarms.engine import AlarmEngine
from core.alarms.errors import (
    AlarmError,
    IllegalTransitionError,
    OperatorActionRefusedError,
    RuleValidationError,
    SnapshotError,
    UnknownAlarmError,
    UnknownMetricError,
)
from core.alarms.inputs import AckLatencyHigh, Availability, CommandFailed, ForecastDriftDetected, ScheduleEntryFailed
from core.alarms.metrics import METRIC_RANGES, Metric
from core.alarms.priorities import Priority
from core.alarms.rules import Comparison, DeviceOfflineRule, EventKind, EventRule, ThresholdRule
from core.alarms.snapshot import BatterySystemSnapshot, FleetSnapshot
from core.alarms.states import AlarmState, next_state
from core.alarms.store import AlarmStore, InMemoryAlarmStore
from core.alarms.transitions import ActiveAlarm, AlarmTransition, TransitionCause, alarm_id_for

__all__ = [
    "AckLatencyHigh", "ActiveAlarm", "AlarmEngine", "AlarmError", "AlarmState", "AlarmStore",
    "AlarmTransition", "Availability", "BatterySystemSnapshot", "Chemistry", "CommandFailed", "Comparison",
    "DeviceOfflineRule", "EventKind", "EventRule", "FleetSnapshot", "ForecastDriftDetected",
    "IllegalTransitionError", "InMemoryAlarmStore", "METRIC_RANGES", "Metric", "OperatorActionRefusedError",
    "Priority", "RuleValidationError", "ScheduleEntryFailed", "SnapshotError", "ThresholdRule",
    "TransitionCause", "UnknownAlarmError", "UnknownMetricError", "alarm_id_for", "default_rules", "next_state",
]
