"""Alarm storage: the append-only transition journal, admin rule overrides, and devices in maintenance."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.storage.base import Base
from core.storage.types import UtcDateTime


class AlarmTransitionRow(Base):
    """One ISA-18.2 transition (or comment) of one alarm. Rows are only ever inserted."""

    __tablename__ = "alarm_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alarm_id: Mapped[str] = mapped_column(String(255), nullable=False)
    rule_id: Mapped[str] = mapped_column(String(64), nullable=False)
    source_id: Mapped[str] = mapped_column(String(191), nullable=False, index=True)
    from_state: Mapped[str] = mapped_column(String(8), nullable=False)
    to_state: Mapped[str] = mapped_column(String(8), nullable=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    priority: Mapped[str] = mapped_column(String(16), nullable=False)
    cause: Mapped[str] = mapped_column(String(32), nullable=False)
    value: Mapped[float | None] = mapped_column(Float)
    username: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
    shelved_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AlarmRuleOverrideRow(Base):
    """An admin's change to a default rule; NULL fields keep the default."""

    __tablename__ = "alarm_rule_overrides"

    rule_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    threshold: Mapped[float | None] = mapped_column(Float)
    deadband: Mapped[float | None] = mapped_column(Float)
    on_delay_s: Mapped[float | None] = mapped_column(Float)
    priority: Mapped[str | None] = mapped_column(String(16))
    changed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class AlarmOutOfServiceRow(Base):
    """A device (source prefix) whose alarms are out of service for maintenance."""

    __tablename__ = "alarm_out_of_service"

    device_id: Mapped[str] = mapped_column(String(191), primary_key=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    since: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


Index("ix_alarm_transitions_alarm_id_id", AlarmTransitionRow.alarm_id, AlarmTransitionRow.id)
