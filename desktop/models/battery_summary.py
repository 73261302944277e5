"""Figures of a battery system or one of its packs: min/max/mean, imbalance, weakest and hottest cell."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from core.fleet.battery_cells import BatterySystemSnapshot


@dataclass(frozen=True)
class CellFigures:
    minimum: float
    maximum: float
    mean: float
    imbalance_v: float  # max - min cell voltage
    weakest: tuple[int, int, float] | None  # (pack, cell, SoH %)
    hottest: tuple[int, int, float] | None  # (pack, cell, °C)


def _quiet(fn, values):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(fn(values)) if values.size else math.nan


def _extreme(values: np.ndarray, pick, first_pack: int) -> tuple[int, int, float] | None:
    if not values.size or np.all(np.isnan(values)):
        return None
    flat = int(pick(values))
    pack, cell = np.unravel_index(flat, values.shape)
    return first_pack + int(pack), int(cell), float(values[pack, cell])


def cell_figures(snap: BatterySystemSnapshot, metric: str, pack: int | None = None) -> CellFigures:
    """Over the whole system, or over one pack when ``pack`` is given."""
    rows = slice(None) if pack is None else slice(pack, pack + 1)
    first = 0 if pack is None else pack
    values = getattr(snap, metric)[rows]
    voltage = snap.voltage_v[rows]
    return CellFigures(
        minimum=_quiet(np.nanmin, values),
        maximum=_quiet(np.nanmax, values),
        mean=_quiet(np.nanmean, values),
        imbalance_v=_quiet(np.nanmax, voltage) - _quiet(np.nanmin, voltage),
        weakest=_extreme(snap.soh_pct[rows], np.nanargmin, first),
        hottest=_extreme(snap.temp_c[rows], np.nanargmax, first),
    )
