"""Optimize a fleet: many independent devices across worker processes, or one LP for devices that
share a grid connection."""

from __future__ import annotations

import math
import multiprocessing
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Callable, Sequence

from core.optimization.errors import GridRoomError, InfeasiblePlan, InvalidOptimizationInput
from core.optimization.lp import solve_lp, solve_plan
from core.optimization.plan import OptimizedPlan
from core.optimization.problem import BatteryParams, Objective, PriceSeries, SolveOptions

#: Chunks per worker: enough to even out uneven solve times, few enough that pickling stays cheap.
_CHUNKS_PER_WORKER = 4


class OptimizationCancelled(GridRoomError):
    """The fleet run was cancelled before every device was optimized."""


@dataclass(frozen=True, eq=False)
class DeviceJob:
    """One device to optimize on its own forecast."""

    battery: BatteryParams
    prices: PriceSeries


#: Each device's outcome: its plan, or the reason it has none (bad data or no feasible plan).
DeviceOutcome = OptimizedPlan | InfeasiblePlan | InvalidOptimizationInput


def _solve_chunk(jobs: Sequence[DeviceJob], objective: Objective, options: SolveOptions) -> list[DeviceOutcome]:
    # One device's bad data must not sink the rest of the fleet, so expected errors become outcomes.
    outcomes: list[DeviceOutcome] = []
    for job in jobs:
        try:
            outcomes.append(solve_plan(job.battery, job.prices, objective, options))
        except (InfeasiblePlan, InvalidOptimizationInput) as error:
            outcomes.append(error)
    return outcomes


def optimize_fleet(
    jobs: Sequence[DeviceJob],
    objective: Objective = Objective.MINIMIZE_COST,
    options: SolveOptions = SolveOptions(),
    *,
    executor: Executor | None = None,
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> list[DeviceOutcome]:
    """Optimize each device independently, in chunks across worker processes; outcomes keep job order.

    Pass a long-lived `executor` (the app's worker pool) to avoid starting processes per run; otherwise
    a pool of `workers` processes is started with forkserver (never fork: the app has threads).
    `progress(done, total)` is called as chunks finish; when `cancelled()` turns true, pending chunks
    are dropped and OptimizationCancelled is raised.
    """
    if not jobs:
        return []
    if workers < 1:
        raise InvalidOptimizationInput(f"workers must be >= 1, got {workers}", "workers")
    chunk = max(1, math.ceil(len(jobs) / (workers * _CHUNKS_PER_WORKER)))
    bounds = [(first, min(first + chunk, len(jobs))) for first in range(0, len(jobs), chunk)]
    own_pool = executor is None
    if executor is None:
        context = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has already imported numpy and HiGHS (no effect if the
        # server is already running): saves each worker's import time on a cold start.
        context.set_forkserver_preload(["core.optimization.lp"])
        executor = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        futures: dict[Future, tuple[int, int]] = {
            executor.submit(_solve_chunk, list(jobs[a:b]), objective, options): (a, b) for a, b in bounds
        }
        outcomes: list[DeviceOutcome | None] = [None] * len(jobs)
        done = 0
        for future in as_completed(futures):
            a, b = futures[future]
            outcomes[a:b] = future.result()
            done += b - a
            if progress is not None:
                progress(done, len(jobs))
            if cancelled is not None and cancelled() and done < len(jobs):
                for pending in futures:
                    pending.cancel()
                raise OptimizationCancelled(f"cancelled after {done} of {len(jobs)} devices")
        return outcomes  # type: ignore[return-value]  # every slot is filled once all chunks are done
    finally:
        if own_pool:
            executor.shutdown(wait=True, cancel_futures=True)


def optimize_coupled_fleet(
    batteries: Sequence[BatteryParams],
    prices: PriceSeries,
    grid_import_limit_kw: float,
    objective: Objective = Objective.MINIMIZE_COST,
    options: SolveOptions = SolveOptions(),
) -> OptimizedPlan:
    """Optimize devices behind one grid connection as one LP: the site's net import (load - PV + the
    batteries' net charge) stays at or below `grid_import_limit_kw` at every step. `prices` carries the
    site's tariff and its aggregate load and PV. Raises InfeasiblePlan naming the device or the step."""
    return solve_lp(batteries, prices, objective, options, grid_import_limit_kw)
