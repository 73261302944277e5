"""Solve the battery-schedule LP with HiGHS: deterministic, time-boxed, infeasibility explained.

Determinism: HiGHS runs single-threaded with a fixed random seed, presolve on and the serial dual
simplex, and the model carries a tiny time preference (see model.py), so the same request gives the
same plan bit for bit, and ties resolve to the earliest action.
"""

from __future__ import annotations

import time
from typing import Sequence

import highspy
import numpy as np

from core.optimization.errors import InfeasiblePlan, InvalidOptimizationInput, SolverFailure
from core.optimization.feasibility import (
    check_device,
    check_grid_limit,
    fallback_schedule,
    grid_limit_overload,
)
from core.optimization.model import LpArrays, build_lp
from core.optimization.plan import DevicePlan, OptimizedPlan, SolveStatus
from core.optimization.problem import BatteryParams, Objective, PriceSeries, SolveOptions

_HIGHS_OPTIONS: dict[str, object] = {
    "output_flag": False,
    "threads": 1,
    "random_seed": 0,
    "presolve": "off",  # measured: 1.4 ms vs 3.2 ms per device; this LP has little to presolve
    "solver": "simplex",
    "simplex_strategy": 1,  # serial dual simplex: no thread-timing dependence
    "parallel": "off",
}
_M = highspy.HighsModelStatus
_TIME_OUT = {_M.kTimeLimit, _M.kIterationLimit, _M.kInterrupt, _M.kHighsInterrupt}
_INFEASIBLE = {_M.kInfeasible, _M.kUnboundedOrInfeasible}
_FEASIBLE = highspy.SolutionStatus.kSolutionStatusFeasible.value


def solve_plan(
    battery: BatteryParams,
    prices: PriceSeries,
    objective: Objective = Objective.MINIMIZE_COST,
    options: SolveOptions = SolveOptions(),
) -> OptimizedPlan:
    """Optimize one battery's schedule over `prices`. Raises InfeasiblePlan with an operator message."""
    return solve_lp([battery], prices, objective, options)


def solve_lp(
    batteries: Sequence[BatteryParams],
    prices: PriceSeries,
    objective: Objective,
    options: SolveOptions = SolveOptions(),
    grid_import_limit_kw: float | None = None,
) -> OptimizedPlan:
    """Optimize `batteries` behind one grid connection (one LP); `grid_import_limit_kw` caps the
    site's import at every step. A single device is the case of one battery and no limit."""
    started = time.perf_counter()
    _check_request(batteries, prices, objective, grid_import_limit_kw)
    arrays = build_lp(batteries, prices, objective, grid_import_limit_kw)
    highs = _new_highs(options.time_limit_s)
    first_cost = arrays.primary_cost if arrays.primary_cost is not None else arrays.cost
    _pass_model(highs, arrays, first_cost)
    highs.run()
    status = highs.getModelStatus()

    if status == _M.kOptimal:
        x = _values(highs, arrays)
        plan_status = SolveStatus.OPTIMAL
        if arrays.primary_cost is not None:
            x, plan_status = _second_stage(highs, arrays, x, options.time_limit_s - (time.perf_counter() - started))
    elif status in _INFEASIBLE:
        raise _explain_infeasible(batteries, prices, objective, grid_import_limit_kw)
    elif status in _TIME_OUT:
        if highs.getInfo().primal_solution_status == _FEASIBLE:
            x, plan_status = _values(highs, arrays), SolveStatus.TIME_LIMIT_BEST_FOUND
        else:
            charge, discharge, soc = fallback_schedule(batteries, prices, objective, grid_import_limit_kw)
            return _plan(prices, objective, batteries, charge, discharge, soc, SolveStatus.TIME_LIMIT_FALLBACK, started)
    else:
        raise SolverFailure(f"HiGHS stopped with status {highs.modelStatusToString(status)}")

    m, n = len(batteries), prices.n_steps
    devices = x[: 3 * m * n].reshape(m, 3, n)
    return _plan(prices, objective, batteries, devices[:, 0], devices[:, 1], devices[:, 2], plan_status, started)


def _check_request(
    batteries: Sequence[BatteryParams],
    prices: PriceSeries,
    objective: Objective,
    grid_import_limit_kw: float | None,
) -> None:
    if not batteries:
        raise InvalidOptimizationInput("no batteries to optimize", "batteries")
    if not isinstance(objective, Objective):
        raise InvalidOptimizationInput(f"objective must be an Objective, got {objective!r}", "objective")
    if objective is Objective.GRID_SETPOINT_TRACKING and prices.grid_setpoint_kw is None:
        raise InvalidOptimizationInput("setpoint tracking needs grid_setpoint_kw in the forecast", "grid_setpoint_kw")
    if grid_import_limit_kw is not None and not (np.isfinite(grid_import_limit_kw) and grid_import_limit_kw >= 0):
        raise InvalidOptimizationInput(
            f"grid_import_limit_kw must be a finite number >= 0, got {grid_import_limit_kw}", "grid_import_limit_kw"
        )
    single = len(batteries) == 1
    for index, battery in enumerate(batteries):
        check_device(battery, prices, None if single else index)
    if grid_import_limit_kw is not None:
        check_grid_limit(batteries, prices, objective, grid_import_limit_kw)


def _new_highs(time_limit_s: float) -> highspy.Highs:
    highs = highspy.Highs()
    for name, value in _HIGHS_OPTIONS.items():
        highs.setOptionValue(name, value)
    highs.setOptionValue("time_limit", float(time_limit_s))
    return highs


def _pass_model(highs: highspy.Highs, arrays: LpArrays, cost: np.ndarray) -> None:
    status = highs.passModel(
        arrays.layout.n_cols, arrays.row_lower.size, arrays.a_index.size,
        highspy.MatrixFormat.kColwise.value, highspy.ObjSense.kMinimize.value, 0.0,
        cost, arrays.col_lower, arrays.col_upper, arrays.row_lower, arrays.row_upper,
        arrays.a_start[:-1], arrays.a_index, arrays.a_value,
        np.zeros(arrays.layout.n_cols, np.int32),  # integrality: all continuous (this overload needs it)
    )  # fmt: skip
    if status != highspy.HighsStatus.kOk:
        raise SolverFailure(f"HiGHS rejected the model ({status})")


def _values(highs: highspy.Highs, arrays: LpArrays) -> np.ndarray:
    # Simplex values can overshoot a bound by ~1e-12; clip so callers see limits respected exactly.
    x = np.asarray(highs.getSolution().col_value, dtype=np.float64)
    return np.clip(x, arrays.col_lower, arrays.col_upper)


def _second_stage(
    highs: highspy.Highs, arrays: LpArrays, first: np.ndarray, remaining_s: float
) -> tuple[np.ndarray, SolveStatus]:
    """Hold the primary goal (peak or deviation) at its optimum, then minimize cost among such plans.

    A lexicographic solve rather than one weighted sum: no weight is large enough for every tariff,
    and huge weights hurt HiGHS's numerics. The second run starts from the first run's basis.
    """
    best = float(highs.getInfo().objective_function_value)
    slack = 1e-7 + 1e-9 * abs(best)  # about HiGHS's primal feasibility tolerance: tighter could fail
    layout = arrays.layout
    if layout.has_tracking:
        cols = np.arange(layout.over_start, layout.n_cols, dtype=np.int32)
        weights = arrays.primary_cost[cols]
        highs.addRow(-np.inf, best + slack, cols.size, cols, weights)
    else:
        highs.changeColsBounds(1, np.array([layout.peak_col], np.int32), np.array([0.0]), np.array([best + slack]))
    cols = np.arange(layout.n_cols, dtype=np.int32)
    highs.changeColsCost(cols.size, cols, arrays.cost)
    highs.setOptionValue("time_limit", max(0.0, remaining_s))
    highs.run()
    if highs.getModelStatus() == _M.kOptimal:
        return _values(highs, arrays), SolveStatus.OPTIMAL
    # Out of time in stage two: the stage-one plan meets the primary goal; its cost is not optimized.
    return first, SolveStatus.TIME_LIMIT_BEST_FOUND


def _explain_infeasible(
    batteries: Sequence[BatteryParams],
    prices: PriceSeries,
    objective: Objective,
    grid_import_limit_kw: float | None,
) -> InfeasiblePlan:
    """The simple per-device checks already passed, so only the shared grid limit can bind: re-solve
    with the limit made elastic (overload allowed at a cost) and name the step that needs the most."""
    if grid_import_limit_kw is None:
        return InfeasiblePlan(
            "HiGHS found no plan although every SoC target looks reachable; check the battery data",
            "unknown",
        )
    arrays = build_lp(batteries, prices, objective, None)
    layout = arrays.layout
    n = prices.n_steps
    highs = _new_highs(60.0)
    _pass_model(highs, arrays, np.zeros(layout.n_cols))
    highs.addCols(n, np.ones(n), np.zeros(n), np.full(n, np.inf), 0,
                  np.zeros(n, np.int32), np.zeros(0, np.int32), np.zeros(0))  # fmt: skip
    steps = np.arange(n)
    index = np.stack([layout.import_start + steps, layout.n_cols + steps], axis=1).ravel().astype(np.int32)
    values = np.tile([1.0, -1.0], n)
    highs.addRows(n, np.full(n, -np.inf), np.full(n, grid_import_limit_kw), index.size,
                  (2 * steps).astype(np.int32), index, values)  # fmt: skip
    highs.run()
    if highs.getModelStatus() != _M.kOptimal:
        return InfeasiblePlan("no plan meets the constraints, and the overload could not be located", "unknown")
    overload = np.asarray(highs.getSolution().col_value)[layout.n_cols :]
    worst = int(np.argmax(overload))
    return grid_limit_overload(prices, worst, grid_import_limit_kw, float(overload[worst]))


def _plan(
    prices: PriceSeries,
    objective: Objective,
    batteries: Sequence[BatteryParams],
    charge: np.ndarray,
    discharge: np.ndarray,
    soc: np.ndarray,
    status: SolveStatus,
    started: float,
) -> OptimizedPlan:
    net_load = np.zeros(prices.n_steps) if objective is Objective.MAXIMIZE_REVENUE else prices.site_net_load_kw()
    site = net_load + charge.sum(axis=0) - discharge.sum(axis=0)
    grid_import = np.maximum(site, 0.0)
    grid_export = np.maximum(-site, 0.0)
    devices = tuple(
        DevicePlan(_frozen(charge[i]), _frozen(discharge[i]), _frozen(soc[i]), b.capacity_kwh)
        for i, b in enumerate(batteries)
    )
    value = _objective_value(prices, objective, batteries, charge, discharge, grid_import, grid_export)
    return OptimizedPlan(
        prices, objective, devices, _frozen(grid_import), _frozen(grid_export), status, value,
        time.perf_counter() - started,
    )  # fmt: skip


def _objective_value(
    prices: PriceSeries,
    objective: Objective,
    batteries: Sequence[BatteryParams],
    charge: np.ndarray,
    discharge: np.ndarray,
    grid_import: np.ndarray,
    grid_export: np.ndarray,
) -> float:
    dt = prices.step_hours
    if objective is Objective.GRID_PEAK_SHAVING:
        return float(grid_import.max())
    if objective is Objective.GRID_SETPOINT_TRACKING:
        return float(np.abs(grid_import - grid_export - prices.grid_setpoint_kw).sum() * dt)
    energy_eur = float(
        (prices.import_price_eur_per_mwh @ grid_import - prices.export_price_eur_per_mwh @ grid_export) * dt / 1000.0
    )
    degradation = np.array([b.degradation_cost_eur_per_kwh for b in batteries])
    wear_eur = float(degradation @ (charge + discharge).sum(axis=1) * dt)
    demand_eur = prices.demand_charge_eur_per_kw * float(grid_import.max()) if objective is Objective.MINIMIZE_COST else 0.0
    return energy_eur + wear_eur + demand_eur


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=np.float64)
    array.setflags(write=False)
    return array
