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
        pos = np.clip((x - self.start) / self.step, 0.0, self.count - 1)
        # The last grid point maps to the last cell with weight 1, so index+1 always exists.
        idx = np.minimum(pos.astype(np.intp), self.count - 2)
        return idx, pos - idx


@dataclass(frozen=True, eq=False)
class CellParameters:
    """Lookup tables of one cell type. Build with `load_ecm_example()`; immutable and shared by all models."""

    nominal_capacity_ah: float
    ocv_soc: np.ndarray
    ocv_v: np.ndarray
    temp_axis: UniformAxis
    current_axis: UniformAxis
    soc_axis: UniformAxis
    # (nT * nI * nS, 3): R0 [Ohm], R1 [Ohm], C1 [F] side by side, so one gather fetches all three.
    rc_table: np.ndarray

    def ocv_v_at(self, soc: np.ndarray) -> np.ndarray:
        """Open-circuit voltage [V] at state of charge `soc` (0-1), linear in the table, clamped at its ends."""
        return np.interp(soc, self.ocv_soc, self.ocv_v)

    def rc_at(
        self, temp_c: np.ndarray, current_a: np.ndarray, soc: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """R0 [Ohm], R1 [Ohm] and C1 [F] at each cell's temperature, current (+ = discharge) and SoC (0-1).

        Trilinear interpolation on the uniform grid, written out by hand because it costs a fraction of
        scipy's RegularGridInterpolator for 1,000 points (it runs every simulation step).
        """
        it, wt = self.temp_axis.locate(np.asarray(temp_c, dtype=np.float64))
        ii, wi = self.current_axis.locate(np.asarray(current_a, dtype=np.float64))
        js, ws = self.soc_axis.locate(np.asarray(soc, dtype=np.float64))
        n_i, n_s = self.current_axis.count, self.soc_axis.count
        base = (it * n_i + ii) * n_s + js
        table = self.rc_table
        # Interpolate along SoC first (neighbours are adjacent in memory), then current, then temperature.
        ws_ = ws[:, None]
        wi_ = wi[:, None]
        wt_ = wt[:, None]

        def along_soc(offset: np.ndarray) -> np.ndarray:
            lo = table[offset]
            return lo + ws_ * (table[offset + 1] - lo)

        c00 = along_soc(base)
        c01 = along_soc(base + n_s)
        c10 = along_soc(base + n_i * n_s)
        c11 = along_soc(base + n_i * n_s + n_s)
        c0 = c00 + wi_ * (c01 - c00)
        c1 = c10 + wi_ * (c11 - c10)
        values = c0 + wt_ * (c1 - c0)
        return values[:, 0], values[:, 1], values[:, 2]


@lru_cache(maxsize=1)
def load_ecm_example() -> CellParameters:
    """The PyBaMM "ECM_Example" 100 Ah cell, loaded once from the bundled resource file."""
    resource = importlib.resources.files(RESOURCE_PACKAGE) / "battery" / TABLES_FILE
    with resource.open("rb") as fh, np.load(fh) as data:
        arrays = {key: np.array(data[key]) for key in data.files}
    shape = (arrays["temp_c_grid"].size, arrays["current_a_grid"].size, arrays["soc_grid"].size)
    stacked = np.stack(
        [arrays[key].astype(np.float64).reshape(shape) for key in ("r0_ohm", "r1_ohm", "c1_f")], axis=-1
    ).reshape(-1, 3)
    stacked.setflags(write=False)
    for key in ("ocv_soc", "ocv_v"):
        arrays[key].setflags(write=False)
    return CellParameters(
        nominal_capacity_ah=100.0,
        ocv_soc=arrays["ocv_soc"],
        ocv_v=arrays["ocv_v"],
        temp_axis=UniformAxis.from_points("temperature", arrays["temp_c_grid"]),
        current_axis=UniformAxis.from_points("current", arrays["current_a_grid"]),
        soc_axis=UniformAxis.from_points("SoC", arrays["soc_grid"]),
        rc_table=stacked,
    )
