"""Maps a fleet snapshot to alarm sources: source ids per scope and the value column of each metric.

Source ids: a device id; "<system>/packNN" for a pack; "<system>/packNN/cellMM" for a cell, numbered
from 1 as on the rack labels, zero-padded to at least two digits so they sort.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.alarms.errors import SnapshotError
from core.alarms.metrics import Metric, Scope
from core.alarms.snapshot import FleetSnapshot


def layout_key(snapshot: FleetSnapshot) -> tuple:
    """What determines the source ids; equal keys mean the same layout as last tick."""
    return snapshot.device_ids, tuple((s.system_id, s.shape) for s in snapshot.battery_systems)


@dataclass(frozen=True)
class SourceLayout:
    """Source ids of every scope for one snapshot layout."""

    key: tuple
    device_ids: list[str]
    pack_ids: list[str]
    cell_ids: list[str]

    def ids_for(self, scope: Scope) -> list[str]:
        """Source ids, in array order, of the sources of `scope`."""
        if scope is Scope.DEVICE:
            return self.device_ids
        if scope is Scope.PACK:
            return self.pack_ids
        return self.cell_ids


def _width(count: int) -> int:
    return max(2, len(str(count)))


def build_layout(snapshot: FleetSnapshot) -> SourceLayout:
    """Source ids for `snapshot`; refuses duplicate or malformed device ids."""
    device_ids = list(snapshot.device_ids)
    if len(set(device_ids)) != len(device_ids):
        raise SnapshotError("device ids must be unique")
    for device_id in device_ids:
        if not isinstance(device_id, str) or not device_id or ":" in device_id:
            raise SnapshotError(f"device id must be a non-empty string without ':', got {device_id!r}")
    pack_ids: list[str] = []
    cell_ids: list[str] = []
    for system in snapshot.battery_systems:
        packs, cells = system.shape
        pw, cw = _width(packs), _width(cells)
        for p in range(packs):
            pack = f"{system.system_id}/pack{p + 1:0{pw}d}"
            pack_ids.append(pack)
            cell_ids.extend(f"{pack}/cell{c + 1:0{cw}d}" for c in range(cells))
    return SourceLayout(layout_key(snapshot), device_ids, pack_ids, cell_ids)


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return np.empty(0, np.float64)
    return np.concatenate(parts)


def metric_values(snapshot: FleetSnapshot, metric: Metric) -> np.ndarray:
    """The value column of `metric`, in the order of the layout's source ids for its scope.

    Pack differences use max - min over the pack's cells; one missing cell (NaN) makes the pack's
    value NaN, which the engine reads as "no reading" rather than as a small spread.
    """
    systems = snapshot.battery_systems
    if metric is Metric.DEVICE_SOC_PCT:
        return snapshot.soc_pct
    if metric is Metric.DEVICE_TEMP_C:
        return snapshot.temp_c
    if metric is Metric.CELL_VOLTAGE_V:
        return _concat([s.voltage_v.ravel() for s in systems])
    if metric is Metric.CELL_TEMP_C:
        return _concat([s.temp_c.ravel() for s in systems])
    if metric is Metric.PACK_IMBALANCE_V:
        return _concat([np.ptp(s.voltage_v, axis=1) for s in systems])
    if metric is Metric.PACK_TEMP_SPREAD_C:
        return _concat([np.ptp(s.temp_c, axis=1) for s in systems])
    raise SnapshotError(f"no value column for metric {metric!r}")
