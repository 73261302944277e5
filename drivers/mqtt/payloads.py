"""Pydantic models of every payload in the GridRoom MQTT device contract (schema version 1).

The models are strict (no type coercion: ``"5"`` is not a number, ``true`` is not ``1``), forbid unknown
fields and refuse NaN/Infinity, so a payload either means exactly what the contract says or is rejected.
docs/mqtt-contract.md is the prose version of this file; keep the two in step.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = 1
MAX_PAYLOAD_BYTES = 64 * 1024
MAX_CELLS_PER_PACK = 1024
MAX_SCHEDULE_ENTRIES = 2048
MAX_TEXT = 500

# Physical bounds: wide enough for any grid battery we expect, narrow enough to catch unit mix-ups
# (W sent as kW, mV as V, Kelvin as Celsius).
SOC_PCT = (0.0, 100.0)
SOH_PCT = (0.0, 100.0)
TEMP_C = (-40.0, 120.0)
POWER_KW = (-100_000.0, 100_000.0)
VOLTAGE_V = (0.0, 2_000.0)
CURRENT_A = (-20_000.0, 20_000.0)
CELL_VOLTAGE_V = (0.0, 6.0)


def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


# ISO 8601 with an explicit offset ("Z" or "+01:00"); normalised to UTC. Naive times are rejected.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")]
Text = Annotated[str, Field(max_length=MAX_TEXT)]
SocPct = Annotated[float, Field(ge=SOC_PCT[0], le=SOC_PCT[1])]
SohPct = Annotated[float, Field(ge=SOH_PCT[0], le=SOH_PCT[1])]
TempC = Annotated[float, Field(ge=TEMP_C[0], le=TEMP_C[1])]
PowerKw = Annotated[float, Field(ge=POWER_KW[0], le=POWER_KW[1])]
RateKw = Annotated[float, Field(ge=0.0, le=POWER_KW[1])]
VoltageV = Annotated[float, Field(ge=VOLTAGE_V[0], le=VOLTAGE_V[1])]
CurrentA = Annotated[float, Field(ge=CURRENT_A[0], le=CURRENT_A[1])]
CellVoltageV = Annotated[float, Field(ge=CELL_VOLTAGE_V[0], le=CELL_VOLTAGE_V[1])]
# The schema version is a plain strict int (not Literal[1]: pydantic lets ``true`` through a Literal[1]).
SchemaVersion = Annotated[int, Field(ge=SCHEMA_VERSION, le=SCHEMA_VERSION)]


class DeviceMode(enum.IntEnum):
    """What a device reports it is doing (telemetry ``mode``). 1 and 2 match schedule modes."""

    IDLE = 0
    DISCHARGE = 1
    CHARGE = 2
    MAINTENANCE = 3
    FAULT = 4


class ScheduleMode(enum.IntEnum):
    """Schedule entry modes, as in the product brief: 1 = discharge, 2 = charge."""

    DISCHARGE = 1
    CHARGE = 2


class _Payload(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)

    # Required, with no default: a payload without a version is refused, never assumed to be v1.
    v: SchemaVersion


class StatusPayload(_Payload):
    """``status``, retained. The last will is the offline form; it has no ``ts`` because a will is
    composed at connect time, so the control side stamps it with the time it arrives."""

    state: Literal["online", "offline"]
    reason: Text | None = None
    ts: UtcDatetime | None = None


class TelemetryPayload(_Payload):
    """``telemetry``, QoS 0. power_kw is positive when discharging (exporting to the grid)."""

    ts: UtcDatetime
    soc_pct: SocPct
    power_kw: PowerKw
    voltage_v: VoltageV
    current_a: CurrentA
    temp_c: TempC
    soh_pct: SohPct
    mode: Annotated[int, Field(ge=min(DeviceMode), le=max(DeviceMode))]


class CellsPayload(_Payload):
    """``cells/<pack>``: one pack's cells, arrays indexed by cell number, all the same length."""

    ts: UtcDatetime
    pack: Annotated[int, Field(ge=0, le=1023)]
    voltage_v: Annotated[list[CellVoltageV], Field(min_length=1, max_length=MAX_CELLS_PER_PACK)]
    temp_c: Annotated[list[TempC], Field(min_length=1, max_length=MAX_CELLS_PER_PACK)]
    soc_pct: Annotated[list[SocPct], Field(min_length=1, max_length=MAX_CELLS_PER_PACK)]
    soh_pct: Annotated[list[SohPct], Field(min_length=1, max_length=MAX_CELLS_PER_PACK)]
    current_a: CurrentA

    @model_validator(mode="after")
    def _same_cell_count(self) -> CellsPayload:
        lengths = {len(self.voltage_v), len(self.temp_c), len(self.soc_pct), len(self.soh_pct)}
        if len(lengths) != 1:
            raise ValueError("cell arrays voltage_v, temp_c, soc_pct, soh_pct must have the same length")
        return self


class ScheduleEntry(BaseModel):
    """One interval of a schedule: [start, end) at rate_kw in the given mode."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)

    start: UtcDatetime
    end: UtcDatetime
    mode: Annotated[int, Field(ge=min(ScheduleMode), le=max(ScheduleMode))]
    rate_kw: RateKw

    @model_validator(mode="after")
    def _start_before_end(self) -> ScheduleEntry:
        if self.start >= self.end:
            raise ValueError("entry start must be before its end")
        return self


class SchedulePayload(_Payload):
    """``schedule``, retained QoS 1. Entries sorted by start, not overlapping. A newer ``version`` of the
    same ``schedule_id`` supersedes an older one; an empty entry list clears the schedule."""

    schedule_id: Identifier
    version: Annotated[int, Field(ge=1)]
    entries: Annotated[list[ScheduleEntry], Field(max_length=MAX_SCHEDULE_ENTRIES)]

    @model_validator(mode="after")
    def _sorted_without_overlap(self) -> SchedulePayload:
        for previous, entry in zip(self.entries, self.entries[1:]):
            if entry.start < previous.end:
                raise ValueError("schedule entries must be sorted by start and must not overlap")
        return self


class AckPayload(_Payload):
    """``ack``, QoS 1: one executed schedule entry, as the device actually ran it."""

    schedule_id: Identifier
    version: Annotated[int, Field(ge=1)]
    entry: Annotated[int, Field(ge=0, lt=MAX_SCHEDULE_ENTRIES)]
    actual_rate_kw: RateKw
    started_at: UtcDatetime
    ended_at: UtcDatetime | None = None
    ok: bool
    error: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> AckPayload:
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError("ended_at must not be before started_at")
        if not self.ok and not self.error:
            raise ValueError("a failed entry (ok=false) must say why in error")
        return self


class ReceiptPayload(_Payload):
    """``ack`` with ``kind: "receipt"``, QoS 1: the device has stored and accepted this schedule version (sent
    once, before any entry runs). It moves the delivery from ``sent`` to ``delivered``. A refused schedule is
    answered with the negative entry ack instead, never with a receipt."""

    kind: Literal["receipt"]
    schedule_id: Identifier
    version: Annotated[int, Field(ge=1)]
    received_at: UtcDatetime


class CommandPayload(_Payload):
    """``cmd``, QoS 1, control side -> device. Idle and maintenance carry rate_kw 0."""

    command_id: Identifier
    kind: Literal["charge", "discharge", "idle", "maintenance"]
    rate_kw: RateKw = 0.0
    ts: UtcDatetime

    @model_validator(mode="after")
    def _rate_matches_kind(self) -> CommandPayload:
        if self.kind in ("idle", "maintenance") and self.rate_kw != 0.0:
            raise ValueError(f"a {self.kind} command must have rate_kw 0")
        return self


class CommandResultPayload(_Payload):
    """``cmd/result``, QoS 1, device -> control side, answering one command_id."""

    command_id: Identifier
    result: Literal["ok", "rejected", "error"]
    reason: Text | None = None
    ts: UtcDatetime

    @model_validator(mode="after")
    def _reason_when_not_ok(self) -> CommandResultPayload:
        if self.result != "ok" and not self.reason:
            raise ValueError(f"a {self.result} result must carry a reason")
        return self


DevicePayload = (
    StatusPayload
    | TelemetryPayload
    | CellsPayload
    | SchedulePayload
    | AckPayload
    | ReceiptPayload
    | CommandPayload
    | CommandResultPayload
)
