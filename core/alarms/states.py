"""ISA-18.2 alarm states and the pure transition function between them.

The state model follows ANSI/ISA-18.2-2016 figure 5: NORMAL, UNACK (active, unacknowledged), ACKED
(active, acknowledged), RTNUN (returned to normal, unacknowledged), plus the suppression states SHELVED
and OUT_OF_SERVICE. "Suppressed by design" (state-based suppression) is not modelled: GridRoom has no
plant-state logic that would need it.

Events that leave a suppression state carry whether the process condition is active at that moment,
so `next_state` stays a pure function of (state, event) yet returns the alarm to the state an operator
must see: still abnormal means ACTIVE_UNACKED, otherwise NORMAL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from core.alarms.errors import IllegalTransitionError
from core.clock import ensure_utc


class AlarmState(str, Enum):
    """Where an alarm is in its lifecycle. Values are the ISA-18.2 abbreviations."""

    NORMAL = "NORMAL"
    ACTIVE_UNACKED = "UNACK"
    ACTIVE_ACKED = "ACKED"
    RETURNED_UNACKED = "RTNUN"
    SHELVED = "SHLVD"
    OUT_OF_SERVICE = "OOS"

    @property
    def annunciated(self) -> bool:
        """True for states an operator sees in the alarm list (not normal, not suppressed)."""
        return self in ANNUNCIATED_STATES

    @property
    def suppressed(self) -> bool:
        """True while shelved or out of service: the condition is tracked but not shown."""
        return self in SUPPRESSED_STATES


ANNUNCIATED_STATES = frozenset(
    {AlarmState.ACTIVE_UNACKED, AlarmState.ACTIVE_ACKED, AlarmState.RETURNED_UNACKED}
)
SUPPRESSED_STATES = frozenset({AlarmState.SHELVED, AlarmState.OUT_OF_SERVICE})


@dataclass(frozen=True)
class ConditionActive:
    """The process condition became abnormal (after any on-delay)."""


@dataclass(frozen=True)
class ConditionCleared:
    """The process condition returned to normal (past the deadband, after any off-delay)."""


@dataclass(frozen=True)
class Acknowledge:
    """An operator acknowledged the alarm."""


@dataclass(frozen=True)
class Shelve:
    """An operator shelved the alarm until `until` for `reason` (both required by ISA-18.2)."""

    reason: str
    until: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ValueError("a shelve needs a non-empty reason")
        object.__setattr__(self, "until", ensure_utc(self.until, "shelve until"))


@dataclass(frozen=True)
class Unshelve:
    """An operator unshelved the alarm; `condition_active` is the condition at that moment."""

    condition_active: bool


@dataclass(frozen=True)
class ShelveExpired:
    """The shelve time ran out; `condition_active` is the condition at that moment."""

    condition_active: bool


@dataclass(frozen=True)
class RemoveFromService:
    """The alarm's device went into maintenance: the alarm is out of service."""


@dataclass(frozen=True)
class ReturnToService:
    """Maintenance ended; `condition_active` is the condition at that moment."""

    condition_active: bool


AlarmEvent = (
    ConditionActive
    | ConditionCleared
    | Acknowledge
    | Shelve
    | Unshelve
    | ShelveExpired
    | RemoveFromService
    | ReturnToService
)

_S = AlarmState

# The legal transitions whose target does not depend on the condition. Anything not listed here
# (and not handled by the condition-carrying events below) is illegal.
_TABLE: dict[tuple[AlarmState, type], AlarmState] = {
    (_S.NORMAL, ConditionActive): _S.ACTIVE_UNACKED,
    (_S.ACTIVE_UNACKED, ConditionCleared): _S.RETURNED_UNACKED,
    (_S.ACTIVE_UNACKED, Acknowledge): _S.ACTIVE_ACKED,
    (_S.ACTIVE_ACKED, ConditionCleared): _S.NORMAL,
    (_S.RETURNED_UNACKED, ConditionActive): _S.ACTIVE_UNACKED,
    (_S.RETURNED_UNACKED, Acknowledge): _S.NORMAL,
    # Suppressed alarms keep tracking the condition without annunciating it.
    (_S.SHELVED, ConditionActive): _S.SHELVED,
    (_S.SHELVED, ConditionCleared): _S.SHELVED,
    (_S.OUT_OF_SERVICE, ConditionActive): _S.OUT_OF_SERVICE,
    (_S.OUT_OF_SERVICE, ConditionCleared): _S.OUT_OF_SERVICE,
}

# Why an event is refused, for the error message.
_REFUSALS: dict[tuple[AlarmState, type], str] = {
    (_S.NORMAL, ConditionCleared): "the condition is already clear",
    (_S.ACTIVE_UNACKED, ConditionActive): "the condition is already active",
    (_S.ACTIVE_ACKED, ConditionActive): "the condition is already active",
    (_S.RETURNED_UNACKED, ConditionCleared): "the condition is already clear",
    (_S.NORMAL, Acknowledge): "there is nothing to acknowledge",
    (_S.ACTIVE_ACKED, Acknowledge): "the alarm is already acknowledged",
    (_S.SHELVED, Acknowledge): "a shelved alarm is not annunciated",
    (_S.OUT_OF_SERVICE, Acknowledge): "an out-of-service alarm is not annunciated",
    (_S.OUT_OF_SERVICE, Shelve): "an out-of-service alarm cannot be shelved",
    (_S.OUT_OF_SERVICE, RemoveFromService): "the alarm is already out of service",
}


def next_state(state: AlarmState, event: AlarmEvent) -> AlarmState:
    """Return the state that `event` moves an alarm in `state` to.

    Raises IllegalTransitionError (with the reason) when ISA-18.2 does not allow the event there.
    """
    if not isinstance(state, AlarmState):
        raise IllegalTransitionError(state, event, f"{state!r} is not an AlarmState")
    kind = type(event)
    target = _TABLE.get((state, kind))
    if target is not None:
        return target
    if kind is Shelve:
        # Any non-OOS alarm may be shelved, including a normal one (pre-emptive shelving);
        # shelving a shelved alarm replaces the shelve (new reason and expiry).
        if state is not _S.OUT_OF_SERVICE:
            return _S.SHELVED
    elif kind is RemoveFromService:
        if state is not _S.OUT_OF_SERVICE:
            return _S.OUT_OF_SERVICE
    elif kind in (Unshelve, ShelveExpired):
        if state is _S.SHELVED:
            return _S.ACTIVE_UNACKED if event.condition_active else _S.NORMAL  # type: ignore[union-attr]
        return _refuse(state, event, "the alarm is not shelved")
    elif kind is ReturnToService:
        if state is _S.OUT_OF_SERVICE:
            return _S.ACTIVE_UNACKED if event.condition_active else _S.NORMAL  # type: ignore[union-attr]
        return _refuse(state, event, "the alarm is not out of service")
    reason = _REFUSALS.get((state, kind), "not an ISA-18.2 transition")
    return _refuse(state, event, reason)


def _refuse(state: AlarmState, event: object, reason: str) -> AlarmState:
    raise IllegalTransitionError(state, event, reason)
