"""Notification storage: each user's preferences, the admin's channel settings and escalation chain,
and the delivery log of every attempt. Secrets (SMTP password, webhook URL with token, routing keys,
gateway keys) are never stored here: they live in the OS keyring (core.secrets)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.storage.base import Base
from core.storage.types import UtcDateTime


class NotificationPreferenceRow(Base):
    """One user's choice of channels and the least urgent priority they want to hear about."""

    __tablename__ = "notification_preferences"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))
    sms_number: Mapped[str | None] = mapped_column(String(32))
    email_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    sms_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    desktop_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    sound_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    min_priority: Mapped[str] = mapped_column(String(16), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class NotificationChannelRow(Base):
    """An admin-configured channel ("email", "slack", "pagerduty", "sms"): its non-secret settings as JSON."""

    __tablename__ = "notification_channels"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    settings_json: Mapped[str] = mapped_column(Text, nullable=False)
    changed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class NotificationEscalationRow(Base):
    """The escalation chain in force (one row, id 1): steps and the priorities it applies to, as JSON."""

    __tablename__ = "notification_escalation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    steps_json: Mapped[str] = mapped_column(Text, nullable=False)
    priorities_json: Mapped[str] = mapped_column(Text, nullable=False)
    changed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class NotificationDeliveryRow(Base):
    """One attempt to deliver one notification. Rows are only ever inserted."""

    __tablename__ = "notification_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    alarm_id: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    recipient: Mapped[str] = mapped_column(String(64), nullable=False)
    channel: Mapped[str] = mapped_column(String(32), nullable=False)
    channel_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    step_index: Mapped[int | None] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    ok: Mapped[bool] = mapped_column(Boolean, nullable=False)
    final: Mapped[bool] = mapped_column(Boolean, nullable=False)
    error: Mapped[str | None] = mapped_column(Text)
