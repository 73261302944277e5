"""One batch of acknowledgements and receipts, checked and stored set-based in the caller's transaction.

The ack listener hands over what has arrived (hundreds to thousands of acks). Checking and storing them one by
one cost ~7 ms per ack on SQLite (four hash-chained audit rows and a handful of queries each), so a batch:
- loads the schedule versions, the deliveries and the already logged entries it refers to with a few
  `IN` queries (chunked), then decides every item in memory, in arrival order, exactly as one by one would;
- inserts the new execution-log rows with one executemany INSERT, and writes changed deliveries, schedule
  states and completed running entries with one executemany UPDATE each (SQLAlchemy Core, no ORM objects);
- audits schedule lifecycle changes (acknowledge, complete, fail) once per schedule and batch (a one-entry
  schedule acknowledged and completed by one ack gets one row, steps listed; a fleet-wide batch gets one
  row per action listing the schedules, see core.schedules.lifecycle_audit), and writes ONE
  `schedule.acks` row for the batch: counts, the schedule ids touched, delivery state changes counted by new
  state, and each rejected item and each failed or deviating delivery named. Per-ack delivery rows (sent ->
  executing -> completed) were four rows per ack and two thirds of the time; the batch row keeps the facts.
"""

from __future__ import annotations

import math

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Union

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from core.audit.trail import AuditEvent, AuditResult
from core.schedules.bulk import by_ids, chunks, update_by_groups
from core.schedules.events import ScheduleAckLate, ScheduleAckRejected, ScheduleDeliveryChanged
from core.schedules.lifecycle_audit import LifecycleChange, lifecycle_events
from core.schedules.model import ScheduleAction, ScheduleState, transition
from core.schedules.records import (
    REJECT_PREFIX,
    AckOutcome,
    AckResult,
    DeliveryState,
    ScheduleAck,
    ScheduleReceipt,
)
from core.schedules.tables import ScheduleAckRow, ScheduleDeliveryRow, ScheduleRow
from core.storage.types import UtcDateTime

DeviceMessage = Union[ScheduleAck, ScheduleReceipt]
# An entry counts as deviating when it ran this far off its planned rate (or failed).
DEVIATION_KW = 1.0
DEVIATION_FRACTION = 0.05
# The states as plain strings: an Enum's .value costs ~2 us a read, and a batch of 10,000 acks read ~170,000.
_D = SimpleNamespace(**{m.name: m.value for m in DeliveryState})
_S = SimpleNamespace(**{m.name: m.value for m in ScheduleState})
OPEN_DELIVERIES = (_D.SENT, _D.DELIVERED, _D.EXECUTING, _D.DEVIATING)
BATCH_ACTOR = "device-acks"  # the batch row's user: acks of many devices, none signed in
_LISTED_IN_AUDIT = 200  # rejected items and troubled deliveries listed in the batch row (all are counted)


@dataclass
class BatchOutcome:
    """What one batch did: a result per item (arrival order), counters, events for the alarm engine."""

    results: list[AckResult] = field(default_factory=list)
    rejects: Counter = field(default_factory=Counter)
    duplicates: int = 0
    events: list[object] = field(default_factory=list)


@dataclass(slots=True)
class _Version:
    """The columns of a schedule row the batch reads; `state` may change."""

    id: int
    schedule_id: str
    version: int
    target_kind: str
    target_id: str
    state: str
    entries_json: str
    dirty: bool = False


@dataclass(slots=True)
class _Delivery:
    """A delivery row in memory; written back when `dirty` (or inserted when `id` is None). Its times are not
    read (parsing them is a third of the load): `delivered` says whether delivered_at is set, and the times
    this batch sets are written with COALESCE so a stored one is never overwritten."""

    id: int | None
    schedule_row_id: int
    device_id: str
    state: str
    delivered: bool
    acked_entries: int
    error: str | None
    delivered_at: datetime | None = None  # set by this batch
    last_ack_at: datetime | None = None  # set by this batch
    dirty: bool = False


_DELIVERY_COLUMNS = ("state", "acked_entries", "error")
# The batch's reads, built once with expanding IN parameters: building `col.in_(chunk)` anew coerces every
# key in Python, which cost a batch of 50 acks more than running its queries.
_v, _d, _a = ScheduleRow.__table__.c, ScheduleDeliveryRow.__table__.c, ScheduleAckRow.__table__.c
_VERSIONS = select(_v.id, _v.schedule_id, _v.version, _v.target_kind, _v.target_id, _v.state, _v.entries_json).where(
    _v.schedule_id.in_(bindparam("sids", expanding=True)), _v.version.in_(bindparam("versions", expanding=True)))
_DELIVERIES = select(_d.id, _d.schedule_row_id, _d.device_id, _d.state, _d.delivered_at.is_not(None),
                     _d.acked_entries, _d.error).where(_d.schedule_row_id.in_(bindparam("ids", expanding=True))
                                                       ).order_by(_d.device_id)
_B_DELIVERY = tuple(f"b_{c}" for c in _DELIVERY_COLUMNS)
# Times set by a batch are written with COALESCE so a stored one is never overwritten.
_DELIVERY_UPDATE = by_ids(
    ScheduleDeliveryRow.__table__,
    delivered_at=func.coalesce(_d.delivered_at, bindparam("b_delivered_at", type_=UtcDateTime())),
    last_ack_at=func.coalesce(bindparam("b_last_ack_at", type_=UtcDateTime()), _d.last_ack_at),
    **{c: bindparam(b) for c, b in zip(_DELIVERY_COLUMNS, _B_DELIVERY)})
STATE_UPDATE = by_ids(ScheduleRow.__table__, state=bindparam("b_state"))
_LOGGED = select(_a.id, _a.schedule_id, _a.version, _a.device_id, _a.entry_index, _a.ended_at).where(
    _a.schedule_id.in_(bindparam("sids", expanding=True)), _a.version.in_(bindparam("versions", expanding=True)))
_ACK_COLUMNS = ("actual_rate_kw", "ended_at", "ok", "error", "received_at")


class AckBatch:
    """Checks and stores one batch; `run` does it all and returns the BatchOutcome.

    Rows are read and written with SQLAlchemy Core (plain tuples in, executemany out): building ORM objects
    for 10,000 deliveries and flushing them one UPDATE each cost more than the checks themselves."""

    def __init__(self, s: Session, now: datetime, items: Sequence[tuple[str, DeviceMessage]],
                 ack_latency_limit_s: float = math.inf) -> None:
        self.s = s
        self.now = now
        self.ack_latency_limit_s = ack_latency_limit_s
        self.items = items
        self.out = BatchOutcome()
        self.rows: dict[tuple[str, int], _Version] = {}
        self.entries: dict[int, list[float]] = {}
        self.deliveries: dict[tuple[int, str], _Delivery] = {}
        self.by_row: dict[int, list[_Delivery]] = defaultdict(list)
        self.logged: dict[tuple[str, int, str, int], dict] = {}  # execution-log rows: loaded (with "id") or new
        self.lifecycle: dict[int, dict] = {}  # schedule row id -> its audit row for this batch
        self.changes: Counter = Counter()  # new delivery state -> how many deliveries reached it
        self.attention: list[str] = []  # "device@schedule v1 state: why" of deliveries that failed or deviate
        self.stored = 0
        self.receipts = 0
        self.rejected: list[dict] = []

    # -- loading --------------------------------------------------------------------------------------
    def _load(self) -> None:
        s = self.s
        # Keyed by the leading column of each unique index (schedule_id, then version): SQLite scans the whole
        # table for a row-value IN such as (schedule_id, version) IN (...), so pairs are filtered here instead.
        keys = {(m.schedule_id, m.version) for _, m in self.items}
        versions_of: dict[str, set[int]] = defaultdict(set)
        for sid, ver in keys:
            versions_of[sid].add(ver)
        for chunk in chunks(sorted(versions_of)):
            versions = sorted(set().union(*(versions_of[sid] for sid in chunk)))
            for r in s.execute(_VERSIONS, {"sids": chunk, "versions": versions}).all():
                if (r.schedule_id, r.version) in keys:
                    self.rows[(r.schedule_id, r.version)] = _Version(*r)
        row_ids = sorted(row.id for row in self.rows.values())
        for chunk in chunks(row_ids):
            for r in s.execute(_DELIVERIES, {"ids": chunk}).all():
                delivery = _Delivery(*r)
                self.deliveries[(delivery.schedule_row_id, delivery.device_id)] = delivery
                self.by_row[delivery.schedule_row_id].append(delivery)
        triples = {(m.schedule_id, m.version, device_id) for device_id, m in self.items
                   if isinstance(m, ScheduleAck) and (m.schedule_id, m.version) in self.rows}
        for chunk in chunks(sorted({sid for sid, _, _ in triples})):
            versions = sorted(set().union(*(versions_of[sid] for sid in chunk)))
            for r in s.execute(_LOGGED, {"sids": chunk, "versions": versions}).all():
                if (r.schedule_id, r.version, r.device_id) in triples:
                    self.logged[(r.schedule_id, r.version, r.device_id, r.entry_index)] = {"id": r.id,
                                                                                           "ended_at": r.ended_at}

    def _entries(self, row: _Version) -> list[float]:
        """The planned rate of each entry (all the checks need): plain JSON, no ScheduleEntry per row."""
        if row.id not in self.entries:
            self.entries[row.id] = [float(e["rate_kw"]) for e in json.loads(row.entries_json)]
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
            # The contract lets a device ack a running entry without ended_at; its final ack completes that
            # row. Anything else for a logged entry is a re-delivery.
            if existing["ended_at"] is not None or m.ended_at is None:
                self.out.duplicates += 1
                return AckResult(AckOutcome.DUPLICATE, "already in the execution log")
            existing.update(values, dirty=True)
        else:
            self.logged[key] = {"id": None, "schedule_id": m.schedule_id, "version": m.version,
                                "device_id": device_id, "entry_index": m.entry, "started_at": m.started_at,
                                **values}
        self.stored += 1
        if m.ended_at is not None:
            latency_s = (self.now - m.ended_at).total_seconds()
            if latency_s > self.ack_latency_limit_s:
                self.out.events.append(ScheduleAckLate(device_id, m.schedule_id, m.version, m.entry, latency_s,
                                                       self.now))
        self._advance(row, d, m, entries)
        return AckResult(AckOutcome.STORED)

    @staticmethod
    def _sent_but_not_marked(row: _Version, device_id: str) -> bool:
        """A device can hold a version before the publisher has recorded the broker's confirmation (the
        receipt overtakes mark_distributed). The version's own target is then the identity to check."""
        return row.target_kind == "device" and row.target_id == device_id and \
            row.state in (_S.APPROVED, _S.DISTRIBUTED, _S.FAILED)

    def _early_delivery(self, row: _Version, device_id: str) -> _Delivery:
        d = _Delivery(None, row.id, device_id, _D.SENT, False, 0, None)
        self.deliveries[(row.id, device_id)] = d
        self.by_row[row.id].append(d)
        return d

    def _receipt(self, row: _Version, d: _Delivery) -> AckResult:
        if d.delivered:
            self.out.duplicates += 1
            return AckResult(AckOutcome.DUPLICATE, "already delivered")
        d.delivered, d.delivered_at, d.dirty = True, self.now, True
        self.receipts += 1
        if d.state == _D.SENT:
            self._set_delivery(row, d, _D.DELIVERED)
        return AckResult(AckOutcome.STORED)

    def _advance(self, row: _Version, d: _Delivery, ack: ScheduleAck, entries: list[float]) -> None:
        if not d.delivered:  # an entry ack also shows the device holds the schedule
            d.delivered, d.delivered_at = True, self.now
        d.last_ack_at, d.dirty = self.now, True
        if ack.ended_at is not None:
            d.acked_entries += 1
        if d.state == _D.SUPERSEDED:
            return
        planned = entries[ack.entry]
        if not ack.ok and ack.error and ack.error.startswith(REJECT_PREFIX):
            self._set_delivery(row, d, _D.FAILED, ack.error, ack.entry)
            if all(x.state == _D.FAILED for x in self.by_row[row.id]) and row.state == _S.DISTRIBUTED:
                self._apply(row, d.device_id, ScheduleAction.FAIL)
            return
        off = abs(ack.actual_rate_kw - planned) > max(DEVIATION_KW, DEVIATION_FRACTION * planned)
        if not ack.ok or off:
            why = ack.error or f"entry {ack.entry}: ran at {ack.actual_rate_kw:g} kW, planned {planned:g} kW"
            self._set_delivery(row, d, _D.DEVIATING, why, ack.entry)
        elif d.state in (_D.SENT, _D.DELIVERED):
            self._set_delivery(row, d, _D.EXECUTING)
        if ack.ok and row.state == _S.DISTRIBUTED:
            self._apply(row, d.device_id, ScheduleAction.ACKNOWLEDGE)
        if d.acked_entries >= len(entries) and d.state == _D.EXECUTING:
            self._set_delivery(row, d, _D.COMPLETED)
        finished = all(x.acked_entries >= len(entries) for x in self.by_row[row.id] if x.state in OPEN_DELIVERIES)
        if finished and row.state == _S.ACKNOWLEDGED:
            self._apply(row, d.device_id, ScheduleAction.COMPLETE)

    def _set_delivery(self, row: _Version, d: _Delivery, state: str, error: str | None = None,
                      entry: int | None = None) -> None:
        if d.state == state:
            return
        d.state, d.dirty = state, True
        if error is not None:
            d.error = error
        self.changes[state] += 1
        if state in (_D.FAILED, _D.DEVIATING):
            self.attention.append(f"{d.device_id}@{row.schedule_id} v{row.version} {state}: {error or ''}")
            self.out.events.append(ScheduleDeliveryChanged(d.device_id, row.schedule_id, row.version, state,
                                                           error or "", self.now, entry))

    def _apply(self, row: _Version, device_id: str, action: ScheduleAction) -> None:
        """A lifecycle step of a schedule. Steps of one schedule within a batch (a one-entry schedule is
        acknowledged and completed by the same ack) share one audit row named after the last step."""
        before = row.state
        row.state, row.dirty = transition(ScheduleState(row.state), action).value, True
        entry = self.lifecycle.setdefault(row.id, {"actor": f"device:{device_id}", "row": row, "from": before,
                                                   "steps": []})
        entry["steps"].append(action.value)

    # -- writing --------------------------------------------------------------------------------------
    def _write(self) -> None:
        conn = self.s.connection()
        v, d, a = ScheduleRow.__table__, ScheduleDeliveryRow.__table__, ScheduleAckRow.__table__
        new_acks = [{k: x for k, x in row.items() if k not in ("id", "dirty")}
                    for row in self.logged.values() if row["id"] is None]
        if new_acks:
            conn.execute(a.insert(), new_acks)
        done = [{"b_id": row["id"], **{f"b_{c}": row[c] for c in _ACK_COLUMNS}}
                for row in self.logged.values() if row.get("dirty") and row["id"] is not None]
        if done:
            conn.execute(a.update().where(a.c.id == bindparam("b_id"))
                         .values({c: bindparam(f"b_{c}") for c in _ACK_COLUMNS}), done)
        early = [x for x in self.deliveries.values() if x.id is None]
        if early:
            conn.execute(d.insert(), [{"schedule_row_id": x.schedule_row_id, "device_id": x.device_id,
                                       "delivered_at": x.delivered_at, "last_ack_at": x.last_ack_at,
                                       **{c: getattr(x, c) for c in _DELIVERY_COLUMNS}} for x in early])
        # Deliveries moved alike (at fleet scale nearly all of a batch) share one UPDATE per chunk of ids.
        update_by_groups(conn, _DELIVERY_UPDATE,
                         ((x.id, (x.delivered_at, x.last_ack_at, x.state, x.acked_entries, x.error))
                          for x in self.deliveries.values() if x.dirty and x.id is not None),
                         lambda key: dict(zip(("b_delivered_at", "b_last_ack_at", *_B_DELIVERY), key)))
        update_by_groups(conn, STATE_UPDATE, ((row.id, row.state) for row in self.rows.values() if row.dirty),
                         lambda state: {"b_state": state})

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
        lifecycle = lifecycle_events([
            LifecycleChange(e["actor"], e["row"].schedule_id, e["row"].id, e["row"].version, e["row"].target_id,
                            e["from"], e["row"].state, tuple(e["steps"]), list_steps=True)
            for e in self.lifecycle.values()], BATCH_ACTOR)
        return [*lifecycle, AuditEvent(BATCH_ACTOR, "schedule.acks", "schedule-acks", result, detail)]
