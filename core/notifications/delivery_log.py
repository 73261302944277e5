"""The persisted delivery log: one row per notification attempt (channel, recipient, alarm, attempt,
result, error), so a failed notification stays visible after the app restarts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from core.auth.authorizer import Authorizer
from core.auth.principal import Principal
from core.auth.roles import Permission
from core.notifications.dispatcher import DeliveryRecord
from core.notifications.tables import NotificationDeliveryRow
from core.storage.database import Database


@dataclass(frozen=True)
class DeliveryLogEntry:
    """One stored attempt. `final` marks the attempt after which the dispatcher gave up or succeeded."""

    at: datetime
    alarm_id: str
    recipient: str
    channel: str
    channel_kind: str
    step_index: int | None
    attempt: int
    ok: bool
    final: bool
    error: str | None


@dataclass(frozen=True)
class LoggedAttempt:
    """A dispatcher record plus whether it was the last attempt (what the writer stores)."""

    record: DeliveryRecord
    final: bool


class DeliveryLog:
    """Appends attempts (the runtime, as the system) and lists them (users with VIEW_HISTORY)."""

    def __init__(self, db: Database, authorizer: Authorizer) -> None:
        self.db = db
        self.authorizer = authorizer

    def append(self, attempts: Iterable[LoggedAttempt]) -> int:
        """Store attempts in one transaction; returns how many."""
        rows = [NotificationDeliveryRow(
            at=a.record.at, alarm_id=a.record.notification.alarm_id[:255],
            recipient=a.record.notification.recipient[:64], channel=a.record.channel[:32],
            channel_kind=a.record.notification.channel.value, step_index=a.record.notification.step_index,
            attempt=a.record.attempt, ok=a.record.ok, final=a.final, error=a.record.error) for a in attempts]
        if rows:
            with self.db.session() as s:
                s.add_all(rows)
        return len(rows)

    def recent(self, actor: Principal, limit: int = 500, failures_only: bool = False,
               alarm_id: str | None = None) -> list[DeliveryLogEntry]:
        """Newest attempts first."""
        self.authorizer.require(actor, Permission.VIEW_HISTORY, "notification_deliveries")
        query = select(NotificationDeliveryRow).order_by(NotificationDeliveryRow.id.desc()).limit(max(1, int(limit)))
        if failures_only:
            query = query.where(NotificationDeliveryRow.ok.is_(False))
        if alarm_id:
            query = query.where(NotificationDeliveryRow.alarm_id == alarm_id)
        with self.db.session() as s:
            return [DeliveryLogEntry(r.at, r.alarm_id, r.recipient, r.channel, r.channel_kind, r.step_index,
                                     r.attempt, r.ok, r.final, r.error) for r in s.execute(query).scalars()]

    def failed_count(self, actor: Principal, since: datetime | None = None) -> int:
        """Notifications given up on (final failed attempts), since `since` when given."""
        self.authorizer.require(actor, Permission.VIEW_HISTORY, "notification_deliveries")
        query = select(func.count()).select_from(NotificationDeliveryRow).where(
            NotificationDeliveryRow.ok.is_(False), NotificationDeliveryRow.final.is_(True))
        if since is not None:
            query = query.where(NotificationDeliveryRow.at >= since)
        with self.db.session() as s:
            return int(s.execute(query).scalar_one())
