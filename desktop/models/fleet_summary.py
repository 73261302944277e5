"""The figures on the fleet view's summary tiles, from one snapshot (numpy reductions, no Qt)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.fleet.live_state import AvailabilityCode, LiveSnapshot


@dataclass(frozen=True)
class FleetSummary:
    online: int
    stale: int
    offline: int
    discharge_kw: float  # power delivered to the grid (positive power_kw)
    charge_kw: float  # power drawn from the grid, as a positive number
    energy_kwh: float  # SoC x capacity over devices whose capacity is known and that are not offline
    energy_devices: int  # how many devices the energy figure covers
    active_alarms: int = 0  # placeholder until the alarms module lands


def summarize(snap: LiveSnapshot, capacity_kwh: np.ndarray) -> FleetSummary:
    availability = snap.availability
    counts = np.bincount(availability.astype(np.int64), minlength=3)
    live = availability != AvailabilityCode.OFFLINE  # an offline device's last power is not flowing now
    power = np.where(live, np.nan_to_num(snap.power_kw), 0.0)
    n = len(snap.device_ids)
    capacity = capacity_kwh[:n] if len(capacity_kwh) >= n else np.full(n, np.nan)
    known = live & np.isfinite(capacity) & np.isfinite(snap.soc_pct)
    energy = float(np.sum(snap.soc_pct[known] / 100.0 * capacity[known]))
    return FleetSummary(
        online=int(counts[AvailabilityCode.ONLINE]),
        stale=int(counts[AvailabilityCode.STALE]),
        offline=int(counts[AvailabilityCode.OFFLINE]),
        discharge_kw=float(power[power > 0].sum()),
        charge_kw=float(-power[power < 0].sum()),
        energy_kwh=energy,
        energy_devices=int(known.sum()),
    )
