"""Injected cell faults of a battery system: extra heat, weak cells and stuck sensors.

The simulator uses these to create the situations the control room must catch: an over-temperature
cell, a cell whose capacity collapsed, a sensor that reports a frozen value while the real state moves.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from core.batteries.errors import CellIndexError, InvalidBatteryParameter, UnknownSensorMetric

CellMetric = Literal["voltage_v", "temp_c", "soc_pct", "soh_pct"]
CELL_METRICS: tuple[str, ...] = get_args(CellMetric)


class CellFaults:
    """Fault state of a packs x cells grid. All arrays have shape (n_packs, cells_per_pack)."""

    def __init__(self, n_packs: int, cells_per_pack: int) -> None:
        self.shape = (n_packs, cells_per_pack)
        self.extra_heat_w = np.zeros(self.shape)
        self.capacity_factor = np.ones(self.shape)
        self.resistance_factor = np.ones(self.shape)
        # metric -> (mask of stuck sensors, value each stuck sensor keeps reporting)
        self.stuck: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def any_heat(self) -> bool:
        """True when at least one cell has injected heat (lets the hot path skip an addition)."""
        return bool(np.any(self.extra_heat_w))

    def check_index(self, pack: int, cell: int) -> None:
        """Raise CellIndexError unless (pack, cell) exists."""
        n_packs, cells = self.shape
        if not (0 <= pack < n_packs and 0 <= cell < cells):
            raise CellIndexError(f"cell ({pack}, {cell}) does not exist in {n_packs} packs x {cells} cells")

    def set_over_temperature(self, pack: int, cell: int, extra_heat_w: float) -> None:
        """Add `extra_heat_w` of heat in one cell (replacing any earlier value for it)."""
        self.check_index(pack, cell)
        if not np.isfinite(extra_heat_w) or extra_heat_w < 0:
            raise InvalidBatteryParameter(f"extra_heat_w must be finite and >= 0, got {extra_heat_w!r}")
        self.extra_heat_w[pack, cell] = extra_heat_w

    def set_weak_cell(self, pack: int, cell: int, capacity_factor: float, resistance_factor: float) -> None:
        """Scale one cell's capacity by `capacity_factor` (0-1] and its resistance by `resistance_factor` (>= 1)."""
        self.check_index(pack, cell)
        if not np.isfinite(capacity_factor) or not 0.0 < capacity_factor <= 1.0:
            raise InvalidBatteryParameter(f"capacity_factor must be in (0, 1], got {capacity_factor!r}")
        if not np.isfinite(resistance_factor) or resistance_factor < 1.0:
            raise InvalidBatteryParameter(f"resistance_factor must be >= 1, got {resistance_factor!r}")
        self.capacity_factor[pack, cell] = capacity_factor
        self.resistance_factor[pack, cell] = resistance_factor

    def set_stuck_sensor(self, pack: int, cell: int, metric: str, frozen_value: float) -> None:
        """Make the `metric` sensor of one cell report `frozen_value` from now on."""
        self.check_index(pack, cell)
        if metric not in CELL_METRICS:
            raise UnknownSensorMetric(f"metric must be one of {CELL_METRICS}, got {metric!r}")
        mask, values = self.stuck.get(metric, (np.zeros(self.shape, dtype=bool), np.zeros(self.shape)))
        mask[pack, cell] = True
        values[pack, cell] = frozen_value
        self.stuck[metric] = (mask, values)

    def apply_stuck(self, metric: str, reading: np.ndarray) -> np.ndarray:
        """Return `reading` with the stuck sensors of `metric` replaced by their frozen values."""
        if metric not in self.stuck:
            return reading
        mask, values = self.stuck[metric]
        return np.where(mask, values, reading)

    def clear(self) -> None:
        """Remove every fault."""
        self.extra_heat_w[:] = 0.0
        self.capacity_factor[:] = 1.0
        self.resistance_factor[:] = 1.0
        self.stuck.clear()
