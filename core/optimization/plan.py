"""What the optimizer answers: per-device power and SoC profiles, the site's grid exchange, and how
sure the solver is about it."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from core.optimization.problem import Objective, PriceSeries


class SolveStatus(enum.Enum):
    """How a plan was obtained."""

    #: HiGHS proved the plan optimal.
    OPTIMAL = "optimal"
    #: The time budget ran out; this is the best feasible plan HiGHS had, not proven optimal.
    TIME_LIMIT_BEST_FOUND = "time_limit_best_found"
    #: The time budget ran out before HiGHS had a feasible plan; this is a simple safe plan
    #: (hold, charge as early as possible to the terminal SoC, discharge only to hold a grid limit).
    TIME_LIMIT_FALLBACK = "time_limit_fallback"


@dataclass(frozen=True, eq=False)
class DevicePlan:
    """One battery's plan. `soc_kwh[i]` is the state of charge at the end of step `i`."""

    charge_kw: np.ndarray
    discharge_kw: np.ndarray
    soc_kwh: np.ndarray
    capacity_kwh: float

    @property
    def net_charge_kw(self) -> np.ndarray:
        """Charge minus discharge per step: positive charges, negative discharges."""
        return self.charge_kw - self.discharge_kw

    @property
    def soc_pct(self) -> np.ndarray:
        return self.soc_kwh * (100.0 / self.capacity_kwh)


@dataclass(frozen=True, eq=False)
class OptimizedPlan:
    """The optimizer's answer for one device or one grid-coupled fleet.

    `grid_import_kw`/`grid_export_kw` are the site's exchange with the grid (the battery alone for
    MAXIMIZE_REVENUE). `objective_value` is in the objective's own unit: EUR of cost (negative when the
    plan earns) for MINIMIZE_COST and MAXIMIZE_REVENUE, kW of peak import for GRID_PEAK_SHAVING, kWh
    of deviation for GRID_SETPOINT_TRACKING. It is NaN for a fallback plan.
    """

    prices: PriceSeries
    objective: Objective
    devices: tuple[DevicePlan, ...]
    grid_import_kw: np.ndarray
    grid_export_kw: np.ndarray
    status: SolveStatus
    objective_value: float
    solve_seconds: float

    @property
    def device(self) -> DevicePlan:
        """The only device's plan (single-device problems)."""
        if len(self.devices) != 1:
            raise ValueError(f"this plan holds {len(self.devices)} devices; use .devices")
        return self.devices[0]

    @property
    def is_optimal(self) -> bool:
        return self.status is SolveStatus.OPTIMAL
