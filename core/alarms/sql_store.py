"""The alarm journal in the database: an AlarmStore the engine writes to, and the history queries.

The engine appends transitions one at a time; inside `batch()` they are collected and written in one
transaction when the block ends, so a flood of a thousand cells costs one commit, not a thousand.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from core.alarms.priorities import Priority
from core.alarms.states import AlarmState
from core.alarms.tables import AlarmTransitionRow
from core.alarms.transitions import AlarmTransition, TransitionCause
from core.storage.database import Database


@dataclass(frozen=True)
class AlarmHistoryFilter:
    """What the history view searches by. `text` matches alarm id (which holds the source), user or comment:
    a substring, ignoring the case of ASCII letters, the same on SQLite and PostgreSQL."""

    text: str | None = None
    priority: Priority | None = None
    rule_id: str | None = None
    source_prefix: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 1000


def _clean(text: str | None) -> str | None:
    # NUL cannot be stored in PostgreSQL text and truncates in SQLite: drop it on both.
    return None if text is None else text.replace("\x00", "")


class _AsciiLower(FunctionElement):
    """lower() that folds only A-Z, on every database. SQLite's lower() (and LIKE) fold ASCII only, while
    PostgreSQL's follow the database's locale: without the C collation a search would find different rows
    on the two backends (e.g. "K" (Kelvin sign) matching "k" on PostgreSQL only)."""

    type = String()
    inherit_cache = True


@compiles(_AsciiLower)
def _ascii_lower_default(element, compiler, **kw):
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(_AsciiLower, "postgresql")
def _ascii_lower_postgresql(element, compiler, **kw):
    return f'lower(({compiler.process(element.clauses, **kw)}) COLLATE "C")'


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """What _AsciiLower does in SQL, in Python."""
    return text.translate(_ASCII_LOWER)


def _to_row(t: AlarmTransition) -> AlarmTransitionRow:
    return AlarmTransitionRow(
        alarm_id=t.alarm_id, rule_id=t.rule_id, source_id=t.source_id, from_state=t.from_state.value,
        to_state=t.to_state.value, at=t.at, priority=t.priority.value, cause=t.cause.value, value=t.value,
        username=_clean(t.user), comment=_clean(t.comment), shelved_until=t.shelved_until,
    )


def _to_transition(r: AlarmTransitionRow) -> AlarmTransition:
    return AlarmTransition(
        r.alarm_id, r.rule_id, r.source_id, AlarmState(r.from_state), AlarmState(r.to_state), r.at,
        Priority(r.priority), TransitionCause(r.cause), r.value, r.username, r.comment, r.shelved_until,
    )


class SqlAlarmStore:
    """AlarmStore on GridRoom's database (SQLite or PostgreSQL)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: list[AlarmTransition] | None = None

    def append_transition(self, transition: AlarmTransition) -> None:
        """Persist one transition now, or at the end of the enclosing batch()."""
        if self._pending is not None:
            self._pending.append(transition)
            return
        with self.db.session() as s:
            s.add(_to_row(transition))

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Collect the transitions appended in the block and write them in one transaction."""
        if self._pending is not None:  # nested: the outer batch writes
            yield
            return
        self._pending = []
        try:
            yield
        finally:
            pending, self._pending = self._pending, None
            if pending:
                with self.db.session() as s:
                    s.add_all([_to_row(t) for t in pending])

    def load_active(self) -> list[AlarmTransition]:
        """Latest state-changing transition of every alarm not back in NORMAL."""
        latest = (
            select(func.max(AlarmTransitionRow.id).label("id"))
            .where(AlarmTransitionRow.cause != TransitionCause.COMMENT.value)
            .group_by(AlarmTransitionRow.alarm_id)
            .subquery()
        )
        stmt = (
            select(AlarmTransitionRow)
            .join(latest, AlarmTransitionRow.id == latest.c.id)
            .where(AlarmTransitionRow.to_state != AlarmState.NORMAL.value)
            .order_by(AlarmTransitionRow.id)
        )
        with self.db.session() as s:
            return [_to_transition(r) for r in s.execute(stmt).scalars()]

    def history(self, flt: AlarmHistoryFilter = AlarmHistoryFilter()) -> list[AlarmTransition]:
        """Journal entries matching `flt`, newest first."""
        T = AlarmTransitionRow
        stmt = select(T)
        if flt.text:
            # Operators type "Crew" for "crew on site": case-insensitive, but for ASCII letters only, so that
            # both backends agree (SQLite's LIKE ignored ASCII case while PostgreSQL's did not). The text is
            # data: autoescape keeps % and _ literal.
            needle = ascii_lower(_clean(flt.text).strip())
            stmt = stmt.where(or_(*(_AsciiLower(column).contains(needle, autoescape=True)
                                    for column in (T.alarm_id, T.username, T.comment))))
        if flt.priority is not None:
            stmt = stmt.where(T.priority == Priority(flt.priority).value)
        if flt.rule_id:
            stmt = stmt.where(T.rule_id == flt.rule_id)
        if flt.source_prefix:
            prefix = flt.source_prefix
            stmt = stmt.where(or_(T.source_id == prefix, T.source_id.startswith(prefix + "/", autoescape=True)))
        if flt.since is not None:
            stmt = stmt.where(T.at >= flt.since)
        if flt.until is not None:
            stmt = stmt.where(T.at < flt.until)
        stmt = stmt.order_by(T.id.desc()).limit(max(1, int(flt.limit)))
        with self.db.session() as s:
            return [_to_transition(r) for r in s.execute(stmt).scalars()]
