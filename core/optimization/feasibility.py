"""Simple necessary conditions, checked before and after solving, so that an infeasible request is
explained in operator terms (which constraint, which hour), and a safe fallback plan for when the
time budget runs out before HiGHS has any feasible plan."""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

import numpy as np

from core.optimization.errors import InfeasiblePlan, SolverFailure
from core.optimization.problem import BatteryParams, Objective, PriceSeries

_TOL_KWH = 1e-9


def _num(value: float) -> str:
    """A number as an operator reads it: 22, 22.5, 0.25 (no trailing zeros)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _when(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC"


def _device(device_index: int | None) -> str:
    return "" if device_index is None else f"device {device_index}: "


def check_device(battery: BatteryParams, prices: PriceSeries, device_index: int | None = None) -> None:
    """Raise InfeasiblePlan if the battery alone cannot satisfy its SoC constraints over the horizon.

    With an unlimited grid connection these conditions are also sufficient: holding the SoC is always
    allowed, so only the start and the terminal target can make a single device infeasible.
    """
    who = _device(device_index)
    b = battery
    if b.initial_soc_pct < b.soc_min_pct:
        raise InfeasiblePlan(
            f"{who}initial SoC {_num(b.initial_soc_pct)} % below minimum {_num(b.soc_min_pct)} %",
            "initial_soc", 0, prices.start, device_index,
        )
    if b.initial_soc_pct > b.soc_max_pct:
        raise InfeasiblePlan(
            f"{who}initial SoC {_num(b.initial_soc_pct)} % above maximum {_num(b.soc_max_pct)} %",
            "initial_soc", 0, prices.start, device_index,
        )
    if b.terminal_soc_pct is None:
        return
    last = prices.n_steps - 1
    if b.terminal_soc_pct > b.soc_max_pct:
        raise InfeasiblePlan(
            f"{who}terminal SoC {_num(b.terminal_soc_pct)} % above maximum {_num(b.soc_max_pct)} %",
            "terminal_soc", last, prices.end, device_index,
        )
    horizon_h = prices.n_steps * prices.step_hours
    reachable_kwh = min(b.soc_max_kwh, b.initial_soc_kwh + b.charge_efficiency * b.max_charge_kw * horizon_h)
    if reachable_kwh + _TOL_KWH < b.terminal_soc_kwh:
        reachable_pct = reachable_kwh * 100.0 / b.capacity_kwh
        efficiency = (
            f" at {_num(b.charge_efficiency * 100)} % charge efficiency" if b.charge_efficiency < 1 else ""
        )
        raise InfeasiblePlan(
            f"{who}terminal SoC {_num(b.terminal_soc_pct)} % unreachable: max charge "
            f"{_num(b.max_charge_kw)} kW x {_num(horizon_h)} h{efficiency} from {_num(b.initial_soc_pct)} % "
            f"reaches only {_num(reachable_pct)} % by {_when(prices.end)}",
            "terminal_soc", last, prices.end, device_index,
        )


def check_grid_limit(
    batteries: Sequence[BatteryParams],
    prices: PriceSeries,
    objective: Objective,
    grid_import_limit_kw: float,
) -> None:
    """Raise InfeasiblePlan at the first step where even every battery discharging at full power
    cannot keep the site's import under the shared limit."""
    net_load = np.zeros(prices.n_steps) if objective is Objective.MAXIMIZE_REVENUE else prices.site_net_load_kw()
    max_discharge = sum(b.max_discharge_kw for b in batteries)
    over = net_load - max_discharge - grid_import_limit_kw
    bad = np.flatnonzero(over > 1e-9)
    if bad.size:
        i = int(bad[0])
        raise InfeasiblePlan(
            f"grid import limit {_num(grid_import_limit_kw)} kW cannot be held at {_when(prices.step_start(i))}: "
            f"site net load {_num(net_load[i])} kW minus all batteries discharging at their "
            f"{_num(max_discharge)} kW maximum still imports {_num(net_load[i] - max_discharge)} kW",
            "grid_import_limit", i, prices.step_start(i),
        )


def grid_limit_overload(prices: PriceSeries, step_index: int, grid_import_limit_kw: float, overload_kw: float) -> InfeasiblePlan:
    """The error for a grid limit that the batteries cannot hold for lack of stored energy or because
    they must charge to their terminal SoC (found by the elastic re-solve)."""
    at = prices.step_start(step_index)
    return InfeasiblePlan(
        f"grid import limit {_num(grid_import_limit_kw)} kW cannot be held at {_when(at)}: the least-overloaded "
        f"plan still imports {_num(grid_import_limit_kw + overload_kw)} kW there ({_num(overload_kw)} kW over), "
        "because the batteries lack stored energy or must charge to reach their terminal SoC",
        "grid_import_limit", step_index, at,
    )


def fallback_schedule(
    batteries: Sequence[BatteryParams],
    prices: PriceSeries,
    objective: Objective,
    grid_import_limit_kw: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A plan that is feasible by construction: hold; charge as early as possible toward the terminal
    SoC within the grid headroom; discharge only where the site would exceed the grid limit.

    Returns (charge_kw, discharge_kw, soc_kwh), each shaped (devices, steps). Raises SolverFailure if
    this greedy rule cannot meet the constraints (the LP might still have found a plan with more time).
    """
    m, n, dt = len(batteries), prices.n_steps, prices.step_hours
    max_c = np.array([b.max_charge_kw for b in batteries])
    max_d = np.array([b.max_discharge_kw for b in batteries])
    eta_c = np.array([b.charge_efficiency for b in batteries])
    eta_d = np.array([b.discharge_efficiency for b in batteries])
    soc_min = np.array([b.soc_min_kwh for b in batteries])
    soc_max = np.array([b.soc_max_kwh for b in batteries])
    target = np.array([b.terminal_soc_kwh or 0.0 for b in batteries])
    soc = np.array([b.initial_soc_kwh for b in batteries])
    net_load = np.zeros(n) if objective is Objective.MAXIMIZE_REVENUE else prices.site_net_load_kw()
    limit = np.inf if grid_import_limit_kw is None else grid_import_limit_kw

    charge = np.zeros((m, n))
    discharge = np.zeros((m, n))
    soc_path = np.zeros((m, n))
    for t in range(n):
        headroom = limit - net_load[t]
        if headroom < 0:
            available = np.minimum(max_d, np.maximum(soc - soc_min, 0.0) * eta_d / dt)
            # Take what is needed, device by device in order (deterministic).
            before = np.concatenate([[0.0], np.cumsum(available)[:-1]])
            discharge[:, t] = np.clip(-headroom - before, 0.0, available)
            soc = soc - discharge[:, t] * dt / eta_d
        else:
            want = np.minimum(max_c, np.maximum(np.minimum(target, soc_max) - soc, 0.0) / (eta_c * dt))
            before = np.concatenate([[0.0], np.cumsum(want)[:-1]])
            charge[:, t] = np.clip(headroom - before, 0.0, want) if np.isfinite(headroom) else want
            soc = soc + charge[:, t] * eta_c * dt
        soc_path[:, t] = soc
    import_kw = net_load + charge.sum(axis=0) - discharge.sum(axis=0)
    if np.any(import_kw > limit + 1e-6) or np.any(soc + 1e-6 < target):
        raise SolverFailure(
            "the time budget ran out before HiGHS found a feasible plan, and the simple fallback plan "
            "cannot meet the grid limit and terminal SoC either: allow more time"
        )
    return charge, discharge, soc_path
