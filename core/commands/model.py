"""What an operator can tell a device to do, and what came of it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping


class CommandKind(str, enum.Enum):
    CHARGE = "charge"
    DISCHARGE = "discharge"
    IDLE = "idle"
    MAINTENANCE = "maintenance"

    @property
    def needs_rate(self) -> bool:
        return self in (CommandKind.CHARGE, CommandKind.DISCHARGE)


class CommandStatus(str, enum.Enum):
    ACKED = "acked"  # the device confirmed (MQTT cmd/result ok, or Modbus readback matched)
    REJECTED = "rejected"  # the device answered no, with its reason
    TIMEOUT = "timeout"  # no answer within the deadline
    FAILED = "failed"  # the transport failed (connection lost, readback mismatch, ...)
    REFUSED = "refused"  # GridRoom refused it before sending (limits, offline, maintenance)
    QUEUED = "queued"  # accepted for a device that takes commands while offline; sent on return


@dataclass(frozen=True, slots=True)
class DeviceCommand:
    device_id: str
    kind: CommandKind
    rate_kw: float = 0.0  # always positive; the kind gives the direction

    def describe(self) -> str:
        return f"{self.kind.value} at {self.rate_kw:g} kW" if self.kind.needs_rate else self.kind.value


@dataclass(frozen=True, slots=True)
class CommandLimits:
    """What GridRoom knows about a device when it checks a command."""

    device_id: str
    max_charge_kw: float
    max_discharge_kw: float
    online: bool
    in_maintenance: bool = False
    queues_when_offline: bool = False
    last_seen: datetime | None = None


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    command_id: str
    command: DeviceCommand
    status: CommandStatus
    message: str
    requested_by: str
    requested_at: datetime
    completed_at: datetime
    readback: Mapping[str, Any] = field(default_factory=dict)

    @property
    def latency_s(self) -> float:
        return (self.completed_at - self.requested_at).total_seconds()


class CommandRefused(Exception):
    """GridRoom did not send the command; the message names the rule and the limit."""

    def __init__(self, message: str, outcome: "CommandOutcome | None" = None) -> None:
        super().__init__(message)
        self.outcome = outcome


class CommandDeliveryError(Exception):
    """Raised by a gateway: the device said no, did not answer, or the transport failed."""

    def __init__(self, status: CommandStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
