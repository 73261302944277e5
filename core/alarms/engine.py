"""The alarm engine: evaluates rules over fleet snapshots and events, applies operator actions, and
emits frozen AlarmTransition records to an AlarmStore.

Threshold and offline rules keep per-source state in numpy columns (core.alarms.bank); a tick over
10,000 devices and 1,000 cells is a few array operations per rule, and only sources whose debounced
condition changed become Python objects. Time comes from the injected clock: monotonic seconds for
delays and holds, aware UTC for the records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np

from core.alarms.bank import SourceBank
from core.alarms.chatter import ChatterPolicy, ChatterTracker
from core.alarms.errors import OperatorActionRefusedError, UnknownAlarmError
from core.alarms.inputs import AlarmInputEvent
from core.alarms.layout import SourceLayout, build_layout, layout_key, metric_values
from core.alarms.rules import AlarmRule, Comparison, DeviceOfflineRule, EventRule, ThresholdRule, validate_rule_set
from core.alarms.snapshot import FleetSnapshot
from core.alarms.store import AlarmStore
from core.alarms.states import (
    Acknowledge,
    AlarmEvent,
    AlarmState,
    ConditionActive,
    ConditionCleared,
    RemoveFromService,
    ReturnToService,
    Shelve,
    ShelveExpired,
    Unshelve,
    next_state,
)
from core.alarms.transitions import ActiveAlarm, AlarmTransition, TransitionCause, alarm_id_for, split_alarm_id
from core.clock import Clock, ensure_utc

S = AlarmState
C = TransitionCause
SYSTEM_USER = "system"


@dataclass(frozen=True)
class ShelveRecord:
    """Why and until when an alarm is shelved."""

    user: str
    reason: str
    until: datetime


@dataclass(frozen=True)
class OutOfServiceRecord:
    """A device (or any source prefix) in maintenance."""

    user: str
    reason: str
    since: datetime


def _require_text(action: str, what: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise OperatorActionRefusedError(action, f"{what} must be a non-empty string, got {value!r}")
    return value.strip()


def _to_dt(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(float(epoch_s), timezone.utc)


def _source_matches(source_id: str, prefix: str) -> bool:
    return source_id == prefix or source_id.startswith(prefix + "/")


class AlarmEngine:
    """ISA-18.2 alarm engine over `rules`; every transition goes to `store` and is returned."""

    def __init__(
        self,
        rules: Iterable[AlarmRule],
        clock: Clock,
        store: AlarmStore,
        *,
        chatter_policy: ChatterPolicy | None = None,
        max_shelve: timedelta = timedelta(hours=24),
    ) -> None:
        self._rules = validate_rule_set(list(rules))
        self._clock = clock
        self._store = store
        self._max_shelve = max_shelve
        self._chatter = ChatterTracker(chatter_policy or ChatterPolicy())
        self._by_id: dict[str, AlarmRule] = {r.rule_id: r for r in self._rules}
        self._snapshot_rules = [r for r in self._rules if not isinstance(r, EventRule)]
        self._event_rules: dict[type, list[EventRule]] = {}
        self._banks: dict[str, SourceBank] = {}
        for rule in self._rules:
            if isinstance(rule, EventRule):
                self._event_rules.setdefault(rule.kind.event_type, []).append(rule)
                self._banks[rule.rule_id] = SourceBank(rule.rule_id, [])
        self._event_rule_ids = [r.rule_id for r in self._rules if isinstance(r, EventRule)]
        self._layout: SourceLayout | None = None
        self._shelves: dict[str, ShelveRecord] = {}
        self._out_of_service: dict[str, OutOfServiceRecord] = {}
        self._comments: dict[str, list[AlarmTransition]] = {}
        self._emitted: list[AlarmTransition] = []
        self._now = clock.now()
        self._pending_restore = {t.alarm_id: t for t in store.load_active() if t.rule_id in self._by_id}
        for bank in self._banks.values():
            self._restore_into(bank)

    @property
    def rules(self) -> tuple[AlarmRule, ...]:
        """The validated rules, in the order given."""
        return self._rules

    @property
    def store(self) -> AlarmStore:
        """Where this engine writes its transitions."""
        return self._store

    def reconfigured(self, rules: Iterable[AlarmRule]) -> AlarmEngine:
        """A new engine over `rules` with this engine's clock, store and policies.

        Alarm states come back from the store (as after a restart); devices in maintenance stay out of
        service. Pending on-delays restart, which is what a changed threshold or delay means anyway.
        """
        engine = AlarmEngine(rules, self._clock, self._store, max_shelve=self._max_shelve)
        engine._chatter = self._chatter
        engine._out_of_service = dict(self._out_of_service)
        engine._comments = {k: list(v) for k, v in self._comments.items()}
        return engine

    def restore_out_of_service(self, device_id: str, user: str, reason: str, since: datetime) -> None:
        """Remember a maintenance record read back from storage (no transition: the journal has them)."""
        self._out_of_service[device_id] = OutOfServiceRecord(user, reason, ensure_utc(since, "since"))

    def out_of_service(self) -> dict[str, OutOfServiceRecord]:
        """Devices (source prefixes) currently in maintenance."""
        return dict(self._out_of_service)

    # ---------------------------------------------------------------- evaluation

    def evaluate(self, snapshot: FleetSnapshot) -> list[AlarmTransition]:
        """Evaluate every threshold and offline rule on `snapshot`, then expire shelves and event holds."""
        self._begin()
        if self._layout is None or layout_key(snapshot) != self._layout.key:
            self._relayout(build_layout(snapshot))
        now_mono = self._clock.monotonic()
        columns: dict[object, np.ndarray] = {}
        for rule in self._snapshot_rules:
            bank = self._banks[rule.rule_id]
            if bank.size == 0:
                continue
            if isinstance(rule, DeviceOfflineRule):
                values = snapshot.availability
                trip = hold = values >= int(rule.level)
                on_delay, off_delay = rule.on_delay_s, 0.0
            else:
                values = columns.get(rule.metric)
                if values is None:
                    values = columns[rule.metric] = metric_values(snapshot, rule.metric)
                if rule.comparison is Comparison.HIGH:
                    trip, hold = values >= rule.threshold, values >= rule.threshold - rule.deadband
                else:
                    trip, hold = values <= rule.threshold, values <= rule.threshold + rule.deadband
                on_delay, off_delay = rule.on_delay_s, rule.off_delay_s
            rise, fall = bank.step(values, trip, hold, now_mono, on_delay, off_delay)
            self._condition_changed(bank, rise, fall, now_mono)
        self._expire(now_mono)
        return self._finish()

    def receive(self, event: AlarmInputEvent) -> list[AlarmTransition]:
        """Raise (or keep raised) the alarms of every event rule that reacts to `event`'s type."""
        rules = self._event_rules.get(type(event))
        if rules is None:
            raise TypeError(f"no event rule reacts to {type(event).__name__}")
        self._begin()
        now_mono = self._clock.monotonic()
        for rule in rules:
            bank = self._banks[rule.rule_id]
            row = bank.index.get(event.source_id)
            if row is None:
                row = bank.append(event.source_id)
            bank.hold_until[row] = now_mono + rule.hold_s
            if event.value is not None:
                bank.value[row] = event.value
            if not bank.cond[row]:
                bank.cond[row] = True
                self._condition_changed(bank, np.array([row]), np.empty(0, np.intp), now_mono)
        return self._finish()

    def tick(self) -> list[AlarmTransition]:
        """Expire shelves and event holds without a new snapshot (call it on a timer)."""
        self._begin()
        self._expire(self._clock.monotonic())
        return self._finish()

    # ---------------------------------------------------------------- operator actions

    def acknowledge(self, alarm_ids: Iterable[str], user: str, comment: str | None = None) -> list[AlarmTransition]:
        """Acknowledge every listed alarm that is unacknowledged; others are left as they are.

        All ids are resolved first, so an unknown id (UnknownAlarmError) acknowledges nothing.
        """
        user = _require_text("acknowledge", "user", user)
        targets = [self._locate(alarm_id) for alarm_id in alarm_ids]
        self._begin()
        for bank, row in targets:
            if bank.state_at(row) in (S.ACTIVE_UNACKED, S.RETURNED_UNACKED):
                self._apply(bank, row, Acknowledge(), C.ACKNOWLEDGE, user=user, comment=comment)
        return self._finish()

    def shelve(self, alarm_id: str, user: str, reason: str, until: datetime) -> list[AlarmTransition]:
        """Shelve an alarm until `until` (in the future, at most max_shelve ahead) for `reason`."""
        user = _require_text("shelve", "user", user)
        reason = _require_text("shelve", "reason", reason)
        bank, row = self._locate(alarm_id)
        self._begin()
        try:
            until = ensure_utc(until, "until")
        except (ValueError, AttributeError) as error:
            raise OperatorActionRefusedError("shelve", str(error)) from None
        if until <= self._now:
            raise OperatorActionRefusedError("shelve", f"until {until.isoformat()} is not in the future")
        if until - self._now > self._max_shelve:
            raise OperatorActionRefusedError("shelve", f"shelving is capped at {self._max_shelve}")
        self._shelve(bank, row, user, reason, until)
        return self._finish()

    def unshelve(self, alarm_id: str, user: str) -> list[AlarmTransition]:
        """Return a shelved alarm; it comes back ACTIVE_UNACKED if its condition is still active."""
        user = _require_text("unshelve", "user", user)
        bank, row = self._locate(alarm_id)
        self._begin()
        self._apply(bank, row, Unshelve(bool(bank.cond[row])), C.UNSHELVE, user=user)
        self._shelves.pop(alarm_id, None)
        return self._finish()

    def set_out_of_service(self, device_id: str, user: str, reason: str) -> list[AlarmTransition]:
        """Take every alarm of `device_id` (and of sources under it, e.g. a system's cells) out of service."""
        device_id = _require_text("set_out_of_service", "device_id", device_id)
        user = _require_text("set_out_of_service", "user", user)
        reason = _require_text("set_out_of_service", "reason", reason)
        self._begin()
        self._out_of_service[device_id] = OutOfServiceRecord(user, reason, self._now)
        for bank, row in self._rows_under(device_id):
            state = bank.state_at(row)
            if state is not S.OUT_OF_SERVICE:
                self._shelves.pop(alarm_id_for(bank.rule_id, bank.source_ids[row]), None)
                self._apply(bank, row, RemoveFromService(), C.REMOVE_FROM_SERVICE, user=user, comment=reason)
        return self._finish()

    def return_to_service(self, device_id: str, user: str) -> list[AlarmTransition]:
        """End maintenance of `device_id`; alarms whose condition is active come back unacknowledged."""
        user = _require_text("return_to_service", "user", user)
        rows = [(b, r) for b, r in self._rows_under(device_id) if b.state_at(r) is S.OUT_OF_SERVICE]
        if self._out_of_service.pop(device_id, None) is None and not rows:
            raise OperatorActionRefusedError("return_to_service", f"{device_id!r} is not out of service")
        self._begin()
        for bank, row in rows:
            if self._covering_oos(bank.source_ids[row]) is None:
                self._apply(bank, row, ReturnToService(bool(bank.cond[row])), C.RETURN_TO_SERVICE, user=user)
        return self._finish()

    def comment(self, alarm_id: str, user: str, text: str) -> list[AlarmTransition]:
        """Attach an operator's comment to an alarm (a journal record that keeps the state)."""
        user = _require_text("comment", "user", user)
        text = _require_text("comment", "text", text)
        bank, row = self._locate(alarm_id)
        self._begin()
        state = bank.state_at(row)
        record = self._record(bank, row, state, state, C.COMMENT, user=user, comment=text)
        self._comments.setdefault(alarm_id, []).append(record)
        return self._finish()

    # ---------------------------------------------------------------- queries

    def active_alarms(self, include_suppressed: bool = False) -> list[ActiveAlarm]:
        """Annunciated alarms (and suppressed ones if asked), most urgent priority first, newest first."""
        rows: list[ActiveAlarm] = []
        for rule_id, bank in self._banks.items():
            priority = self._by_id[rule_id].priority
            for row in bank.annunciated_rows(include_suppressed):
                alarm_id = alarm_id_for(rule_id, bank.source_ids[row])
                value = float(bank.value[row])
                shelve = self._shelves.get(alarm_id)
                rows.append(ActiveAlarm(
                    alarm_id, rule_id, bank.source_ids[row], bank.state_at(row), priority,
                    _to_dt(bank.activated_at_s[row]) if not np.isnan(bank.activated_at_s[row]) else self._now,
                    _to_dt(bank.state_since_s[row]), None if np.isnan(value) else value,
                    self._chatter.is_chattering(alarm_id), shelve.until if shelve else None,
                ))
        rows.sort(key=lambda a: (a.priority.rank, -a.activated_at.timestamp(), a.alarm_id))
        return rows

    def state_of(self, alarm_id: str) -> AlarmState:
        """The current state of one alarm."""
        bank, row = self._locate(alarm_id)
        return bank.state_at(row)

    def chattering_alarms(self) -> frozenset[str]:
        """Alarm ids currently flagged as chattering."""
        return self._chatter.flagged

    def chattering_episodes(self) -> dict[str, int]:
        """How many times each alarm was newly flagged as chattering (for EEMUA figures)."""
        return dict(self._chatter.episodes)

    def comments(self, alarm_id: str) -> tuple[AlarmTransition, ...]:
        """Comment records of one alarm made since the engine started, oldest first."""
        self._locate(alarm_id)
        return tuple(self._comments.get(alarm_id, ()))

    # ---------------------------------------------------------------- internals

    def _begin(self) -> None:
        self._now = ensure_utc(self._clock.now(), "clock.now()")
        self._now_s = self._now.timestamp()
        self._emitted = []

    def _finish(self) -> list[AlarmTransition]:
        emitted, self._emitted = self._emitted, []
        return emitted

    def _locate(self, alarm_id: str) -> tuple[SourceBank, int]:
        try:
            rule_id, source_id = split_alarm_id(alarm_id)
            bank = self._banks[rule_id]
            return bank, bank.index[source_id]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise UnknownAlarmError(alarm_id) from None

    def _record(self, bank: SourceBank, row: int, old: AlarmState, new: AlarmState, cause: TransitionCause,
                *, user: str | None = None, comment: str | None = None,
                shelved_until: datetime | None = None) -> AlarmTransition:
        value = float(bank.value[row])
        source_id = bank.source_ids[row]
        record = AlarmTransition(
            alarm_id_for(bank.rule_id, source_id), bank.rule_id, source_id, old, new, self._now,
            self._by_id[bank.rule_id].priority, cause, None if np.isnan(value) else value,
            user, comment, shelved_until,
        )
        self._store.append_transition(record)
        self._emitted.append(record)
        return record

    def _apply(self, bank: SourceBank, row: int, event: AlarmEvent, cause: TransitionCause, **extra) -> None:
        old = bank.state_at(row)
        new = next_state(old, event)
        bank.set_state(row, new)
        bank.state_since_s[row] = self._now_s
        if new is S.ACTIVE_UNACKED and old is not S.ACTIVE_UNACKED:
            bank.activated_at_s[row] = self._now_s
        self._record(bank, row, old, new, cause, **extra)

    def _shelve(self, bank: SourceBank, row: int, user: str, reason: str, until: datetime) -> None:
        self._apply(bank, row, Shelve(reason, until), C.SHELVE, user=user, comment=reason, shelved_until=until)
        self._shelves[alarm_id_for(bank.rule_id, bank.source_ids[row])] = ShelveRecord(user, reason, until)

    def _condition_changed(self, bank: SourceBank, rise: np.ndarray, fall: np.ndarray, now_mono: float) -> None:
        # Suppressed alarms track the condition silently (the bank already stored it).
        if rise.size:
            for row in rise[~bank.suppressed_mask(rise)].tolist():
                self._apply(bank, row, ConditionActive(), C.CONDITION_ACTIVE)
                alarm_id = alarm_id_for(bank.rule_id, bank.source_ids[row])
                if self._chatter.record_activation(alarm_id, now_mono):
                    self._on_chattering(bank, row, alarm_id)
        if fall.size:
            for row in fall[~bank.suppressed_mask(fall)].tolist():
                self._apply(bank, row, ConditionCleared(), C.CONDITION_CLEARED)

    def _on_chattering(self, bank: SourceBank, row: int, alarm_id: str) -> None:
        policy = self._chatter.policy
        if policy.suppress_for_s is None:
            return
        reason = f"chattering: {policy.min_activations} activations within {policy.window_s:g} s"
        self._shelve(bank, row, SYSTEM_USER, reason, self._now + timedelta(seconds=policy.suppress_for_s))

    def _expire(self, now_mono: float) -> None:
        for alarm_id in [a for a, rec in self._shelves.items() if rec.until <= self._now]:
            del self._shelves[alarm_id]
            bank, row = self._locate(alarm_id)
            if bank.state_at(row) is S.SHELVED:
                self._apply(bank, row, ShelveExpired(bool(bank.cond[row])), C.SHELVE_EXPIRED)
        for rule_id in self._event_rule_ids:
            bank = self._banks[rule_id]
            n = bank.size
            if n:
                fall = np.flatnonzero(bank.cond[:n] & (bank.hold_until[:n] <= now_mono))
                if fall.size:
                    bank.cond[fall] = False
                    self._condition_changed(bank, np.empty(0, np.intp), fall, now_mono)

    def _rows_under(self, prefix: str) -> list[tuple[SourceBank, int]]:
        found = []
        for bank in self._banks.values():
            found.extend((bank, row) for row, s in enumerate(bank.source_ids) if _source_matches(s, prefix))
        return found

    def _covering_oos(self, source_id: str) -> str | None:
        for prefix in self._out_of_service:
            if _source_matches(source_id, prefix):
                return prefix
        return None

    def _relayout(self, layout: SourceLayout) -> None:
        for rule in self._snapshot_rules:
            scope = rule.metric.scope if isinstance(rule, ThresholdRule) else None
            ids = layout.device_ids if scope is None else layout.ids_for(scope)
            old = self._banks.get(rule.rule_id)
            bank = old.remapped(ids) if old is not None else SourceBank(rule.rule_id, ids)
            known = set(old.index) if old is not None else set()
            for row, source_id in enumerate(ids):
                # New sources of a device in maintenance start out of service (never annunciated).
                if source_id not in known and self._covering_oos(source_id) is not None:
                    bank.set_state(row, S.OUT_OF_SERVICE)
            self._banks[rule.rule_id] = bank
            self._restore_into(bank)
        self._layout = layout

    def _restore_into(self, bank: SourceBank) -> None:
        # Alarms that were not normal when the store was last written resume their state.
        if not self._pending_restore:
            return
        for alarm_id in [a for a in self._pending_restore if a.startswith(bank.rule_id + ":")]:
            record = self._pending_restore[alarm_id]
            row = bank.index.get(record.source_id)
            if row is None and isinstance(self._by_id[bank.rule_id], EventRule):
                row = bank.append(record.source_id)
            if row is None:
                continue
            del self._pending_restore[alarm_id]
            bank.set_state(row, record.to_state)
            bank.cond[row] = record.to_state in (S.ACTIVE_UNACKED, S.ACTIVE_ACKED)
            bank.state_since_s[row] = bank.activated_at_s[row] = record.at.timestamp()
            bank.value[row] = np.nan if record.value is None else record.value
            if record.to_state is S.SHELVED and record.shelved_until is not None:
                self._shelves[alarm_id] = ShelveRecord(record.user or SYSTEM_USER, record.comment or "", record.shelved_until)
            if isinstance(self._by_id[bank.rule_id], EventRule) and bank.cond[row]:
                # Holds are monotonic and do not survive a restart: restart the hold now.
                bank.hold_until[row] = self._clock.monotonic() + self._by_id[bank.rule_id].hold_s
