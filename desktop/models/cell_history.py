"""Recent values of every cell of a battery system, so a clicked cell shows its trend at once.

One preallocated block (samples x metrics x packs x cells) written in place per LiveState version; no
shifting. 300 samples of 4 metrics for 1,000 cells is 9.6 MB.
"""

from __future__ import annotations

import numpy as np

from core.fleet.battery_cells import CELL_FIELDS, BatterySystemSnapshot


class CellHistory:
    def __init__(self, packs: int, cells: int, capacity: int = 300) -> None:
        self.capacity = capacity
        self.shape = (packs, cells)
        self._t = np.full(capacity, np.nan)
        self._values = np.full((capacity, len(CELL_FIELDS), packs, cells), np.nan, dtype=np.float64)
        self._next = 0
        self._count = 0
        self.last_version = -1

    def record(self, snap: BatterySystemSnapshot, t: float) -> bool:
        """Store the snapshot's cells once per system version; False when it was already recorded."""
        if snap.version == self.last_version or snap.voltage_v.shape != self.shape:
            return False
        i = self._next
        self._t[i] = t
        for m, name in enumerate(CELL_FIELDS):
            self._values[i, m] = getattr(snap, name)
        self._next = (i + 1) % self.capacity
        self._count = min(self._count + 1, self.capacity)
        self.last_version = snap.version
        return True

    def trend(self, metric: str, pack: int, cell: int) -> tuple[np.ndarray, np.ndarray]:
        """(t, values) of one cell, oldest first (a small copy: capacity values)."""
        order = (np.arange(self._count) + self._next - self._count) % self.capacity
        return self._t[order], self._values[order, CELL_FIELDS.index(metric), pack, cell]
