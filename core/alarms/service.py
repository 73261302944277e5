"""AlarmService: operator actions, rule edits and queries over the alarm engine, with permissions and audit.

The engine is not thread-safe; every call into it here holds one lock, so the runtime's 1 Hz
evaluation and an operator's acknowledgement (run in a worker thread) never interleave. Every
operator action writes one audit row (success, or failure with the reason); the journal
(alarm_transitions) holds every transition it caused.
"""

from __future__ import annotations

import threading
from contextlib import nullcontext
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from core.alarms.alarm_load import AlarmLoadReport, compute_alarm_load
from core.alarms.engine import AlarmEngine
from core.alarms.errors import AlarmError, RuleValidationError
from core.alarms.inputs import AlarmInputEvent
from core.alarms.priorities import Priority
from core.alarms.rule_config import apply_changes, apply_overrides, load_overrides, rule_settings, save_override
from core.alarms.rules import AlarmRule
from core.alarms.snapshot import FleetSnapshot
from core.alarms.sql_store import AlarmHistoryFilter, SqlAlarmStore
from core.alarms.states import AlarmState
from core.alarms.tables import AlarmOutOfServiceRow
from core.alarms.transitions import ActiveAlarm, AlarmTransition
from core.audit.trail import AuditResult, AuditTrail
from core.auth.authorizer import Authorizer
from core.auth.principal import Principal
from core.auth.roles import Permission
from core.clock import Clock
from core.storage.database import Database

# EEMUA 191: an alarm active for more than 24 h is a standing alarm; the journal is read that far back.
STANDING_LOOK_BACK = timedelta(hours=24)
TransitionListener = Callable[[list[AlarmTransition]], None]


class AlarmService:
    """The one path alarm actions take, from the GUI (through the runtime) or the CLI."""

    @classmethod
    def open(cls, db: Database, audit: AuditTrail, authorizer: Authorizer, clock: Clock,
             base_rules: Iterable[AlarmRule]) -> AlarmService:
        """An engine over `base_rules` with the stored overrides, journalled in the database."""
        with db.session() as s:
            rules = apply_overrides(tuple(base_rules), load_overrides(s))
        return cls(AlarmEngine(rules, clock, SqlAlarmStore(db)), db, audit, authorizer, clock)

    def __init__(self, engine: AlarmEngine, db: Database, audit: AuditTrail, authorizer: Authorizer,
                 clock: Clock) -> None:
        self.engine = engine
        self.db = db
        self.audit = audit
        self.authorizer = authorizer
        self.clock = clock
        self.store = SqlAlarmStore(db)
        self._lock = threading.RLock()
        self._listeners: list[TransitionListener] = []
        self._counts = (0, 0)
        self._restore_out_of_service()
        self._recount()

    # ---------------------------------------------------------------- wiring

    def add_listener(self, listener: TransitionListener) -> None:
        """Call `listener` with every non-empty batch of transitions (from the calling thread)."""
        self._listeners.append(listener)

    @property
    def annunciated_count(self) -> int:
        """Alarms an operator sees in the list (not normal, not suppressed); safe from any thread."""
        return self._counts[0]

    @property
    def unacked_critical_count(self) -> int:
        """Critical alarms waiting for acknowledgement; safe from any thread."""
        return self._counts[1]

    # ---------------------------------------------------------------- evaluation (system)

    def evaluate(self, snapshot: FleetSnapshot) -> list[AlarmTransition]:
        """Evaluate the rules on a fleet snapshot (the runtime calls this every second)."""
        return self._engine_call(lambda e: e.evaluate(snapshot))

    def receive(self, event: AlarmInputEvent) -> list[AlarmTransition]:
        """Feed a discrete event (command failure, drift, ...) to the engine."""
        return self._engine_call(lambda e: e.receive(event))

    def tick(self) -> list[AlarmTransition]:
        """Expire shelves and event holds."""
        return self._engine_call(lambda e: e.tick())

    # ---------------------------------------------------------------- operator actions

    def acknowledge(self, actor: Principal, alarm_ids: Iterable[str], comment: str | None = None) -> list[AlarmTransition]:
        """Acknowledge alarms (many at once); already acknowledged ones are left as they are."""
        ids = list(alarm_ids)
        return self._action(actor, Permission.HANDLE_ALARMS, "alarm.acknowledge", ",".join(ids)[:255],
                            {"alarm_ids": ids, "comment": comment},
                            lambda e: e.acknowledge(ids, actor.username, comment))

    def shelve(self, actor: Principal, alarm_id: str, reason: str, until: datetime) -> list[AlarmTransition]:
        """Shelve one alarm until `until` for `reason` (both required)."""
        return self._action(actor, Permission.HANDLE_ALARMS, "alarm.shelve", alarm_id,
                            {"reason": reason, "until": until},
                            lambda e: e.shelve(alarm_id, actor.username, reason, until))

    def unshelve(self, actor: Principal, alarm_id: str) -> list[AlarmTransition]:
        """Return a shelved alarm to the list."""
        return self._action(actor, Permission.HANDLE_ALARMS, "alarm.unshelve", alarm_id, {},
                            lambda e: e.unshelve(alarm_id, actor.username))

    def comment(self, actor: Principal, alarm_id: str, text: str) -> list[AlarmTransition]:
        """Attach a comment to an alarm (journalled, state unchanged)."""
        return self._action(actor, Permission.HANDLE_ALARMS, "alarm.comment", alarm_id, {"text": text},
                            lambda e: e.comment(alarm_id, actor.username, text))

    def set_out_of_service(self, actor: Principal, device_id: str, reason: str) -> list[AlarmTransition]:
        """Take a device's alarms out of service for maintenance (remembered across restarts)."""
        def run(engine: AlarmEngine) -> list[AlarmTransition]:
            out = engine.set_out_of_service(device_id, actor.username, reason)
            with self.db.session() as s:
                row = s.get(AlarmOutOfServiceRow, device_id) or AlarmOutOfServiceRow(device_id=device_id)
                row.reason, row.username, row.since = reason.strip(), actor.username, self.clock.now()
                s.add(row)
            return out
        return self._action(actor, Permission.HANDLE_ALARMS, "alarm.out_of_service", f"device:{device_id}",
                            {"reason": reason}, run)

    def return_to_service(self, actor: Principal, device_id: str) -> list[AlarmTransition]:
        """End maintenance of a device; alarms still active come back unacknowledged."""
        def run(engine: AlarmEngine) -> list[AlarmTransition]:
            out = engine.return_to_service(device_id, actor.username)
            with self.db.session() as s:
                row = s.get(AlarmOutOfServiceRow, device_id)
                if row is not None:
                    s.delete(row)
            return out
        return self._action(actor, Permission.HANDLE_ALARMS, "alarm.return_to_service", f"device:{device_id}",
                            {}, run)

    def update_rule(self, actor: Principal, rule_id: str, *, threshold: float | None = None,
                    deadband: float | None = None, on_delay_s: float | None = None,
                    priority: Priority | str | None = None) -> AlarmRule:
        """Change a rule's threshold, deadband, on-delay or priority; refused (RuleValidationError, audited)
        when the result would be an invalid rule. Audited with old and new values."""
        resource = f"alarm_rule:{rule_id}"
        self.authorizer.require(actor, Permission.EDIT_ALARM_RULES, resource)
        changes = {"threshold": threshold, "deadband": deadband, "on_delay_s": on_delay_s, "priority": priority}
        with self._lock:
            try:
                old = self._rule(rule_id)
                new = apply_changes(old, changes)
            except AlarmError as error:
                self._audit(actor, "alarm.rule_update", resource, AuditResult.FAILURE,
                            {"changes": changes, "reason": str(error)})
                raise
            with self.db.session() as s:
                save_override(s, new, actor.username, self.clock.now())
                self.audit.append(s, actor, "alarm.rule_update", resource, AuditResult.SUCCESS,
                                  {"old": rule_settings(old), "new": rule_settings(new)})
            self.engine = self.engine.reconfigured(tuple(new if r.rule_id == rule_id else r for r in self.engine.rules))
            self._recount()
        return new

    # ---------------------------------------------------------------- queries

    def rules(self, actor: Principal) -> tuple[AlarmRule, ...]:
        """The rules in force."""
        self.authorizer.require(actor, Permission.VIEW_FLEET, "alarm_rules")
        return self.engine.rules

    def active(self, actor: Principal, include_suppressed: bool = False) -> list[ActiveAlarm]:
        """The alarm list: most urgent priority first, newest first."""
        self.authorizer.require(actor, Permission.VIEW_FLEET, "alarms")
        with self._lock:
            return self.engine.active_alarms(include_suppressed)

    def history(self, actor: Principal, flt: AlarmHistoryFilter = AlarmHistoryFilter()) -> list[AlarmTransition]:
        """The journal, newest first, filtered."""
        self.authorizer.require(actor, Permission.VIEW_HISTORY, "alarms")
        return self.store.history(flt)

    def alarm_load(self, actor: Principal, period_start: datetime, period_end: datetime,
                   operators: int = 1) -> AlarmLoadReport:
        """EEMUA 191 figures for the period, from the journal (with a look-back for standing alarms)."""
        self.authorizer.require(actor, Permission.VIEW_HISTORY, "alarms")
        look_back = period_start - STANDING_LOOK_BACK
        journal = self.store.history(AlarmHistoryFilter(since=look_back, until=period_end, limit=1_000_000))
        return compute_alarm_load(journal, period_start, period_end, operators, standing_after=STANDING_LOOK_BACK)

    # ---------------------------------------------------------------- internals

    def _rule(self, rule_id: str) -> AlarmRule:
        for rule in self.engine.rules:
            if rule.rule_id == rule_id:
                return rule
        raise RuleValidationError(str(rule_id), "rule_id", "no such rule")

    def _engine_call(self, call: Callable[[AlarmEngine], list[AlarmTransition]]) -> list[AlarmTransition]:
        with self._lock:
            batch = getattr(self.engine.store, "batch", None)
            with batch() if batch is not None else nullcontext():
                transitions = call(self.engine)
            if transitions:
                self._recount()
        if transitions:
            for listener in self._listeners:
                listener(transitions)
        return transitions

    def _action(self, actor: Principal, permission: Permission, action: str, resource: str,
                detail: dict[str, Any], call: Callable[[AlarmEngine], list[AlarmTransition]]) -> list[AlarmTransition]:
        self.authorizer.require(actor, permission, resource)
        try:
            transitions = self._engine_call(call)
        except AlarmError as error:
            self._audit(actor, action, resource, AuditResult.FAILURE, {**detail, "reason": str(error)})
            raise
        self._audit(actor, action, resource, AuditResult.SUCCESS, {**detail, "transitions": len(transitions)})
        return transitions

    def _audit(self, actor: Principal, action: str, resource: str, result: AuditResult, detail: dict) -> None:
        with self.db.session() as s:
            self.audit.append(s, actor, action, resource, result, detail)

    def _recount(self) -> None:
        alarms = self.engine.active_alarms()
        unacked_critical = sum(1 for a in alarms if a.priority is Priority.CRITICAL
                               and a.state in (AlarmState.ACTIVE_UNACKED, AlarmState.RETURNED_UNACKED))
        self._counts = (len(alarms), unacked_critical)

    def _restore_out_of_service(self) -> None:
        with self.db.session() as s:
            rows = list(s.execute(select(AlarmOutOfServiceRow)).scalars())
        for row in rows:
            self.engine.restore_out_of_service(row.device_id, row.username, row.reason, row.since)
