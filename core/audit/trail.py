"""The audit trail: every authentication event, admin action and data change, hash-chained.

Each row's hash covers its own fields and the previous row's hash, so editing a row breaks its own hash,
deleting a row breaks the link of the next one, and deleting the newest rows breaks the stored head.
The database refuses UPDATE and DELETE on the table as well (triggers in the first migration).
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.tables import AuditHeadRow, AuditRow
from core.auth.principal import Principal
from core.clock import Clock, SystemClock

GENESIS = "0" * 64


class AuditResult(str, enum.Enum):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    username: str
    action: str
    resource: str
    result: str
    host: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AuditEvent:
    """One entry to append with AuditTrail.append_many (the fields append() takes one by one)."""

    actor: Principal | str
    action: str
    resource: str = ""
    result: AuditResult | str = AuditResult.SUCCESS
    detail: dict[str, Any] | None = None
    host: str | None = None


@dataclass(frozen=True)
class AuditFilter:
    username: str | None = None
    action: str | None = None  # exact, or a prefix ending in "." / "*" (e.g. "user." or "auth*")
    resource: str | None = None  # substring
    result: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = None


@dataclass(frozen=True)
class ChainProblem:
    row_id: int | None
    problem: str


@dataclass(frozen=True)
class ChainReport:
    rows_checked: int
    problems: tuple[ChainProblem, ...] = field(default_factory=tuple)

    @property
    def intact(self) -> bool:
        return not self.problems


def _canonical(
    row_id: int, at: datetime, username: str, action: str, resource: str, result: str, host: str, detail: str, prev: str
) -> str:
    payload = [row_id, at.isoformat(timespec="microseconds"), username, action, resource, result, host, detail, prev]
    return hashlib.sha256(json.dumps(payload, separators=(",", ":")).encode()).hexdigest()


def _to_entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        username=row.username,
        action=row.action,
        resource=row.resource,
        result=row.result,
        host=row.host,
        detail=json.loads(row.detail),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class AuditTrail:
    """Appends to and reads the audit log. Appends join the caller's transaction, so a data change and
    its audit entry commit or roll back together."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()

    def append(
        self,
        session: Session,
        actor: Principal | str,
        action: str,
        resource: str = "",
        result: AuditResult | str = AuditResult.SUCCESS,
        detail: dict[str, Any] | None = None,
        host: str | None = None,
    ) -> AuditEntry:
        username = actor if isinstance(actor, str) else actor.username
        host = host if host is not None else ("" if isinstance(actor, str) else actor.host)
        result = AuditResult(result).value
        detail_json = json.dumps(detail or {}, sort_keys=True, default=str)
        # Lock the head row for the rest of the transaction so concurrent appenders form one chain
        # (SQLite already serializes writers with BEGIN IMMEDIATE).
        head = session.execute(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).scalar_one_or_none()
        if head is None:
            head = AuditHeadRow(id=1, last_id=0, last_hash=GENESIS)
            session.add(head)
        row_id = head.last_id + 1
        # Microsecond precision survives both backends, so the stored value hashes the same when re-read.
        at = self.clock.now()
        digest = _canonical(row_id, at, username, action, resource, result, host, detail_json, head.last_hash)
        row = AuditRow(
            id=row_id,
            at=at,
            username=username,
            action=action,
            resource=resource,
            result=result,
            host=host,
            detail=detail_json,
            prev_hash=head.last_hash,
            hash=digest,
        )
        session.add(row)
        head.last_id = row_id
        head.last_hash = digest
        session.flush()
        return _to_entry(row)

    def append_many(self, session: Session, events: Sequence[AuditEvent]) -> int:
        """Append several entries, chained in the given order, with one locked head read and one executemany
        INSERT (the ack path audits thousands of schedule state changes per batch). Returns how many."""
        if not events:
            return 0
        head = session.execute(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).scalar_one_or_none()
        if head is None:
            head = AuditHeadRow(id=1, last_id=0, last_hash=GENESIS)
            session.add(head)
        last_id, last_hash = head.last_id, head.last_hash
        at = self.clock.now()
        rows = []
        for event in events:
            actor = event.actor
            username = actor if isinstance(actor, str) else actor.username
            host = event.host if event.host is not None else ("" if isinstance(actor, str) else actor.host)
            result = AuditResult(event.result).value
            detail_json = json.dumps(event.detail or {}, sort_keys=True, default=str)
            last_id += 1
            digest = _canonical(last_id, at, username, event.action, event.resource, result, host, detail_json,
                                last_hash)
            rows.append({"id": last_id, "at": at, "username": username, "action": event.action,
                         "resource": event.resource, "result": result, "host": host, "detail": detail_json,
                         "prev_hash": last_hash, "hash": digest})
            last_hash = digest
        session.connection().execute(AuditRow.__table__.insert(), rows)  # Core executemany: no ORM objects
        head.last_id, head.last_hash = last_id, last_hash
        session.flush()
        return len(rows)

    def query(self, session: Session, flt: AuditFilter = AuditFilter()) -> list[AuditEntry]:
        """Entries matching the filter, newest first."""
        stmt = select(AuditRow)
        if flt.username:
            stmt = stmt.where(AuditRow.username == flt.username)
        if flt.action:
            if flt.action.endswith(("*", ".")):
                stmt = stmt.where(AuditRow.action.startswith(flt.action.rstrip("*"), autoescape=True))
            else:
                stmt = stmt.where(AuditRow.action == flt.action)
        if flt.resource:
            stmt = stmt.where(AuditRow.resource.contains(flt.resource, autoescape=True))
        if flt.result:
            stmt = stmt.where(AuditRow.result == flt.result)
        if flt.since:
            stmt = stmt.where(AuditRow.at >= flt.since)
        if flt.until:
            stmt = stmt.where(AuditRow.at < flt.until)
        stmt = stmt.order_by(AuditRow.id.desc())
        if flt.limit:
            stmt = stmt.limit(flt.limit)
        return [_to_entry(r) for r in session.execute(stmt).scalars()]

    def distinct_values(self, session: Session, column: str) -> list[str]:
        col = {"username": AuditRow.username, "action": AuditRow.action}[column]
        return list(session.execute(select(col).distinct().order_by(col)).scalars())

    def verify(self, session: Session) -> ChainReport:
        """Walk the whole chain and report every broken link, edited row or missing row."""
        problems: list[ChainProblem] = []
        prev_hash, expected_id, count = GENESIS, 1, 0
        for row in session.execute(select(AuditRow).order_by(AuditRow.id)).scalars().yield_per(5000):
            count += 1
            if row.id != expected_id:
                problems.append(ChainProblem(row.id, f"rows {expected_id}..{row.id - 1} are missing"))
            if row.prev_hash != prev_hash:
                problems.append(ChainProblem(row.id, "link to the previous row is broken (a row was deleted or edited)"))
            digest = _canonical(
                row.id, row.at, row.username, row.action, row.resource, row.result, row.host, row.detail, row.prev_hash
            )
            if digest != row.hash:
                problems.append(ChainProblem(row.id, "row content does not match its hash (the row was edited)"))
            prev_hash, expected_id = row.hash, row.id + 1
        head = session.get(AuditHeadRow, 1)
        if head is not None and (head.last_id != expected_id - 1 or head.last_hash != prev_hash):
            problems.append(
                ChainProblem(
                    None,
                    f"chain ends at row {expected_id - 1} but the head records row {head.last_id} "
                    "(newest rows were deleted or the head was edited)",
                )
            )
        if head is None and count:
            problems.append(ChainProblem(None, "the chain head is missing"))
        return ChainReport(rows_checked=count, problems=tuple(problems))


def entries_as_records(entries: Iterable[AuditEntry]) -> list[dict[str, Any]]:
    """Plain dicts in the order of brief use case 11 (timestamp, user, action, resource, result, host)."""
    return [
        {
            "id": e.id,
            "timestamp": e.at.isoformat(),
            "user": e.username,
            "action": e.action,
            "resource": e.resource,
            "result": e.result,
            "host": e.host,
            "detail": e.detail,
            "hash": e.hash,
        }
        for e in entries
    ]
