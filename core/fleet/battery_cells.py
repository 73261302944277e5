"""Pack x cell arrays of one battery system, and the figures derived from them.

Not thread-safe by itself: LiveState owns instances and guards them with its lock. Snapshots copy the
arrays under that lock and derive figures outside it, so readers never hold writers up for long.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

CELL_FIELDS = ("voltage_v", "temp_c", "soc_pct", "soh_pct")


class BatteryCells:
    """Latest cell readings of one battery system; NaN until a pack reports."""

    def __init__(self, system_id: str, packs: int, cells: int) -> None:
        if packs < 1 or cells < 1:
            raise ValueError(f"a battery system needs at least one pack and one cell, got {packs}x{cells}")
        self.system_id = system_id
        self.cells = cells
        self.arrays: dict[str, np.ndarray] = {name: np.full((packs, cells), np.nan) for name in CELL_FIELDS}
        self.pack_current_a = np.full(packs, np.nan)
        self.pack_last_seen = np.full(packs, np.nan)  # epoch seconds
        self.version = 0

    @property
    def packs(self) -> int:
        return self.pack_current_a.shape[0]

    def ensure_packs(self, packs: int) -> None:
        """Grow to at least this many packs (devices are allowed to report more packs than first seen)."""
        extra = packs - self.packs
        if extra <= 0:
            return
        for name, array in self.arrays.items():
            self.arrays[name] = np.vstack([array, np.full((extra, self.cells), np.nan)])
        self.pack_current_a = np.concatenate([self.pack_current_a, np.full(extra, np.nan)])
        self.pack_last_seen = np.concatenate([self.pack_last_seen, np.full(extra, np.nan)])

    def apply(
        self,
        pack: int,
        voltage_v,
        temp_c,
        soc_pct,
        soh_pct,
        current_a: float,
        seen_at: float,
        version: int,
    ) -> None:
        """Store one pack's readings; every array must have exactly ``cells`` values."""
        if not 0 <= pack < self.packs:
            raise IndexError(f"{self.system_id} has packs 0..{self.packs - 1}, not {pack}")
        values = {"voltage_v": voltage_v, "temp_c": temp_c, "soc_pct": soc_pct, "soh_pct": soh_pct}
        for name, given in values.items():
            if len(given) != self.cells:
                raise ValueError(f"{self.system_id} pack {pack}: {name} has {len(given)} cells, expected {self.cells}")
        for name, given in values.items():
            self.arrays[name][pack, :] = given
        self.pack_current_a[pack] = current_a
        self.pack_last_seen[pack] = seen_at
        self.version = version

    def copy_out(self, live_version: int) -> BatterySystemSnapshot:
        """Copy the raw arrays (call under the owner's lock); derived figures are computed lazily."""
        return BatterySystemSnapshot(
            system_id=self.system_id,
            version=self.version,
            live_version=live_version,
            voltage_v=_frozen(self.arrays["voltage_v"]),
            temp_c=_frozen(self.arrays["temp_c"]),
            soc_pct=_frozen(self.arrays["soc_pct"]),
            soh_pct=_frozen(self.arrays["soh_pct"]),
            pack_current_a=_frozen(self.pack_current_a),
            pack_last_seen=_frozen(self.pack_last_seen),
        )


def _frozen(array: np.ndarray) -> np.ndarray:
    out = array.copy()
    out.flags.writeable = False
    return out


def _nan_reduce(fn, array: np.ndarray, axis=None):
    # A pack that never reported is all-NaN: its mean is NaN, which is the honest answer, not a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(array, axis=axis)


@dataclass(frozen=True)
class BatterySystemSnapshot:
    """Read-only copy of one battery system's cells (shape packs x cells) with derived figures."""

    system_id: str
    version: int  # LiveState version of the last cell update of this system
    live_version: int  # LiveState version when the copy was taken
    voltage_v: np.ndarray
    temp_c: np.ndarray
    soc_pct: np.ndarray
    soh_pct: np.ndarray
    pack_current_a: np.ndarray
    pack_last_seen: np.ndarray

    @property
    def pack_soc_pct(self) -> np.ndarray:
        """Mean cell SoC per pack (NaN for a pack that never reported)."""
        return _nan_reduce(np.nanmean, self.soc_pct, axis=1)

    @property
    def pack_soh_pct(self) -> np.ndarray:
        """Mean cell SoH per pack."""
        return _nan_reduce(np.nanmean, self.soh_pct, axis=1)

    @property
    def pack_imbalance_v(self) -> np.ndarray:
        """Cell voltage spread (max - min) per pack: the figure balancing alarms watch."""
        return _nan_reduce(np.nanmax, self.voltage_v, axis=1) - _nan_reduce(np.nanmin, self.voltage_v, axis=1)

    @property
    def system_soc_pct(self) -> float:
        """Mean SoC over every cell that has reported."""
        return float(_nan_reduce(np.nanmean, self.soc_pct))

    @property
    def system_soh_pct(self) -> float:
        return float(_nan_reduce(np.nanmean, self.soh_pct))

    @property
    def system_imbalance_v(self) -> float:
        """Spread between the highest and the lowest cell voltage anywhere in the system."""
        return float(_nan_reduce(np.nanmax, self.voltage_v) - _nan_reduce(np.nanmin, self.voltage_v))
