"""Schedules in the database: one row per version, the per-device delivery state, the execution log.

Entries are stored as JSON text on the schedule row (a version is immutable once created, so a child table
would only add joins). The execution log's unique key (schedule_id, version, device_id, entry_index) is what
makes a re-delivered acknowledgement harmless: the second copy cannot be stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.storage.base import Base
from core.storage.types import UtcDateTime


class ScheduleRow(Base):
    """One version of a schedule. `schedule_id` is the id devices see; versions of one target share it."""

    __tablename__ = "schedules"
    __table_args__ = (
        UniqueConstraint("schedule_id", "version", name="uq_schedules_schedule_id_version"),
        Index("ix_schedules_target_id", "target_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    target_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    target_id: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    distributed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    entries_json: Mapped[str] = mapped_column(Text, nullable=False)


class ScheduleDeliveryRow(Base):
    """Where one schedule version stands on one device (sent, delivered, executing, deviating, ...)."""

    __tablename__ = "schedule_deliveries"
    __table_args__ = (
        UniqueConstraint("schedule_row_id", "device_id", name="uq_schedule_deliveries_schedule_row_id_device_id"),
        Index("ix_schedule_deliveries_device_id", "device_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_row_id: Mapped[int] = mapped_column(Integer, ForeignKey("schedules.id"), nullable=False)
    device_id: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_ack_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acked_entries: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class ScheduleAckRow(Base):
    """The execution log: one row per executed (or failed) entry, as the device reported it."""

    __tablename__ = "schedule_acks"
    __table_args__ = (
        UniqueConstraint("schedule_id", "version", "device_id", "entry_index",
                         name="uq_schedule_acks_schedule_id_version_device_id_entry_index"),
        Index("ix_schedule_acks_device_id", "device_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    device_id: Mapped[str] = mapped_column(String(64), nullable=False)
    entry_index: Mapped[int] = mapped_column(Integer, nullable=False)
    actual_rate_kw: Mapped[float] = mapped_column(Float, nullable=False)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ok: Mapped[bool] = mapped_column(Boolean, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
