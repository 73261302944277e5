"""Devices: the registry's one table (brief use case 8)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.storage.base import Base
from core.storage.types import UtcDateTime


class DeviceRow(Base):
    """One registered device. Rows are never deleted: decommissioning flags them, so history stays readable."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The identity used in MQTT topics, broker ACLs and certificates: immutable once registered.
    device_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    site_id: Mapped[int] = mapped_column(Integer, ForeignKey("sites.id"), nullable=False, index=True)
    location: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    capacity_kwh: Mapped[float] = mapped_column(Float, nullable=False)
    max_charge_kw: Mapped[float] = mapped_column(Float, nullable=False)
    max_discharge_kw: Mapped[float] = mapped_column(Float, nullable=False)
    address: Mapped[str] = mapped_column(String(512), nullable=False)
    packs: Mapped[int | None] = mapped_column(Integer)
    cells_per_pack: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    decommissioned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    certificate_serial: Mapped[str | None] = mapped_column(String(128))
