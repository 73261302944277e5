"""Device groups in the database: the group and its members (one row per device in the group)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.storage.base import Base
from core.storage.types import UtcDateTime


class DeviceGroupRow(Base):
    """A named set of devices. `group_id` is what a schedule's target names (like a device id)."""

    __tablename__ = "device_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class DeviceGroupMemberRow(Base):
    """One device in one group; a device may be in several groups, but only once in each."""

    __tablename__ = "device_group_members"
    __table_args__ = (UniqueConstraint("group_row_id", "device_id", name="uq_device_group_members_group_row_id_device_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_row_id: Mapped[int] = mapped_column(Integer, ForeignKey("device_groups.id"), nullable=False, index=True)
    device_id: Mapped[str] = mapped_column(String(64), ForeignKey("devices.device_id"), nullable=False, index=True)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
