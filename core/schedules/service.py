"""ScheduleService: the one path schedules take from draft to the execution log, whoever drives them.

draft (validated against the device's limits) -> approved -> distributed (per-device deliveries; older
versions superseded) -> acknowledged (first executed entry) -> completed (every entry of every device).
Permissions are checked here, in core; every state change is audited in the same transaction as the change.
Acknowledgements are checked against the schedule version and the device it was sent to; the execution
log's unique key makes a re-delivered acknowledgement a counted duplicate, never a second row.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import func, select
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
from core.schedules.records import (
    REJECT_PREFIX,
    AckOutcome,
    AckResult,
    Delivery,
    DeliveryState,
    ExecutionLogEntry,
    InvalidGroupScheduleDraft,
    InvalidScheduleDraft,
    ScheduleAck,
    ScheduleRecord,
    StaleScheduleVersion,
    delivery_of,
    entries_to_json,
    log_entry_of,
    record_of,
)
from core.schedules.tables import ScheduleAckRow, ScheduleDeliveryRow, ScheduleRow
from core.schedules.validation import validate, validate_group

S = ScheduleState
# An entry counts as deviating when it ran this far off its planned rate (or failed).
DEVIATION_KW = 1.0
DEVIATION_FRACTION = 0.05
_LIVE = (S.APPROVED.value, S.DISTRIBUTED.value, S.ACKNOWLEDGED.value, S.FAILED.value)
_OPEN_DELIVERIES = (DeliveryState.SENT.value, DeliveryState.DELIVERED.value, DeliveryState.EXECUTING.value,
                    DeliveryState.DEVIATING.value)


class ScheduleService:
    def __init__(self, db, audit: AuditTrail, authorizer: Authorizer, clock: Clock | None = None,
                 limits_of: Callable[[str], DeviceLimits] | None = None,
                 members_of: Callable[[str], Sequence[str]] | None = None) -> None:
        self.db = db
        self.audit = audit
        self.authorizer = authorizer
        self.clock = clock or SystemClock()
        self.limits_of = limits_of
        self.members_of = members_of  # group id -> member device ids (DeviceGroupService.members)
        self.ack_rejects: Counter[str] = Counter()  # reason -> count
        self.ack_duplicates = 0
        self._lock = threading.Lock()  # acks may arrive from several threads; one at a time keeps counts exact

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
        now = self.clock.now()
        with self.db.session() as s:
            row = self._row(s, row_id)
            if row.state in (S.APPROVED.value, S.FAILED.value):
                self._apply(s, actor, row, ScheduleAction.DISTRIBUTE)
                row.distributed_at = now
            older = s.execute(select(ScheduleRow).where(ScheduleRow.schedule_id == row.schedule_id,
                                                        ScheduleRow.version < row.version,
                                                        ScheduleRow.state.in_(_LIVE))).scalars().all()
            for old in older:
                self._apply(s, actor, old, ScheduleAction.SUPERSEDE, {"by_version": row.version})
                for d in s.execute(select(ScheduleDeliveryRow).where(ScheduleDeliveryRow.schedule_row_id == old.id,
                                                                     ScheduleDeliveryRow.state.in_(_OPEN_DELIVERIES))).scalars():
                    d.state = DeliveryState.SUPERSEDED.value
            for device_id in device_ids:
                d = self._delivery(s, row.id, device_id)
                if d is None:
                    s.add(ScheduleDeliveryRow(schedule_row_id=row.id, device_id=device_id, state=DeliveryState.SENT.value,
                                              sent_at=now, acked_entries=0))
                elif d.state == DeliveryState.FAILED.value and d.acked_entries == 0:
                    d.state, d.sent_at, d.error = DeliveryState.SENT.value, now, None
            return record_of(row)

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
    def record_ack(self, device_id: str, ack: ScheduleAck) -> AckResult:
        """Check an acknowledgement against the schedule version and its device, then log it (once)."""
        return self.record_acks([(device_id, ack)])[0]

    def record_acks(self, acks: Sequence[tuple[str, ScheduleAck]]) -> list[AckResult]:
        """record_ack for a batch, in arrival order and in one transaction (the ack listener's path)."""
        with self._lock, self.db.session() as s:
            results = [self._record(s, device_id, ack) for device_id, ack in acks]
            s.flush()
            return results

    def _record(self, s: Session, device_id: str, ack: ScheduleAck) -> AckResult:
        row = s.execute(select(ScheduleRow).where(ScheduleRow.schedule_id == ack.schedule_id,
                                                  ScheduleRow.version == ack.version)).scalar_one_or_none()
        reason = ""
        delivery = None
        if row is None:
            reason = "unknown schedule version"
        else:
            delivery = self._delivery(s, row.id, device_id)
            if delivery is None:
                reason = "wrong device"
            elif not 0 <= ack.entry < len(record_of(row).entries):
                reason = "unknown entry"
        if reason:
            self.ack_rejects[reason] += 1
            self.audit.append(s, f"device:{device_id}", "schedule.ack_rejected", f"schedule:{ack.schedule_id}",
                              AuditResult.DENIED, {"version": ack.version, "entry": ack.entry, "reason": reason})
            return AckResult(AckOutcome.REJECTED, reason)
        existing = s.execute(select(ScheduleAckRow).where(
            ScheduleAckRow.schedule_id == ack.schedule_id, ScheduleAckRow.version == ack.version,
            ScheduleAckRow.device_id == device_id, ScheduleAckRow.entry_index == ack.entry)).scalar_one_or_none()
        now = self.clock.now()
        if existing is not None:
            # The contract lets a device ack a running entry without ended_at; its final ack completes that
            # row. Anything else for a logged entry is a re-delivery.
            if existing.ended_at is not None or ack.ended_at is None:
                self.ack_duplicates += 1
                return AckResult(AckOutcome.DUPLICATE, "already in the execution log")
            existing.actual_rate_kw, existing.ended_at, existing.ok, existing.error = (
                ack.actual_rate_kw, ack.ended_at, ack.ok, ack.error)
            existing.received_at = now
        else:
            s.add(ScheduleAckRow(schedule_id=ack.schedule_id, version=ack.version, device_id=device_id,
                                 entry_index=ack.entry, actual_rate_kw=ack.actual_rate_kw,
                                 started_at=ack.started_at, ended_at=ack.ended_at, ok=ack.ok, error=ack.error,
                                 received_at=now))
        self._advance(s, row, delivery, ack, now)
        return AckResult(AckOutcome.STORED)

    def _advance(self, s: Session, row: ScheduleRow, d: ScheduleDeliveryRow, ack: ScheduleAck, now) -> None:
        actor = f"device:{d.device_id}"
        entries = record_of(row).entries
        d.delivered_at = d.delivered_at or now
        d.last_ack_at = now
        if ack.ended_at is not None:
            d.acked_entries += 1
        if d.state == DeliveryState.SUPERSEDED.value:
            return
        planned = entries[ack.entry].rate_kw
        if not ack.ok and ack.error and ack.error.startswith(REJECT_PREFIX):
            self._set_delivery(s, actor, row, d, DeliveryState.FAILED, ack.error)
            self._maybe_fail(s, actor, row)
            return
        off = abs(ack.actual_rate_kw - planned) > max(DEVIATION_KW, DEVIATION_FRACTION * planned)
        if not ack.ok or off:
            why = ack.error or f"entry {ack.entry}: ran at {ack.actual_rate_kw:g} kW, planned {planned:g} kW"
            self._set_delivery(s, actor, row, d, DeliveryState.DEVIATING, why)
        elif d.state in (DeliveryState.SENT.value, DeliveryState.DELIVERED.value):
            self._set_delivery(s, actor, row, d, DeliveryState.EXECUTING)
        if ack.ok and row.state == S.DISTRIBUTED.value:
            self._apply(s, actor, row, ScheduleAction.ACKNOWLEDGE)
        s.flush()
        done = s.execute(select(func.count()).select_from(ScheduleAckRow).where(
            ScheduleAckRow.schedule_id == row.schedule_id, ScheduleAckRow.version == row.version,
            ScheduleAckRow.device_id == d.device_id, ScheduleAckRow.ended_at.is_not(None))).scalar_one()
        if done >= len(entries) and d.state == DeliveryState.EXECUTING.value:
            self._set_delivery(s, actor, row, d, DeliveryState.COMPLETED)
        s.flush()
        open_left = s.execute(select(func.count()).select_from(ScheduleDeliveryRow).where(
            ScheduleDeliveryRow.schedule_row_id == row.id,
            ScheduleDeliveryRow.state.in_(_OPEN_DELIVERIES))).scalar_one()
        finished = open_left == 0 or all(x.acked_entries >= len(entries) for x in self._deliveries(s, row.id)
                                         if x.state in _OPEN_DELIVERIES)
        if finished and row.state == S.ACKNOWLEDGED.value:
            self._apply(s, actor, row, ScheduleAction.COMPLETE)

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
