"""Parameters of PyBaMM's "ECM_Example" 100 Ah cell: OCV(SoC) and R0/R1/C1(temperature, current, SoC).

The tables ship in `resources/battery/ecm_example_tables.npz` (see the README beside it). Lookups are
vectorized over cells and reproduce PyBaMM's `Interpolant` (linear in 1D, trilinear in 3D) inside the
tables. Outside the tables the inputs are clamped to the edge (PyBaMM extrapolates linearly): a grid
battery never runs below -20 C or above 700 A per cell, so the edge value is the safer guess.

Current sign follows PyBaMM: positive = discharge.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from core.batteries.errors import InvalidBatteryParameter

RESOURCE_PACKAGE = "resources"
TABLES_FILE = "ecm_example_tables.npz"


@dataclass(frozen=True)
class UniformAxis:
    """One axis of a lookup table with evenly spaced points: start, step and count."""

    start: float
    step: float
    count: int

    @classmethod
    def from_points(cls, name: str, points: np.ndarray) -> UniformAxis:
        """Build from grid points; raise InvalidBatteryParameter unless they are evenly spaced and rising."""
        diffs = np.diff(points)
        if points.size < 2 or np.any(diffs <= 0) or not np.allclose(diffs, diffs[0], rtol=1e-6, atol=1e-9):
            raise InvalidBatteryParameter(f"{name} grid must be evenly spaced and rising, got {points}")
        return cls(float(points[0]), float(diffs[0]), int(points.size))

    def locate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index of the cell below each x (clamped to the table) and the fractional position in it."""
        # minimum/maximum rather than np.clip: same result, a third of the overhead on 1,000 points.
        pos = np.minimum(np.maximum((x - self.start) * (1.0 / self.step), 0.0), self.count - 1)
        # The last grid point maps to the last cell with weight 1, so index+1 always exists.
        idx = np.minimum(pos.astype(np.intp), self.count - 2)
        return idx, pos - idx


def corner_table(grid_values: np.ndarray) -> np.ndarray:
    """Rearrange a (nT, nI, nS, 3) table so that one column holds all 8 corners of one grid cell.

    Result shape (24, (nT-1)*(nI-1)*(nS-1)): rows ordered (temperature corner, current corner,
    SoC corner, quantity). A lookup then needs one gather instead of eight.
    """
    n_t, n_i, n_s, n_q = grid_values.shape
    corners = np.empty((2, 2, 2, n_q, n_t - 1, n_i - 1, n_s - 1))
    for dt in range(2):
        for di in range(2):
            for ds in range(2):
                block = grid_values[dt : n_t - 1 + dt, di : n_i - 1 + di, ds : n_s - 1 + ds]
                corners[dt, di, ds] = np.moveaxis(block, -1, 0)
    return np.ascontiguousarray(corners.reshape(8 * n_q, -1))


@dataclass(frozen=True, eq=False)
class CellParameters:
    """Lookup tables of one cell type. Build with `load_ecm_example()`; immutable and shared by all models."""

    nominal_capacity_ah: float
    ocv_soc: np.ndarray
    ocv_v: np.ndarray
    temp_axis: UniformAxis
    current_axis: UniformAxis
    soc_axis: UniformAxis
    # Corners of every grid cell of R0 [Ohm], R1 [Ohm], C1 [F], see `corner_table`.
    rc_corners: np.ndarray

    def ocv_v_at(self, soc: np.ndarray) -> np.ndarray:
        """Open-circuit voltage [V] at state of charge `soc` (0-1), linear in the table, clamped at its ends."""
        return np.interp(soc, self.ocv_soc, self.ocv_v)

    def ocv_slope_v_at(self, soc: np.ndarray) -> np.ndarray:
        """dOCV/dSoC [V per unit SoC] at `soc`, by central difference over one table spacing."""
        h = 0.5 * (self.ocv_soc[1] - self.ocv_soc[0])
        return (np.interp(soc + h, self.ocv_soc, self.ocv_v) - np.interp(soc - h, self.ocv_soc, self.ocv_v)) / (2 * h)

    def rc_at(
        self, temp_c: np.ndarray, current_a: np.ndarray, soc: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """R0 [Ohm], R1 [Ohm] and C1 [F] at each cell's temperature, current (+ = discharge) and SoC (0-1).

        Trilinear interpolation on the uniform grid, written out by hand: one gather of each cell's
        8 corners, then three blends on contiguous rows. It runs every simulation step, and costs
        a fraction of scipy's RegularGridInterpolator for 1,000 points.
        """
        it, wt = self.temp_axis.locate(np.asarray(temp_c, dtype=np.float64))
        ii, wi = self.current_axis.locate(np.asarray(current_a, dtype=np.float64))
        js, ws = self.soc_axis.locate(np.asarray(soc, dtype=np.float64))
        column = (it * (self.current_axis.count - 1) + ii) * (self.soc_axis.count - 1) + js
        v = np.take(self.rc_corners, column, axis=1)  # (24, N)
        v = v[:12] + wt * (v[12:] - v[:12])  # along temperature
        v = v[:6] + wi * (v[6:] - v[:6])  # along current
        v = v[:3] + ws * (v[3:] - v[:3])  # along SoC
        return v[0], v[1], v[2]


@lru_cache(maxsize=1)
def load_ecm_example() -> CellParameters:
    """The PyBaMM "ECM_Example" 100 Ah cell, loaded once from the bundled resource file."""
    resource = importlib.resources.files(RESOURCE_PACKAGE) / "battery" / TABLES_FILE
    with resource.open("rb") as fh, np.load(fh) as data:
        arrays = {key: np.array(data[key]) for key in data.files}
    shape = (arrays["temp_c_grid"].size, arrays["current_a_grid"].size, arrays["soc_grid"].size)
    stacked = np.stack(
        [arrays[key].astype(np.float64).reshape(shape) for key in ("r0_ohm", "r1_ohm", "c1_f")], axis=-1
    )
    corners = corner_table(stacked)
    corners.setflags(write=False)
    for key in ("ocv_soc", "ocv_v"):
        arrays[key].setflags(write=False)
    return CellParameters(
        nominal_capacity_ah=100.0,
        ocv_soc=arrays["ocv_soc"],
        ocv_v=arrays["ocv_v"],
        temp_axis=UniformAxis.from_points("temperature", arrays["temp_c_grid"]),
        current_axis=UniformAxis.from_points("current", arrays["current_a_grid"]),
        soc_axis=UniformAxis.from_points("SoC", arrays["soc_grid"]),
        rc_corners=corners,
    )
