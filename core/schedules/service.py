"""ScheduleService: the one path schedules take from draft to the execution log, whoever drives them.

draft (validated against the device's limits) -> approved -> distributed (per-device deliveries; older
versions superseded) -> acknowledged (first executed entry) -> completed (every entry of every device);
per device the delivery goes sent -> delivered (the device's receipt) -> executing -> deviating/failed -> completed.
Permissions are checked here, in core; every state change is audited in the same transaction as the change.
Acknowledgements are checked against the schedule version and the device it was sent to, a batch at a time
(core.schedules.ack_batch); the execution log's unique key makes a re-delivered acknowledgement a counted
duplicate, never a second row.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from core.audit.trail import AuditResult, AuditTrail
from core.auth.authorizer import Authorizer
from core.auth.principal import Principal
from core.auth.roles import Permission
from core.clock import Clock, SystemClock
from core.errors import NotFound
from core.schedules.model import (
    DeviceLimits,
    ScheduleAction,
    ScheduleEntry,
    ScheduleSource,
    ScheduleState,
    ScheduleTarget,
    TargetKind,
    transition,
)
from core.schedules.errors import InvalidSchedule
from core.schedules.lifecycle_audit import LifecycleChange, lifecycle_events
from core.schedules.ack_batch import OPEN_DELIVERIES, STATE_UPDATE, AckBatch, _Version
from core.schedules.bulk import by_ids, chunks as _chunks, update_by_groups
from core.schedules.records import (
    AckResult,
    Delivery,
    DeliveryState,
    ExecutionLogEntry,
    InvalidGroupScheduleDraft,
    InvalidScheduleDraft,
    ScheduleAck,
    ScheduleReceipt,
    ScheduleRecord,
    StaleScheduleVersion,
    delivery_of,
    entries_to_json,
    log_entry_of,
    record_of,
)
from core.schedules.tables import ScheduleAckRow, ScheduleDeliveryRow, ScheduleRow
from core.schedules.validation import limit_errors, validate, validate_group

S = ScheduleState
_LIVE = (S.APPROVED.value, S.DISTRIBUTED.value, S.ACKNOWLEDGED.value, S.FAILED.value)
_OPEN_DELIVERIES = OPEN_DELIVERIES
_DISTRIBUTED_UPDATE = by_ids(ScheduleRow.__table__, state=bindparam("b_state"), distributed_at=bindparam("b_at"))
_RESENT_UPDATE = by_ids(ScheduleDeliveryRow.__table__, state=bindparam("b_state"), error=None,
                        sent_at=bindparam("b_at"))


class ScheduleService:
    def __init__(self, db, audit: AuditTrail, authorizer: Authorizer, clock: Clock | None = None,
                 limits_of: Callable[[str], DeviceLimits] | None = None,
                 members_of: Callable[[str], Sequence[str]] | None = None,
                 on_event: Callable[[object], None] | None = None, ack_latency_limit_s: float = 300.0) -> None:
        self.db = db
        self.audit = audit
        self.authorizer = authorizer
        self.clock = clock or SystemClock()
        self.limits_of = limits_of
        self.members_of = members_of  # group id -> member device ids (DeviceGroupService.members)
        self.on_event = on_event  # receives core.schedules.events values (the alarm engine's input)
        # An entry ack later than this after the entry ended raises ScheduleAckLate ("ack latency high").
        self.ack_latency_limit_s = ack_latency_limit_s
        self.ack_rejects: Counter[str] = Counter()  # reason -> count
        self.ack_duplicates = 0
        # Acks and distribution marks may come from several threads. One at a time keeps the counts exact, and a
        # waiter on this lock wakes the moment the other commits, where SQLite's busy handler sleeps up to
        # 100 ms between tries (that doubled a 10,000-device distribution's marking time).
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------------
    def create_draft(self, actor: Principal, target: ScheduleTarget, entries: Sequence[ScheduleEntry],
                     source: ScheduleSource = ScheduleSource.MANUAL) -> ScheduleRecord:
        """Store a new version for `target` after validation (PROPOSE_SCHEDULE or EDIT_SCHEDULE).

        A group target is validated against every member's limits. Raises InvalidScheduleDraft (a device)
        or InvalidGroupScheduleDraft (a group, failures listed per device) naming every broken rule;
        nothing is stored then."""
        resource = f"schedule:{target.kind.value}:{target.id}"
        if not self.authorizer.allowed(actor, Permission.EDIT_SCHEDULE):
            self.authorizer.require(actor, Permission.PROPOSE_SCHEDULE, resource)
        entries = tuple(entries)
        now = self.clock.now()
        if self.limits_of is None:
            raise InvalidSchedule("no device limits available to validate against")
        if target.kind is TargetKind.GROUP:
            reports = validate_group(entries, {d: self.limits_of(d) for d in self.target_devices(target)}, now)
            if any(not r.ok for r in reports.values()):
                raise InvalidGroupScheduleDraft(target.id, reports)
            warnings = [f"{d}: {w}" for d, r in reports.items() for w in r.warnings]
        else:
            report = validate(entries, self.limits_of(target.id), now)
            if not report.ok:
                raise InvalidScheduleDraft(report)
            warnings = [str(w) for w in report.warnings]
        with self.db.session() as s:
            latest = s.execute(select(ScheduleRow).where(ScheduleRow.target_kind == target.kind.value,
                                                         ScheduleRow.target_id == target.id)
                               .order_by(ScheduleRow.version.desc()).limit(1)).scalar_one_or_none()
            schedule_id = latest.schedule_id if latest else f"sch-{uuid.uuid4().hex[:16]}"
            version = latest.version + 1 if latest else 1
            row = ScheduleRow(schedule_id=schedule_id, version=version, target_kind=target.kind.value,
                              target_id=target.id, state=S.DRAFT.value, source=source.value,
                              created_by=actor.username, created_at=now, entries_json=entries_to_json(entries))
            s.add(row)
            s.flush()
            self._audit(s, actor, "schedule.create", row, {"entries": len(entries), "source": source.value,
                                                           "warnings": warnings})
            return record_of(row)

    def target_devices(self, target: ScheduleTarget) -> tuple[str, ...]:
        """The devices a schedule for `target` goes to: the device itself, or every member of the group now.

        Raises InvalidSchedule for a group when no group lookup is wired or the group has no members."""
        if target.kind is TargetKind.DEVICE:
            return (target.id,)
        if self.members_of is None:
            raise InvalidSchedule(f"group {target.id}: device groups are not available here")
        members = tuple(self.members_of(target.id))
        if not members:
            raise InvalidSchedule(f"group {target.id} has no members; add devices to it first")
        return members

    def limit_refusals(self, rec: ScheduleRecord, device_ids: Sequence[str]) -> dict[str, str]:
        """device id -> why this version must not go to it: its entries break the device's limits as they are
        now. A group may have gained members since its schedule was checked, and a device may have been re-rated;
        neither is sent a rate it was never checked for."""
        if self.limits_of is None:
            return {}
        refusals = {}
        for device_id in device_ids:
            issues = limit_errors(rec.entries, self.limits_of(device_id))
            if issues:
                more = f" (+{len(issues) - 1} more)" if len(issues) > 1 else ""
                refusals[device_id] = f"not sent: {issues[0]}{more}; checked when approved, not valid for it now"
        return refusals

    def approve(self, actor: Principal, row_id: int) -> ScheduleRecord:
        """Approve a draft (APPROVE_SCHEDULE: operators and admins, not traders)."""
        self.authorizer.require(actor, Permission.APPROVE_SCHEDULE, f"schedule:{row_id}")
        with self.db.session() as s:
            row = self._row(s, row_id)
            self._newer_distributed_guard(s, row)
            self._apply(s, actor, row, ScheduleAction.APPROVE)
            row.approved_by = actor.username
            row.approved_at = self.clock.now()
            return record_of(row)

    def cancel(self, actor: Principal, row_id: int) -> ScheduleRecord:
        self.authorizer.require(actor, Permission.EDIT_SCHEDULE, f"schedule:{row_id}")
        with self.db.session() as s:
            row = self._row(s, row_id)
            self._apply(s, actor, row, ScheduleAction.CANCEL)
            return record_of(row)

    def authorize_distribution(self, actor: Principal, row_id: int) -> ScheduleRecord:
        """Check that `actor` may distribute this version now (DISTRIBUTE_SCHEDULE; approved, failed, or
        already distributed: a repeat is idempotent). Raises PermissionDenied, IllegalScheduleTransition
        or StaleScheduleVersion."""
        self.authorizer.require(actor, Permission.DISTRIBUTE_SCHEDULE, f"schedule:{row_id}")
        with self.db.session() as s:
            row = self._row(s, row_id)
            if row.state not in (S.DISTRIBUTED.value, S.ACKNOWLEDGED.value):
                transition(S(row.state), ScheduleAction.DISTRIBUTE)  # raises when not allowed
            self._newer_distributed_guard(s, row)
            return record_of(row)

    def mark_distributed(self, actor: Principal, row_id: int, device_ids: Iterable[str]) -> ScheduleRecord:
        """Record that the version was handed to these devices: deliveries `sent`, older versions superseded.
        Idempotent: a repeat adds no delivery and changes no state."""
        self.mark_distributed_many(actor, [(row_id, device_ids)])
        return self.get(row_id)

    def mark_distributed_many(self, actor: Principal, sent: Iterable[tuple[int, Iterable[str]]]) -> None:
        """mark_distributed for many versions in one transaction, set-based with SQLAlchemy Core (a fleet-wide
        distribution marks 10,000 versions: one by one that took 3 ms each). Raises NotFound naming a missing
        row; then nothing is marked."""
        now = self.clock.now()
        sent = [(row_id, list(device_ids)) for row_id, device_ids in sent]
        v, d = ScheduleRow.__table__, ScheduleDeliveryRow.__table__
        columns = (v.c.id, v.c.schedule_id, v.c.version, v.c.target_kind, v.c.target_id, v.c.state, v.c.entries_json)
        with self._lock, self.db.session() as s:
            conn = s.connection()
            rows: dict[int, _Version] = {}
            for chunk in _chunks(sorted({row_id for row_id, _ in sent})):
                rows.update((r.id, _Version(*r)) for r in conn.execute(select(*columns).where(v.c.id.in_(chunk))))
            missing = [row_id for row_id, _ in sent if row_id not in rows]
            if missing:
                raise NotFound(f"no schedule {missing[0]}")
            events: list[LifecycleChange] = []
            distributed = []
            for row in rows.values():
                if row.state in (S.APPROVED.value, S.FAILED.value):
                    events.append(self._transition(actor, row, ScheduleAction.DISTRIBUTE))
                    distributed.append((row.id, row.state))
            update_by_groups(conn, _DISTRIBUTED_UPDATE, distributed, lambda state: {"b_state": state, "b_at": now})
            newest: dict[str, int] = {}
            for row in rows.values():
                newest[row.schedule_id] = max(row.version, newest.get(row.schedule_id, 0))
            older: list[_Version] = []
            for chunk in _chunks(sorted(newest)):
                older += [old for old in map(lambda r: _Version(*r), conn.execute(select(*columns).where(
                    v.c.schedule_id.in_(chunk), v.c.state.in_(_LIVE)))) if old.version < newest[old.schedule_id]]
            for old in older:
                events.append(self._transition(actor, old, ScheduleAction.SUPERSEDE,
                                               {"by_version": newest[old.schedule_id]}))
            update_by_groups(conn, STATE_UPDATE, ((old.id, old.state) for old in older),
                             lambda state: {"b_state": state})
            for chunk in _chunks(sorted(old.id for old in older)):
                conn.execute(d.update().where(d.c.schedule_row_id.in_(chunk), d.c.state.in_(_OPEN_DELIVERIES))
                             .values(state=DeliveryState.SUPERSEDED.value))
            existing: dict[tuple[int, str], tuple] = {}
            for chunk in _chunks(sorted(rows)):
                existing.update(((r.schedule_row_id, r.device_id), r) for r in conn.execute(
                    select(d.c.id, d.c.schedule_row_id, d.c.device_id, d.c.state, d.c.acked_entries, d.c.sent_at)
                    .where(d.c.schedule_row_id.in_(chunk))))
            new: dict[tuple[int, str], dict] = {}
            resent: list[tuple[int, str]] = []
            for row_id, device_ids in sent:
                for device_id in device_ids:
                    x = existing.get((row_id, device_id))
                    if x is None:
                        new.setdefault((row_id, device_id), {
                            "schedule_row_id": row_id, "device_id": device_id, "state": DeliveryState.SENT.value,
                            "sent_at": now, "acked_entries": 0})
                    elif x.state == DeliveryState.FAILED.value and x.acked_entries == 0:
                        resent.append((x.id, DeliveryState.SENT.value))
                    elif x.sent_at is None:  # the device's receipt came before this confirmation
                        resent.append((x.id, x.state))
            if new:
                conn.execute(d.insert(), list(new.values()))
            update_by_groups(conn, _RESENT_UPDATE, resent, lambda state: {"b_state": state, "b_at": now})
            self.audit.append_many(s, lifecycle_events(events, actor))

    def mark_send_failed(self, actor: Principal, row_id: int, device_id: str, error: str) -> None:
        """Sending to one device failed (broker unreachable, executor write refused)."""
        with self.db.session() as s:
            row = self._row(s, row_id)
            d = self._delivery(s, row.id, device_id)
            if d is None:
                d = ScheduleDeliveryRow(schedule_row_id=row.id, device_id=device_id, acked_entries=0, state="")
                s.add(d)
            self._set_delivery(s, actor, row, d, DeliveryState.FAILED, error)
            self._maybe_fail(s, actor, row)

    # -- acknowledgements ------------------------------------------------------------------------
    def record_ack(self, device_id: str, ack: ScheduleAck | ScheduleReceipt) -> AckResult:
        """Check an acknowledgement against the schedule version and its device, then log it (once)."""
        return self.record_acks([(device_id, ack)])[0]

    def record_acks(self, acks: Sequence[tuple[str, ScheduleAck | ScheduleReceipt]]) -> list[AckResult]:
        """Check and store a batch of acks and receipts (the ack listener's path), in arrival order and in one
        transaction: a result per item. Set-based (see core.schedules.ack_batch): a few queries and one
        audit row for the whole batch, plus one per schedule lifecycle change. Events for the alarm engine
        (rejected acks, failed or deviating deliveries) go to `on_event` after the commit."""
        if not acks:
            return []
        with self._lock:
            with self.db.session() as s:
                batch = AckBatch(s, self.clock.now(), acks, self.ack_latency_limit_s)
                outcome = batch.run()
                self.audit.append_many(s, batch.audit_events())
            self.ack_rejects.update(outcome.rejects)
            self.ack_duplicates += outcome.duplicates
        if self.on_event is not None:
            for event in outcome.events:
                self.on_event(event)
        return outcome.results

    # -- queries ---------------------------------------------------------------------------------
    def get(self, row_id: int) -> ScheduleRecord:
        with self.db.session() as s:
            return record_of(self._row(s, row_id))

    def versions(self, schedule_id: str) -> list[ScheduleRecord]:
        with self.db.session() as s:
            rows = s.execute(select(ScheduleRow).where(ScheduleRow.schedule_id == schedule_id)
                             .order_by(ScheduleRow.version)).scalars().all()
            return [record_of(r) for r in rows]

    def deliveries(self, row_id: int) -> list[Delivery]:
        with self.db.session() as s:
            return [delivery_of(d) for d in self._deliveries(s, row_id)]

    def delivery(self, row_id: int, device_id: str) -> Delivery | None:
        with self.db.session() as s:
            d = self._delivery(s, row_id, device_id)
            return None if d is None else delivery_of(d)

    def execution_log(self, *, device_id: str | None = None, schedule_id: str | None = None,
                      version: int | None = None) -> list[ExecutionLogEntry]:
        query = select(ScheduleAckRow)
        if device_id is not None:
            query = query.where(ScheduleAckRow.device_id == device_id)
        if schedule_id is not None:
            query = query.where(ScheduleAckRow.schedule_id == schedule_id)
        if version is not None:
            query = query.where(ScheduleAckRow.version == version)
        with self.db.session() as s:
            rows = s.execute(query.order_by(ScheduleAckRow.device_id, ScheduleAckRow.schedule_id,
                                            ScheduleAckRow.version, ScheduleAckRow.entry_index)).scalars().all()
            return [log_entry_of(r) for r in rows]

    def active_schedule(self, device_id: str) -> ScheduleRecord | None:
        """The newest version sent to `device_id` that is still running there (not superseded, failed or done)."""
        with self.db.session() as s:
            row = s.execute(select(ScheduleRow).join(ScheduleDeliveryRow, ScheduleDeliveryRow.schedule_row_id == ScheduleRow.id)
                            .where(ScheduleDeliveryRow.device_id == device_id,
                                   ScheduleDeliveryRow.state.in_(_OPEN_DELIVERIES))
                            .order_by(ScheduleRow.distributed_at.desc(), ScheduleRow.version.desc()).limit(1)
                            ).scalar_one_or_none()
            return None if row is None else record_of(row)

    # -- helpers ---------------------------------------------------------------------------------
    def _row(self, s: Session, row_id: int) -> ScheduleRow:
        row = s.get(ScheduleRow, row_id)
        if row is None:
            raise NotFound(f"no schedule {row_id}")
        return row

    @staticmethod
    def _delivery(s: Session, row_id: int, device_id: str) -> ScheduleDeliveryRow | None:
        return s.execute(select(ScheduleDeliveryRow).where(ScheduleDeliveryRow.schedule_row_id == row_id,
                                                           ScheduleDeliveryRow.device_id == device_id)).scalar_one_or_none()

    @staticmethod
    def _deliveries(s: Session, row_id: int) -> list[ScheduleDeliveryRow]:
        return list(s.execute(select(ScheduleDeliveryRow).where(ScheduleDeliveryRow.schedule_row_id == row_id)
                              .order_by(ScheduleDeliveryRow.device_id)).scalars())

    def _newer_distributed_guard(self, s: Session, row: ScheduleRow) -> None:
        newer = s.execute(select(func.max(ScheduleRow.version)).where(
            ScheduleRow.schedule_id == row.schedule_id, ScheduleRow.version > row.version,
            ScheduleRow.distributed_at.is_not(None))).scalar_one()
        if newer is not None:
            raise StaleScheduleVersion(f"version {newer} of {row.schedule_id} is already distributed; "
                                       f"version {row.version} would go backwards")

    def _transition(self, actor, row: _Version, action: ScheduleAction, detail: dict | None = None) -> LifecycleChange:
        """Move `row` through the lifecycle and return the change to audit (core.schedules.lifecycle_audit)."""
        before = row.state
        row.state = transition(S(row.state), action).value
        return LifecycleChange(actor, row.schedule_id, row.id, row.version, row.target_id, before, row.state,
                               (action.value,), detail or {})

    def _apply(self, s: Session, actor, row: ScheduleRow, action: ScheduleAction, detail: dict | None = None) -> None:
        before = row.state
        row.state = transition(S(row.state), action).value
        self._audit(s, actor, f"schedule.{action.value}", row, {"from": before, "to": row.state, **(detail or {})})

    def _set_delivery(self, s: Session, actor, row: ScheduleRow, d: ScheduleDeliveryRow, state: DeliveryState,
                      error: str | None = None) -> None:
        if d.state == state.value:
            return
        before, d.state, d.error = d.state, state.value, error if error is not None else d.error
        self._audit(s, actor, "schedule.delivery", row, {"device_id": d.device_id, "from": before, "to": state.value,
                                                         **({"error": error} if error else {})})

    def _maybe_fail(self, s: Session, actor, row: ScheduleRow) -> None:
        s.flush()
        states = {d.state for d in self._deliveries(s, row.id)}
        if states == {DeliveryState.FAILED.value} and row.state == S.DISTRIBUTED.value:
            self._apply(s, actor, row, ScheduleAction.FAIL)

    def _audit(self, s: Session, actor, action: str, row: ScheduleRow, detail: dict) -> None:
        self.audit.append(s, actor, action, f"schedule:{row.schedule_id}", AuditResult.SUCCESS,
                          {"row": row.id, "version": row.version, "target": row.target_id, **detail})
