"""Decoded measurements as they leave the ingest: frozen, typed, in domain units.

These are what the storage writer receives (``sink(batch: list[TelemetrySample])``), so they carry
everything a telemetry row needs and nothing protocol-specific.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class TelemetrySample:
    """One telemetry reading of one device. power_kw is positive when discharging."""

    device_id: str
    ts: datetime  # when the device measured it, aware UTC
    received_at: datetime  # when the control side decoded it, aware UTC (one value per ingest batch)
    soc_pct: float
    power_kw: float
    voltage_v: float
    current_a: float
    temp_c: float
    soh_pct: float
    mode: int  # 0 idle, 1 discharge, 2 charge, 3 maintenance, 4 fault


@dataclass(frozen=True, slots=True)
class PackCellSample:
    """One pack's cell readings at one instant: stored as one row per pack, not one row per cell."""

    device_id: str
    pack: int
    ts: datetime  # aware UTC
    received_at: datetime  # aware UTC
    voltage_v: tuple[float, ...]
    temp_c: tuple[float, ...]
    soc_pct: tuple[float, ...]
    soh_pct: tuple[float, ...]
    current_a: float


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A device announced itself online or offline (offline also comes from its MQTT last will)."""

    device_id: str
    online: bool
    reason: str | None
    received_at: datetime  # aware UTC
