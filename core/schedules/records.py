"""What the schedule service hands out: stored versions, deliveries, acknowledgements and their outcomes."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import datetime

from core.schedules.errors import ScheduleError
from core.schedules.model import Schedule, ScheduleEntry, ScheduleSource, ScheduleState, ScheduleTarget, TargetKind
from core.schedules.tables import ScheduleAckRow, ScheduleDeliveryRow, ScheduleRow
from core.schedules.validation import ValidationReport

# A device that refuses a whole schedule (invalid, expired) answers with one ack: entry 0, ok false, and an
# error starting with this prefix. The MQTT contract has no other negative-ack message in schema version 1.
REJECT_PREFIX = "rejected: "


class DeliveryState(enum.Enum):
    """Where one schedule version stands on one device."""

    SENT = "sent"  # handed to the broker (retained) or to GridRoom's own executor
    DELIVERED = "delivered"  # the device has confirmed it holds the schedule (its receipt)
    EXECUTING = "executing"  # entries acknowledged as run as planned
    DEVIATING = "deviating"  # an entry failed or ran at a rate off the plan
    FAILED = "failed"  # the device refused the schedule, or it could not be sent
    COMPLETED = "completed"  # every entry acknowledged, as planned
    SUPERSEDED = "superseded"  # a newer version replaced it

    def __str__(self) -> str:
        return self.value


class InvalidScheduleDraft(ScheduleError, ValueError):
    """Entries that break validation rules; `report` holds every problem."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__("the schedule is not valid:\n" + "\n".join(f"  {issue}" for issue in report.errors))


class InvalidGroupScheduleDraft(ScheduleError, ValueError):
    """A group schedule that breaks validation on one or more members; `reports` holds every member's
    report (device id -> ValidationReport, in member order) so the editor can list failures per device."""

    def __init__(self, group_id: str, reports: dict[str, ValidationReport]) -> None:
        self.group_id = group_id
        self.reports = reports
        failing = [d for d, r in reports.items() if not r.ok]
        lines = [f"  {d}: {issue}" for d in failing for issue in reports[d].errors]
        super().__init__(f"the schedule is not valid for {len(failing)} of {len(reports)} device(s) of group "
                         f"{group_id}:\n" + "\n".join(lines))

    @property
    def failing_devices(self) -> list[str]:
        return [d for d, r in self.reports.items() if not r.ok]


class StaleScheduleVersion(ScheduleError):
    """A newer version of the same schedule has already been distributed."""


@dataclass(frozen=True)
class ScheduleRecord:
    """One stored schedule version. `id` is the database row; `schedule_id` + `version` is what devices see."""

    id: int
    schedule_id: str
    schedule: Schedule
    created_at: datetime
    approved_at: datetime | None
    distributed_at: datetime | None

    @property
    def version(self) -> int:
        return self.schedule.version

    @property
    def state(self) -> ScheduleState:
        return self.schedule.state

    @property
    def entries(self) -> tuple[ScheduleEntry, ...]:
        return self.schedule.entries


@dataclass(frozen=True)
class ScheduleAck:
    """One executed entry as the device reports it (the protocol-free form of the MQTT ack)."""

    schedule_id: str
    version: int
    entry: int
    actual_rate_kw: float
    started_at: datetime
    ended_at: datetime | None
    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class ScheduleReceipt:
    """The device holds this schedule version (it stored and accepted it): its delivery becomes `delivered`."""

    schedule_id: str
    version: int
    received_at: datetime


class AckOutcome(enum.Enum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # already in the execution log (or a receipt already recorded): a re-delivery
    REJECTED = "rejected"  # unknown schedule or version, wrong device, unknown entry


@dataclass(frozen=True)
class AckResult:
    outcome: AckOutcome
    reason: str = ""


@dataclass(frozen=True)
class Delivery:
    schedule_row_id: int
    device_id: str
    state: DeliveryState
    sent_at: datetime | None
    delivered_at: datetime | None
    last_ack_at: datetime | None
    acked_entries: int
    error: str | None


@dataclass(frozen=True)
class ExecutionLogEntry:
    device_id: str
    ack: ScheduleAck
    received_at: datetime


def entries_to_json(entries: tuple[ScheduleEntry, ...]) -> str:
    return json.dumps([{"start": e.start.isoformat(), "end": e.end.isoformat(), "mode": int(e.mode),
                        "rate_kw": e.rate_kw} for e in entries])


def entries_from_json(text: str) -> tuple[ScheduleEntry, ...]:
    return tuple(ScheduleEntry(datetime.fromisoformat(e["start"]), datetime.fromisoformat(e["end"]), e["mode"],
                               e["rate_kw"]) for e in json.loads(text))


def record_of(row: ScheduleRow) -> ScheduleRecord:
    schedule = Schedule(
        target=ScheduleTarget(TargetKind(row.target_kind), row.target_id), entries=entries_from_json(row.entries_json),
        version=row.version, source=ScheduleSource(row.source), created_by=row.created_by,
        approved_by=row.approved_by, state=ScheduleState(row.state),
    )
    return ScheduleRecord(row.id, row.schedule_id, schedule, row.created_at, row.approved_at, row.distributed_at)


def delivery_of(row: ScheduleDeliveryRow) -> Delivery:
    return Delivery(row.schedule_row_id, row.device_id, DeliveryState(row.state), row.sent_at, row.delivered_at,
                    row.last_ack_at, row.acked_entries, row.error)


def log_entry_of(row: ScheduleAckRow) -> ExecutionLogEntry:
    ack = ScheduleAck(row.schedule_id, row.version, row.entry_index, row.actual_rate_kw, row.started_at, row.ended_at,
                      row.ok, row.error)
    return ExecutionLogEntry(row.device_id, ack, row.received_at)
