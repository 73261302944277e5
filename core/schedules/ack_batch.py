"""One batch of acknowledgements and receipts, checked and stored set-based in the caller's transaction.

The ack listener hands over what has arrived (hundreds to thousands of acks). Checking and storing them one by
one cost ~7 ms per ack on SQLite (four hash-chained audit rows and a handful of queries each), so a batch:
- loads the schedule versions, the deliveries and the already logged entries it refers to with a few
  `IN` queries (chunked), then decides every item in memory, in arrival order, exactly as one by one would;
- inserts the new execution-log rows with one multi-row INSERT; changed deliveries, schedule rows and
  completed running entries are flushed by the session as executemany UPDATEs;
- audits schedule lifecycle changes (acknowledge, complete, fail) once per schedule as before, and writes ONE
  `schedule.acks` row for the batch: counts, the schedule ids touched, delivery state changes counted by new
  state, and each rejected item and each failed or deviating delivery named. Per-ack delivery rows (sent -> executing -> completed) would be four rows per
  ack and two thirds of the time; the batch row keeps the same facts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Union

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from core.audit.trail import AuditEvent, AuditResult
from core.schedules.events import ScheduleAckRejected, ScheduleDeliveryChanged
from core.schedules.model import ScheduleAction, ScheduleEntry, ScheduleState, transition
from core.schedules.records import (
    REJECT_PREFIX,
    AckOutcome,
    AckResult,
    DeliveryState,
    ScheduleAck,
    ScheduleReceipt,
    entries_from_json,
)
from core.schedules.tables import ScheduleAckRow, ScheduleDeliveryRow, ScheduleRow

S = ScheduleState
D = DeliveryState
DeviceMessage = Union[ScheduleAck, ScheduleReceipt]
# An entry counts as deviating when it ran this far off its planned rate (or failed).
DEVIATION_KW = 1.0
DEVIATION_FRACTION = 0.05
OPEN_DELIVERIES = (D.SENT.value, D.DELIVERED.value, D.EXECUTING.value, D.DEVIATING.value)
BATCH_ACTOR = "device-acks"  # the batch row's user: acks of many devices, none signed in
_CHUNK = 400  # keys per IN query: well under SQLite's and PostgreSQL's parameter limits
_LISTED_IN_AUDIT = 200  # rejected items and troubled deliveries listed in the batch row (all are counted)


def chunks(items: list, size: int = _CHUNK) -> Iterator[list]:
    for first in range(0, len(items), size):
        yield items[first:first + size]


@dataclass
class BatchOutcome:
    """What one batch did: a result per item (arrival order), counters, events for the alarm engine."""

    results: list[AckResult] = field(default_factory=list)
    rejects: Counter = field(default_factory=Counter)
    duplicates: int = 0
    events: list[object] = field(default_factory=list)


class AckBatch:
    """Checks and stores one batch; `run` does it all and returns the BatchOutcome."""

    def __init__(self, s: Session, now: datetime, items: Sequence[tuple[str, DeviceMessage]]) -> None:
        self.s = s
        self.now = now
        self.items = items
        self.out = BatchOutcome()
        self.rows: dict[tuple[str, int], ScheduleRow] = {}
        self.entries: dict[int, tuple[ScheduleEntry, ...]] = {}
        self.deliveries: dict[tuple[int, str], ScheduleDeliveryRow] = {}
        self.by_row: dict[int, list[ScheduleDeliveryRow]] = defaultdict(list)
        self.logged: dict[tuple[str, int, str, int], ScheduleAckRow | dict] = {}
        self.new_rows: list[dict] = []
        self.lifecycle: list[AuditEvent] = []
        self.changes: Counter = Counter()  # new delivery state -> how many deliveries reached it
        self.attention: list[str] = []  # "device@schedule v1: why" of deliveries that failed or deviate
        self.stored = 0
        self.receipts = 0
        self.rejected: list[dict] = []

    # -- loading --------------------------------------------------------------------------------------
    def _load(self) -> None:
        s = self.s
        keys = sorted({(m.schedule_id, m.version) for _, m in self.items})
        for chunk in chunks(keys):
            for row in s.execute(select(ScheduleRow).where(
                    tuple_(ScheduleRow.schedule_id, ScheduleRow.version).in_(chunk))).scalars():
                self.rows[(row.schedule_id, row.version)] = row
        row_ids = sorted(row.id for row in self.rows.values())
        for chunk in chunks(row_ids):
            for d in s.execute(select(ScheduleDeliveryRow).where(ScheduleDeliveryRow.schedule_row_id.in_(chunk))
                               .order_by(ScheduleDeliveryRow.device_id)).scalars():
                self.deliveries[(d.schedule_row_id, d.device_id)] = d
                self.by_row[d.schedule_row_id].append(d)
        triples = sorted({(m.schedule_id, m.version, device_id) for device_id, m in self.items
                          if isinstance(m, ScheduleAck) and (m.schedule_id, m.version) in self.rows})
        for chunk in chunks(triples):
            for a in s.execute(select(ScheduleAckRow).where(tuple_(
                    ScheduleAckRow.schedule_id, ScheduleAckRow.version, ScheduleAckRow.device_id).in_(chunk))).scalars():
                self.logged[(a.schedule_id, a.version, a.device_id, a.entry_index)] = a

    def _entries(self, row: ScheduleRow) -> tuple[ScheduleEntry, ...]:
        if row.id not in self.entries:
            self.entries[row.id] = entries_from_json(row.entries_json)
        return self.entries[row.id]

    # -- deciding -------------------------------------------------------------------------------------
    def run(self) -> BatchOutcome:
        self._load()
        for device_id, message in self.items:
            self.out.results.append(self._one(device_id, message))
        self._write()
        return self.out

    def _reject(self, device_id: str, m: DeviceMessage, reason: str) -> AckResult:
        entry = m.entry if isinstance(m, ScheduleAck) else None
        self.out.rejects[reason] += 1
        self.rejected.append({"device_id": device_id, "schedule_id": m.schedule_id, "version": m.version,
                              "entry": entry, "reason": reason})
        self.out.events.append(ScheduleAckRejected(device_id, m.schedule_id, m.version, entry, reason, self.now))
        return AckResult(AckOutcome.REJECTED, reason)

    def _one(self, device_id: str, m: DeviceMessage) -> AckResult:
        row = self.rows.get((m.schedule_id, m.version))
        if row is None:
            return self._reject(device_id, m, "unknown schedule version")
        d = self.deliveries.get((row.id, device_id))
        if d is None and isinstance(m, ScheduleReceipt) and self._sent_but_not_marked(row, device_id):
            d = self._early_delivery(row, device_id)
        if d is None:
            return self._reject(device_id, m, "wrong device")
        if isinstance(m, ScheduleReceipt):
            return self._receipt(row, d)
        entries = self._entries(row)
        if not 0 <= m.entry < len(entries):
            return self._reject(device_id, m, "unknown entry")
        key = (m.schedule_id, m.version, device_id, m.entry)
        existing = self.logged.get(key)
        values = {"actual_rate_kw": m.actual_rate_kw, "ended_at": m.ended_at, "ok": m.ok, "error": m.error,
                  "received_at": self.now}
        if existing is not None:
            ended = existing["ended_at"] if isinstance(existing, dict) else existing.ended_at
            # The contract lets a device ack a running entry without ended_at; its final ack completes that
            # row. Anything else for a logged entry is a re-delivery.
            if ended is not None or m.ended_at is None:
                self.out.duplicates += 1
                return AckResult(AckOutcome.DUPLICATE, "already in the execution log")
            if isinstance(existing, dict):
                existing.update(values)
            else:
                for name, value in values.items():
                    setattr(existing, name, value)
        else:
            new = {"schedule_id": m.schedule_id, "version": m.version, "device_id": device_id,
                   "entry_index": m.entry, "started_at": m.started_at, **values}
            self.new_rows.append(new)
            self.logged[key] = new
        self.stored += 1
        self._advance(row, d, m, entries)
        return AckResult(AckOutcome.STORED)

    @staticmethod
    def _sent_but_not_marked(row: ScheduleRow, device_id: str) -> bool:
        """A device can hold a version before the publisher has recorded the broker's confirmation (the
        receipt overtakes mark_distributed). The version's own target is then the identity to check."""
        return row.target_kind == "device" and row.target_id == device_id and \
            row.state in (S.APPROVED.value, S.DISTRIBUTED.value, S.FAILED.value)

    def _early_delivery(self, row: ScheduleRow, device_id: str) -> ScheduleDeliveryRow:
        d = ScheduleDeliveryRow(schedule_row_id=row.id, device_id=device_id, state=D.SENT.value, acked_entries=0)
        self.s.add(d)
        self.deliveries[(row.id, device_id)] = d
        self.by_row[row.id].append(d)
        return d

    def _receipt(self, row: ScheduleRow, d: ScheduleDeliveryRow) -> AckResult:
        if d.delivered_at is not None:
            self.out.duplicates += 1
            return AckResult(AckOutcome.DUPLICATE, "already delivered")
        d.delivered_at = self.now
        self.receipts += 1
        if d.state == D.SENT.value:
            self._set_delivery(row, d, D.DELIVERED)
        return AckResult(AckOutcome.STORED)

    def _advance(self, row: ScheduleRow, d: ScheduleDeliveryRow, ack: ScheduleAck,
                 entries: tuple[ScheduleEntry, ...]) -> None:
        d.delivered_at = d.delivered_at or self.now  # an entry ack also shows the device holds the schedule
        d.last_ack_at = self.now
        if ack.ended_at is not None:
            d.acked_entries += 1
        if d.state == D.SUPERSEDED.value:
            return
        planned = entries[ack.entry].rate_kw
        if not ack.ok and ack.error and ack.error.startswith(REJECT_PREFIX):
            self._set_delivery(row, d, D.FAILED, ack.error)
            if all(x.state == D.FAILED.value for x in self.by_row[row.id]) and row.state == S.DISTRIBUTED.value:
                self._apply(row, d.device_id, ScheduleAction.FAIL)
            return
        off = abs(ack.actual_rate_kw - planned) > max(DEVIATION_KW, DEVIATION_FRACTION * planned)
        if not ack.ok or off:
            why = ack.error or f"entry {ack.entry}: ran at {ack.actual_rate_kw:g} kW, planned {planned:g} kW"
            self._set_delivery(row, d, D.DEVIATING, why)
        elif d.state in (D.SENT.value, D.DELIVERED.value):
            self._set_delivery(row, d, D.EXECUTING)
        if ack.ok and row.state == S.DISTRIBUTED.value:
            self._apply(row, d.device_id, ScheduleAction.ACKNOWLEDGE)
        if d.acked_entries >= len(entries) and d.state == D.EXECUTING.value:
            self._set_delivery(row, d, D.COMPLETED)
        finished = all(x.acked_entries >= len(entries) for x in self.by_row[row.id] if x.state in OPEN_DELIVERIES)
        if finished and row.state == S.ACKNOWLEDGED.value:
            self._apply(row, d.device_id, ScheduleAction.COMPLETE)

    def _set_delivery(self, row: ScheduleRow, d: ScheduleDeliveryRow, state: DeliveryState,
                      error: str | None = None) -> None:
        if d.state == state.value:
            return
        d.state = state.value
        if error is not None:
            d.error = error
        self.changes[state.value] += 1
        if state in (D.FAILED, D.DEVIATING):
            self.attention.append(f"{d.device_id}@{row.schedule_id} v{row.version} {state.value}: {error or ''}")
            self.out.events.append(ScheduleDeliveryChanged(d.device_id, row.schedule_id, row.version, state.value,
                                                           error or "", self.now))

    def _apply(self, row: ScheduleRow, device_id: str, action: ScheduleAction) -> None:
        before = row.state
        row.state = transition(S(row.state), action).value
        self.lifecycle.append(AuditEvent(f"device:{device_id}", f"schedule.{action.value}",
                                         f"schedule:{row.schedule_id}", AuditResult.SUCCESS,
                                         {"row": row.id, "version": row.version, "target": row.target_id,
                                          "from": before, "to": row.state}))

    # -- writing --------------------------------------------------------------------------------------
    def _write(self) -> None:
        if self.new_rows:
            self.s.execute(insert(ScheduleAckRow), self.new_rows)
        self.s.flush()

    def audit_events(self) -> list[AuditEvent]:
        """The schedule lifecycle rows, then the one row for the batch."""
        rejected = sum(self.out.rejects.values())
        touched = sorted({m.schedule_id for _, m in self.items if (m.schedule_id, m.version) in self.rows})
        detail = {"items": len(self.items), "stored": self.stored, "receipts": self.receipts,
                  "duplicates": self.out.duplicates, "rejected": dict(self.out.rejects), "schedules": touched,
                  "deliveries": dict(self.changes), "attention": self.attention[:_LISTED_IN_AUDIT],
                  "rejected_items": self.rejected[:_LISTED_IN_AUDIT]}
        # A batch with rejected items is marked denied so that filtering the audit on `denied` finds it.
        result = AuditResult.DENIED if rejected else AuditResult.SUCCESS
        return [*self.lifecycle, AuditEvent(BATCH_ACTOR, "schedule.acks", "schedule-acks", result, detail)]
