"""Faults the fleet simulator can inject, and the JSON message that injects them from another process.

In-process (tests): ``sim.inject(OverTemperatureCell("bs-01", pack=3, cell=4))`` / ``sim.clear(...)``.
Out of process (``gridroom sim inject``): a FaultMessage published to CONTROL_TOPIC; the simulator that
owns the device applies it and answers on CONTROL_RESULT_TOPIC with the same request_id. The control
topic is the simulator's own, not part of the device contract (docs/mqtt-contract.md, last section).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.batteries import CELL_METRICS
from drivers.mqtt.topics import DEVICE_ID_PATTERN

CONTROL_TOPIC = "gridroom/sim/fault"
CONTROL_RESULT_TOPIC = "gridroom/sim/fault/result"
# Modbus exception codes a device may answer with (Modbus application protocol v1.1b3, section 7).
MODBUS_EXCEPTION_CODES = (1, 2, 3, 4, 5, 6, 7, 8, 10, 11)


@dataclass(frozen=True)
class Fault:
    """Base of every injectable fault; device_id names the simulated device it hits."""

    device_id: str


@dataclass(frozen=True)
class DeviceOffline(Fault):
    """The device stops talking: MQTT devices say offline (retained), Modbus devices stop answering."""


@dataclass(frozen=True)
class BrokerDrop(Fault):
    """The MQTT connection carrying the device is cut without DISCONNECT: the broker fires its last will,
    then the client reconnects by itself (so clearing it is a no-op)."""


@dataclass(frozen=True)
class ModbusException(Fault):
    """A Modbus device answers every request with this exception code."""

    code: int = 4


@dataclass(frozen=True)
class ModbusTimeout(Fault):
    """A Modbus device receives requests but never answers (clients time out)."""


@dataclass(frozen=True)
class OverTemperatureCell(Fault):
    """One cell of a battery system heats by extra_heat_w (an internal short or a loose busbar)."""

    pack: int
    cell: int
    extra_heat_w: float = 60.0


@dataclass(frozen=True)
class WeakCell(Fault):
    """One cell of a battery system loses capacity and gains resistance."""

    pack: int
    cell: int
    capacity_factor: float = 0.5
    resistance_factor: float = 2.0


@dataclass(frozen=True)
class StuckSensor(Fault):
    """One cell sensor of a battery system keeps reporting the value it had when the fault struck."""

    pack: int
    cell: int
    metric: str = "temp_c"


FAULT_KINDS: dict[str, type[Fault]] = {
    "offline": DeviceOffline,
    "broker_drop": BrokerDrop,
    "modbus_exception": ModbusException,
    "modbus_timeout": ModbusTimeout,
    "over_temperature": OverTemperatureCell,
    "weak_cell": WeakCell,
    "stuck_sensor": StuckSensor,
}
KIND_OF: dict[type[Fault], str] = {cls: kind for kind, cls in FAULT_KINDS.items()}
FaultKind = Literal["offline", "broker_drop", "modbus_exception", "modbus_timeout", "over_temperature",
                    "weak_cell", "stuck_sensor"]  # fmt: skip
_OPTIONAL_FIELDS = ("pack", "cell", "code", "extra_heat_w", "capacity_factor", "resistance_factor", "metric")


class FaultMessageError(ValueError):
    """A control message that is not a valid fault request; reason says what is wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid fault message: {reason}")
        self.reason = reason


class _Message(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)

    v: Annotated[int, Field(ge=1, le=1)]


class FaultMessage(_Message):
    """Inject (or with clear=true, clear) one fault. Only the fields of its kind may be present."""

    request_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")] | None = None
    kind: FaultKind
    device_id: Annotated[str, Field(pattern=rf"^{DEVICE_ID_PATTERN}$")]
    clear: bool = False
    pack: Annotated[int, Field(ge=0, le=1023)] | None = None
    cell: Annotated[int, Field(ge=0, le=1023)] | None = None
    code: int | None = None
    extra_heat_w: Annotated[float, Field(ge=0.0, le=10_000.0)] | None = None
    capacity_factor: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    resistance_factor: Annotated[float, Field(ge=1.0, le=100.0)] | None = None
    metric: str | None = None

    @model_validator(mode="after")
    def _fields_of_kind(self) -> FaultMessage:
        allowed = {f.name for f in fields(FAULT_KINDS[self.kind])} - {"device_id"}
        for name in _OPTIONAL_FIELDS:
            if getattr(self, name) is not None and name not in allowed:
                raise ValueError(f"{name} does not apply to a {self.kind} fault")
        if {"pack", "cell"} <= allowed and (self.pack is None or self.cell is None):
            raise ValueError(f"a {self.kind} fault needs pack and cell")
        if self.code is not None and self.code not in MODBUS_EXCEPTION_CODES:
            raise ValueError(f"code {self.code} is not a Modbus exception code {MODBUS_EXCEPTION_CODES}")
        if self.metric is not None and self.metric not in CELL_METRICS:
            raise ValueError(f"metric must be one of {', '.join(CELL_METRICS)}")
        return self

    def to_fault(self) -> Fault:
        """The Fault this message asks for (defaults fill fields the message leaves out)."""
        cls = FAULT_KINDS[self.kind]
        values = {name: getattr(self, name) for name in _OPTIONAL_FIELDS if getattr(self, name) is not None}
        return cls(device_id=self.device_id, **values)


class FaultResultMessage(_Message):
    """The simulator's answer to a FaultMessage: ok, or why not."""

    request_id: str | None = None
    device_id: str
    ok: bool
    reason: Annotated[str, Field(max_length=500)] | None = None


def fault_message(fault: Fault, *, clear: bool = False, request_id: str | None = None) -> FaultMessage:
    """The control message for fault (raises FaultMessageError if the fault is not expressible)."""
    values = {f.name: getattr(fault, f.name) for f in fields(fault)}
    try:
        return FaultMessage(v=1, kind=KIND_OF[type(fault)], clear=clear, request_id=request_id, **values)
    except ValidationError as exc:
        raise FaultMessageError(_first_error(exc)) from None


def _first_error(exc: ValidationError) -> str:
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(p) for p in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def decode_fault_message(payload: bytes) -> FaultMessage:
    """Validate a control-topic payload; raises FaultMessageError with a reason."""
    try:
        return FaultMessage.model_validate_json(payload)
    except ValidationError as exc:
        raise FaultMessageError(_first_error(exc)) from None
    except (ValueError, TypeError) as exc:  # bytes that are not UTF-8
        raise FaultMessageError(str(exc)) from None


def encode_message(message: BaseModel) -> bytes:
    """Compact JSON for a control or result message."""
    return message.model_dump_json(exclude_none=True).encode()
