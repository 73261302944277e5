"""The schedule domain model: entries, schedules, their lifecycle and the device limits they are checked against.

Pure values: no database and no protocol. drivers/mqtt maps a Schedule onto its SchedulePayload
(mode numbers and the [start, end) interval meaning are the same on both sides).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, replace
from datetime import datetime

from core.schedules.errors import (
    ApprovalRequired,
    IllegalScheduleTransition,
    InvalidDeviceLimits,
    InvalidSchedule,
    InvalidScheduleEntry,
)


class Mode(enum.IntEnum):
    """What an entry asks the battery to do; the numbers are the product brief's (1 = discharge, 2 = charge)."""

    DISCHARGE = 1
    CHARGE = 2

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class ScheduleEntry:
    """One interval [start, end) at rate_kw (AC side, always positive; the mode gives the direction).

    The entry keeps what the operator entered even when it is wrong (a naive time, mode 7): validation is
    the single gate, so an editor can show every problem at once. Only wrong *types* are refused here.
    """

    start: datetime
    end: datetime
    mode: Mode | int
    rate_kw: float

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            if not isinstance(getattr(self, name), datetime):
                raise InvalidScheduleEntry(f"{name} must be a datetime, got {getattr(self, name)!r}")
        # bool is an int subclass; True as a mode or a rate is always a mistake.
        if isinstance(self.mode, bool) or not isinstance(self.mode, int):
            raise InvalidScheduleEntry(f"mode must be an int (1 = discharge, 2 = charge), got {self.mode!r}")
        if isinstance(self.rate_kw, bool) or not isinstance(self.rate_kw, (int, float)):
            raise InvalidScheduleEntry(f"rate_kw must be a number, got {self.rate_kw!r}")
        if self.mode in (1, 2) and not isinstance(self.mode, Mode):
            object.__setattr__(self, "mode", Mode(self.mode))
        object.__setattr__(self, "rate_kw", float(self.rate_kw))

    @property
    def duration_h(self) -> float:
        """Length of the interval in hours."""
        return (self.end - self.start).total_seconds() / 3600.0


class TargetKind(enum.Enum):
    DEVICE = "device"
    GROUP = "group"


@dataclass(frozen=True)
class ScheduleTarget:
    """Who a schedule is for: one device or a device group (a group schedule is applied per member)."""

    kind: TargetKind
    id: str

    @classmethod
    def device(cls, device_id: str) -> ScheduleTarget:
        return cls(TargetKind.DEVICE, device_id)

    @classmethod
    def group(cls, group_id: str) -> ScheduleTarget:
        return cls(TargetKind.GROUP, group_id)

    def __str__(self) -> str:
        return f"{self.kind.value} {self.id}"


class ScheduleSource(enum.Enum):
    MANUAL = "manual"
    OPTIMIZER = "optimizer"
    IMPORT = "import"


class ScheduleState(enum.Enum):
    """Lifecycle (DESIGN.md, Schedules). FAILED and CANCELLED are additions an operator needs:

    - FAILED: the device refused the schedule or did not acknowledge it in time. Without it a schedule
      stuck in DISTRIBUTED looks like "still on its way" forever; FAILED lets it be retried, replaced or
      cancelled, and is what the alarm on distribution failure points at. Failures of single executed
      entries (use case 9) go to the execution log, not here.
    - CANCELLED: the operator withdraws a schedule (a draft thrown away, an approved one not sent, or a
      running one stopped; the driver then sends an empty schedule, which clears it on the device). It is
      distinct from SUPERSEDED, which means "replaced by a newer version", so the audit trail says which.
    """

    DRAFT = "draft"
    APPROVED = "approved"
    DISTRIBUTED = "distributed"
    ACKNOWLEDGED = "acknowledged"
    COMPLETED = "completed"
    SUPERSEDED = "superseded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value

    @property
    def is_final(self) -> bool:
        return not allowed_actions(self)


class ScheduleAction(enum.Enum):
    APPROVE = "approve"
    DISTRIBUTE = "distribute"  # also the retry after FAILED
    ACKNOWLEDGE = "acknowledge"
    COMPLETE = "complete"
    SUPERSEDE = "supersede"
    FAIL = "fail"
    CANCEL = "cancel"

    def __str__(self) -> str:
        return self.value


_S, _A = ScheduleState, ScheduleAction
_TRANSITIONS: dict[tuple[ScheduleState, ScheduleAction], ScheduleState] = {
    (_S.DRAFT, _A.APPROVE): _S.APPROVED,
    (_S.DRAFT, _A.CANCEL): _S.CANCELLED,
    (_S.APPROVED, _A.DISTRIBUTE): _S.DISTRIBUTED,
    (_S.APPROVED, _A.SUPERSEDE): _S.SUPERSEDED,
    (_S.APPROVED, _A.CANCEL): _S.CANCELLED,
    (_S.DISTRIBUTED, _A.ACKNOWLEDGE): _S.ACKNOWLEDGED,
    (_S.DISTRIBUTED, _A.FAIL): _S.FAILED,
    (_S.DISTRIBUTED, _A.SUPERSEDE): _S.SUPERSEDED,
    (_S.DISTRIBUTED, _A.CANCEL): _S.CANCELLED,
    (_S.ACKNOWLEDGED, _A.COMPLETE): _S.COMPLETED,
    (_S.ACKNOWLEDGED, _A.SUPERSEDE): _S.SUPERSEDED,
    (_S.ACKNOWLEDGED, _A.CANCEL): _S.CANCELLED,
    (_S.FAILED, _A.DISTRIBUTE): _S.DISTRIBUTED,
    (_S.FAILED, _A.SUPERSEDE): _S.SUPERSEDED,
    (_S.FAILED, _A.CANCEL): _S.CANCELLED,
}


def allowed_actions(state: ScheduleState) -> tuple[ScheduleAction, ...]:
    """The actions the lifecycle allows from `state`, in declaration order (empty for final states)."""
    return tuple(action for (s, action) in _TRANSITIONS if s is state)


def transition(state: ScheduleState, action: ScheduleAction) -> ScheduleState:
    """The state after `action`; raises IllegalScheduleTransition naming the allowed actions otherwise."""
    try:
        return _TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalScheduleTransition(state, action, allowed_actions(state)) from None


@dataclass(frozen=True)
class Schedule:
    """One version of the schedule of a device or group. A newer version of the same target supersedes it."""

    target: ScheduleTarget
    entries: tuple[ScheduleEntry, ...]
    version: int
    source: ScheduleSource
    created_by: str
    approved_by: str | None = None
    state: ScheduleState = ScheduleState.DRAFT

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", tuple(self.entries))
        if not all(isinstance(e, ScheduleEntry) for e in self.entries):
            raise InvalidSchedule("entries must all be ScheduleEntry values")
        if not self.target.id:
            raise InvalidSchedule("the target needs an id")
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise InvalidSchedule(f"version must be an integer >= 1, got {self.version!r}")

    def apply(self, action: ScheduleAction, *, by: str | None = None) -> Schedule:
        """This schedule after a lifecycle action; approving records `by` as approver (required)."""
        new_state = transition(self.state, action)
        if action is ScheduleAction.APPROVE:
            if not by:
                raise ApprovalRequired("approving a schedule needs the approver's name")
            return replace(self, state=new_state, approved_by=by)
        return replace(self, state=new_state)


@dataclass(frozen=True)
class DeviceLimits:
    """What a battery can do, and where it stands now; validation and the SoC trajectory use these.

    Rates are AC-side kW. Efficiencies are one-way fractions in (0, 1]: charging at rate_kw stores
    rate_kw * charge_efficiency, discharging at rate_kw draws rate_kw / discharge_efficiency from the cells.
    """

    device_id: str
    capacity_kwh: float
    max_charge_kw: float
    max_discharge_kw: float
    soc_min_pct: float
    soc_max_pct: float
    charge_efficiency: float
    discharge_efficiency: float
    current_soc_pct: float

    def __post_init__(self) -> None:
        def bad(name: str, reason: str) -> InvalidDeviceLimits:
            return InvalidDeviceLimits(self.device_id, name, reason)

        for name in ("capacity_kwh", "max_charge_kw", "max_discharge_kw", "soc_min_pct", "soc_max_pct",
                     "charge_efficiency", "discharge_efficiency", "current_soc_pct"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise bad(name, f"must be a finite number, got {value!r}")
        if not self.device_id:
            raise bad("device_id", "must not be empty")
        if self.capacity_kwh <= 0:
            raise bad("capacity_kwh", f"must be > 0, got {self.capacity_kwh}")
        for name in ("max_charge_kw", "max_discharge_kw"):
            if getattr(self, name) < 0:
                raise bad(name, f"must be >= 0, got {getattr(self, name)}")
        if not 0 <= self.soc_min_pct < self.soc_max_pct <= 100:
            raise bad("soc_min_pct", f"need 0 <= soc_min_pct < soc_max_pct <= 100, got "
                                     f"{self.soc_min_pct} and {self.soc_max_pct}")
        for name in ("charge_efficiency", "discharge_efficiency"):
            if not 0 < getattr(self, name) <= 1:
                raise bad(name, f"must be in (0, 1], got {getattr(self, name)}")
        if not 0 <= self.current_soc_pct <= 100:
            raise bad("current_soc_pct", f"must be within 0..100, got {self.current_soc_pct}")

    def limit_kw(self, mode: Mode) -> float:
        """The rate limit that applies to `mode`."""
        return self.max_charge_kw if mode is Mode.CHARGE else self.max_discharge_kw


