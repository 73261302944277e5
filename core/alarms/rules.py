"""Frozen alarm rule definitions, validated on construction, and the default rule set.

An invalid rule never exists: construction raises RuleValidationError naming the field and the reason,
so an admin editing thresholds gets the reason back instead of a rule that silently never fires.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from core.alarms.errors import RuleValidationError, UnknownMetricError
from core.alarms.inputs import (
    AckLatencyHigh,
    Availability,
    CommandFailed,
    ForecastDriftDetected,
    ScheduleEntryFailed,
)
from core.alarms.metrics import Metric
from core.alarms.priorities import Priority


class Comparison(str, Enum):
    """HIGH alarms when value >= threshold; LOW alarms when value <= threshold."""

    HIGH = "high"
    LOW = "low"


class EventKind(str, Enum):
    """Discrete events that raise alarms; each maps to one input event type."""

    COMMAND_FAILED = "command_failed"
    SCHEDULE_ENTRY_FAILED = "schedule_entry_failed"
    ACK_LATENCY_HIGH = "ack_latency_high"
    FORECAST_DRIFT = "forecast_drift"

    @property
    def event_type(self) -> type:
        """The input dataclass this kind reacts to."""
        return _EVENT_TYPES[self]


_EVENT_TYPES = {
    EventKind.COMMAND_FAILED: CommandFailed,
    EventKind.SCHEDULE_ENTRY_FAILED: ScheduleEntryFailed,
    EventKind.ACK_LATENCY_HIGH: AckLatencyHigh,
    EventKind.FORECAST_DRIFT: ForecastDriftDetected,
}


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_id(rule_id: object) -> None:
    if not isinstance(rule_id, str) or not rule_id.strip():
        raise RuleValidationError(str(rule_id), "rule_id", "must be a non-empty string")
    if ":" in rule_id:
        # ':' separates rule id from source id in alarm ids
        raise RuleValidationError(rule_id, "rule_id", "must not contain ':'")


def _check_priority(rule_id: str, priority: object) -> None:
    if not isinstance(priority, Priority):
        raise RuleValidationError(rule_id, "priority", f"must be a Priority, got {priority!r}")


def _check_delay(rule_id: str, field: str, value: object) -> None:
    if not _is_number(value) or not math.isfinite(value):  # type: ignore[arg-type]
        raise RuleValidationError(rule_id, field, f"must be a finite number of seconds, got {value!r}")
    if value < 0:  # type: ignore[operator]
        raise RuleValidationError(rule_id, field, f"must be >= 0 s, got {value}")


@dataclass(frozen=True)
class ThresholdRule:
    """Alarm when `metric` crosses `threshold` in direction `comparison`.

    A HIGH alarm activates at value >= threshold held for `on_delay_s`, and clears only once the value
    is below threshold - deadband for `off_delay_s` (LOW mirrors this). Missing readings (NaN) leave
    the alarm as it was: no reading is no evidence either way.
    """

    rule_id: str
    metric: Metric
    comparison: Comparison
    threshold: float
    priority: Priority
    deadband: float = 0.0
    on_delay_s: float = 0.0
    off_delay_s: float = 0.0
    description: str = ""

    def __post_init__(self) -> None:
        _check_id(self.rule_id)
        rid = self.rule_id
        try:
            metric = Metric(self.metric)
        except ValueError:
            known = ", ".join(m.value for m in Metric)
            raise UnknownMetricError(rid, "metric", f"unknown metric {self.metric!r}; known: {known}")
        object.__setattr__(self, "metric", metric)
        try:
            object.__setattr__(self, "comparison", Comparison(self.comparison))
        except ValueError:
            raise RuleValidationError(rid, "comparison", f"must be 'high' or 'low', got {self.comparison!r}")
        _check_priority(rid, self.priority)
        rng = metric.physical_range
        thr, band = self.threshold, self.deadband
        if not _is_number(thr) or not math.isfinite(thr):
            raise RuleValidationError(rid, "threshold", f"must be a finite number, got {thr!r}")
        if thr not in rng:
            raise RuleValidationError(
                rid, "threshold", f"{thr} {rng.unit} is outside the physical range "
                f"{rng.low}..{rng.high} {rng.unit} of {metric.value}")
        if not _is_number(band) or not math.isfinite(band):
            raise RuleValidationError(rid, "deadband", f"must be a finite number, got {band!r}")
        if band < 0:
            raise RuleValidationError(rid, "deadband", f"must be >= 0, got {band}")
        if band >= rng.span:
            raise RuleValidationError(
                rid, "deadband", f"{band} {rng.unit} is not smaller than the range width {rng.span} {rng.unit}")
        clear_level = thr - band if self.comparison is Comparison.HIGH else thr + band
        if clear_level not in rng:
            # The value could never get past the clear level, so the alarm could never clear.
            raise RuleValidationError(
                rid, "deadband", f"clear level {clear_level:g} {rng.unit} lies outside "
                f"{rng.low}..{rng.high} {rng.unit}: the alarm could never clear")
        _check_delay(rid, "on_delay_s", self.on_delay_s)
        _check_delay(rid, "off_delay_s", self.off_delay_s)
        object.__setattr__(self, "threshold", float(thr))
        object.__setattr__(self, "deadband", float(band))


@dataclass(frozen=True)
class DeviceOfflineRule:
    """Alarm when a device's availability is at least `level` for `on_delay_s` seconds."""

    rule_id: str
    priority: Priority
    level: Availability = Availability.OFFLINE
    on_delay_s: float = 0.0
    description: str = ""

    def __post_init__(self) -> None:
        _check_id(self.rule_id)
        _check_priority(self.rule_id, self.priority)
        try:
            level = Availability(self.level)
        except ValueError:
            raise RuleValidationError(self.rule_id, "level", f"unknown availability {self.level!r}")
        if level is Availability.ONLINE:
            raise RuleValidationError(self.rule_id, "level", "ONLINE would alarm on every healthy device")
        object.__setattr__(self, "level", level)
        _check_delay(self.rule_id, "on_delay_s", self.on_delay_s)


@dataclass(frozen=True)
class EventRule:
    """Alarm on a discrete event of `kind`; the condition holds for `hold_s` after the last event.

    Events have no "return to normal" of their own, so the alarm clears once no further event of the
    kind arrived for `hold_s` seconds (it then waits in RTNUN for acknowledgement if unacked).
    """

    rule_id: str
    kind: EventKind
    priority: Priority
    hold_s: float = 300.0
    description: str = ""

    def __post_init__(self) -> None:
        _check_id(self.rule_id)
        try:
            object.__setattr__(self, "kind", EventKind(self.kind))
        except ValueError:
            raise RuleValidationError(self.rule_id, "kind", f"unknown event kind {self.kind!r}")
        _check_priority(self.rule_id, self.priority)
        _check_delay(self.rule_id, "hold_s", self.hold_s)


AlarmRule = ThresholdRule | DeviceOfflineRule | EventRule


def validate_rule_set(rules: tuple[AlarmRule, ...] | list[AlarmRule]) -> tuple[AlarmRule, ...]:
    """Return rules as a tuple after checking the set as a whole (unique ids, known types)."""
    seen: set[str] = set()
    for rule in rules:
        if not isinstance(rule, (ThresholdRule, DeviceOfflineRule, EventRule)):
            raise RuleValidationError(repr(rule), "type", "not an alarm rule")
        if rule.rule_id in seen:
            raise RuleValidationError(rule.rule_id, "rule_id", "duplicate rule id")
        seen.add(rule.rule_id)
    return tuple(rules)
