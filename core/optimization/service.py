"""OptimizationService: from stored prices and a registered model to per-device plans, savings and a draft.

run(): permission RUN_OPTIMIZATION (traders, operators, admins); prices come from storage, the forecast
from the model registry (P10/P50/P90), one LP per device (a process pool for a large fleet, threads for
a few), progress callbacks and cooperative cancel. Each device gets its plan or a specific reason why
there is none. propose(): the trader's (possibly edited) entries become a draft in ScheduleService with
source "optimizer"; approval stays there (operators).
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Sequence

import numpy as np

from core.audit.trail import AuditTrail
from core.auth.authorizer import Authorizer
from core.auth.principal import Principal
from core.auth.roles import Permission
from core.clock import Clock, SystemClock
from core.forecasting.price_forecast import ForecastUnavailable, PriceBand, price_band
from core.forecasting.registry import ModelRegistry, ModelRegistryError
from core.market.service import LOAD_SERIES, PRICE_SERIES, PV_SERIES, MarketDataService
from core.market.usage_history import typical_day, usage_history
from core.optimization.errors import InfeasiblePlan, InvalidOptimizationInput
from core.optimization.fleet import DeviceJob, OptimizationCancelled, optimize_fleet
from core.optimization.plan import OptimizedPlan
from core.optimization.problem import BatteryParams, Objective, PriceSeries, SolveOptions
from core.optimization.results import PlannedEntry, SavingsEstimate, entries_from_plan, predicted_savings, \
    profile_from_entries
from core.schedules.model import DeviceLimits, Mode, ScheduleEntry, ScheduleSource, ScheduleTarget
from core.schedules.records import ScheduleRecord
from core.schedules.service import ScheduleService
from core.storage.database import Database
from core.errors import GridRoomError

#: Objectives a run can use from stored data (setpoint tracking needs a setpoint series nobody stores yet).
RUNNABLE_OBJECTIVES = (Objective.MAXIMIZE_REVENUE, Objective.MINIMIZE_COST, Objective.GRID_PEAK_SHAVING)
MAX_HORIZON_H = 168
#: Below this many devices the LPs run in one worker thread: starting processes would cost more than solving.
POOL_MIN_DEVICES = 16

__all__ = ["OptimizationCancelled", "OptimizationRequest", "OptimizationResult", "OptimizationService",
           "DevicePlanResult", "OptimizationRefused"]


class OptimizationRefused(GridRoomError, ValueError):
    """The request cannot be run as asked (no devices, unknown model, no prices...); the message says why."""


@dataclass(frozen=True)
class OptimizationRequest:
    device_ids: tuple[str, ...]
    objective: Objective = Objective.MAXIMIZE_REVENUE
    horizon_h: int = 24
    model_version: str | None = None  # None: the newest price model

    def __post_init__(self) -> None:
        object.__setattr__(self, "device_ids", tuple(dict.fromkeys(self.device_ids)))


@dataclass(frozen=True, eq=False)
class DevicePlanResult:
    """One device: its plan and entries with predicted savings, or `problem` saying why it has none."""

    device_id: str
    battery: BatteryParams | None
    plan: OptimizedPlan | None = None
    entries: tuple[PlannedEntry, ...] = ()
    current_net_kw: np.ndarray | None = None
    savings: SavingsEstimate | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.plan is not None


@dataclass(frozen=True, eq=False)
class OptimizationResult:
    request: OptimizationRequest
    model_version: str
    band: PriceBand
    devices: tuple[DevicePlanResult, ...]
    notes: tuple[str, ...] = field(default=())

    def device(self, device_id: str) -> DevicePlanResult:
        return next(d for d in self.devices if d.device_id == device_id)

    @property
    def savings_eur(self) -> tuple[float, float, float]:
        """Fleet savings against the current schedules: (low, expected, high) over the P10/P50/P90 prices."""
        ok = [d.savings for d in self.devices if d.savings is not None]
        expected = sum(s.expected_eur for s in ok)
        low = sum(s.band_eur[0] for s in ok)
        high = sum(s.band_eur[1] for s in ok)
        return low, expected, high


class CancelToken:
    """Set from any thread (the GUI's Cancel); the run stops after the chunk in progress."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


def battery_of(limits: DeviceLimits, terminal_soc_pct: float | None = None) -> BatteryParams:
    """The optimizer's view of a device. By default it must end where it starts, so a plan never earns by
    emptying the battery (clamped into the SoC window so that a start outside it is explained, not hidden)."""
    terminal = limits.current_soc_pct if terminal_soc_pct is None else terminal_soc_pct
    terminal = min(max(terminal, limits.soc_min_pct), limits.soc_max_pct)
    return BatteryParams(capacity_kwh=limits.capacity_kwh, max_charge_kw=limits.max_charge_kw,
                         max_discharge_kw=limits.max_discharge_kw, charge_efficiency=limits.charge_efficiency,
                         discharge_efficiency=limits.discharge_efficiency, soc_min_pct=limits.soc_min_pct,
                         soc_max_pct=limits.soc_max_pct, initial_soc_pct=limits.current_soc_pct,
                         terminal_soc_pct=terminal)


class OptimizationService:
    def __init__(self, db: Database, audit: AuditTrail, authorizer: Authorizer, market: MarketDataService,
                 models: ModelRegistry, schedules: ScheduleService, limits_of: Callable[[str], DeviceLimits],
                 clock: Clock | None = None, *, executor: Executor | None = None, workers: int = 2) -> None:
        self.db = db
        self.audit = audit
        self.authorizer = authorizer
        self.market = market
        self.models = models
        self.schedules = schedules
        self.limits_of = limits_of
        self.clock = clock or SystemClock()
        self.executor = executor  # the app's long-lived process pool for large fleets, if it has one
        self.workers = workers

    def run(self, actor: Principal, request: OptimizationRequest, *,
            progress: Callable[[int, int], None] | None = None,
            cancel: CancelToken | None = None) -> OptimizationResult:
        """Optimize every requested device; raises OptimizationRefused (with the reason) or OptimizationCancelled."""
        self.authorizer.require(actor, Permission.RUN_OPTIMIZATION, f"optimization:{len(request.device_ids)} device(s)")
        cancel = cancel or CancelToken()
        if cancel.cancelled:
            raise OptimizationCancelled("cancelled before the first device")
        self._check(request)
        model_version, model = self._model(request.model_version)
        step = timedelta(seconds=model.schema.step_seconds)
        start = _ceil(self.clock.now(), step)  # entries must not start in the past
        n = int(request.horizon_h * 3600 // step.total_seconds())
        back = max(model.schema.lag_steps) * step
        history = self.market.read_series(PRICE_SERIES, start - back, start + n * step, step)
        try:
            band = price_band(model, history, start, n)
        except ForecastUnavailable as exc:
            raise OptimizationRefused(str(exc)) from exc
        notes = list(band.notes)
        prices = self._prices(band, request.objective, notes)
        devices: list[DevicePlanResult] = []
        jobs: list[DeviceJob] = []
        job_devices: list[str] = []
        for device_id in request.device_ids:
            try:
                battery = battery_of(self.limits_of(device_id))
            except (KeyError, ValueError) as exc:
                devices.append(DevicePlanResult(device_id, None, problem=f"no usable device data: {exc}"))
                continue
            devices.append(DevicePlanResult(device_id, battery))
            jobs.append(DeviceJob(battery, prices))
            job_devices.append(device_id)
        outcomes = self._solve(jobs, request.objective, progress, cancel)
        by_device = dict(zip(job_devices, outcomes))
        p10, p90 = prices.with_prices(band.p10), prices.with_prices(band.p90)
        include_site = request.objective is not Objective.MAXIMIZE_REVENUE
        results = []
        for device in devices:
            outcome = by_device.get(device.device_id)
            if outcome is None:
                results.append(device)
            elif isinstance(outcome, (InfeasiblePlan, InvalidOptimizationInput)):
                results.append(DevicePlanResult(device.device_id, device.battery, problem=str(outcome)))
            else:
                current = self._current_profile(device.device_id, prices)
                plan = outcome.device
                savings = predicted_savings(plan.net_charge_kw, current, device.battery, prices,
                                            p10_prices=p10, p90_prices=p90, include_site=include_site)
                results.append(DevicePlanResult(device.device_id, device.battery, outcome,
                                                entries_from_plan(plan, prices), current, savings))
        result = OptimizationResult(request, model_version, band, tuple(results), tuple(notes))
        with self.db.session() as s:
            low, expected, high = result.savings_eur
            self.audit.append(s, actor, "optimization.run", f"optimization:{model_version}", detail={
                "devices": list(request.device_ids), "objective": request.objective.value,
                "horizon_h": request.horizon_h, "planned_h": band.n_steps * step.total_seconds() / 3600,
                "infeasible": [d.device_id for d in results if not d.ok],
                "savings_eur": [round(low, 2), round(expected, 2), round(high, 2)]})
        return result

    def propose(self, actor: Principal, device_id: str,
                entries: Sequence[PlannedEntry | ScheduleEntry]) -> ScheduleRecord:
        """Hand the (edited) plan of one device to ScheduleService as a draft from the optimizer."""
        schedule_entries = [e if isinstance(e, ScheduleEntry) else
                            ScheduleEntry(e.start, e.end, Mode(int(e.mode)), e.rate_kw) for e in entries]
        return self.schedules.create_draft(actor, ScheduleTarget.device(device_id), schedule_entries,
                                           source=ScheduleSource.OPTIMIZER)

    def model_versions(self, kind: str = "price") -> list[str]:
        """Registered versions of `kind`, newest first."""
        return [r.version for r in sorted(self.models.list(kind), key=lambda r: r.created_at, reverse=True)]

    # -- helpers ---------------------------------------------------------------------------------
    def _check(self, request: OptimizationRequest) -> None:
        if not request.device_ids:
            raise OptimizationRefused("pick at least one device")
        if request.objective not in RUNNABLE_OBJECTIVES:
            raise OptimizationRefused(f"objective {request.objective.value} needs a grid setpoint series, which "
                                      "is not stored; use " + ", ".join(o.value for o in RUNNABLE_OBJECTIVES))
        if not 1 <= request.horizon_h <= MAX_HORIZON_H:
            raise OptimizationRefused(f"horizon must be 1..{MAX_HORIZON_H} h, got {request.horizon_h}")

    def _model(self, version: str | None):
        try:
            record = self.models.get(version) if version else self.models.latest("price")
            if record.kind != "price":
                raise OptimizationRefused(f"model {record.version} forecasts {record.kind}, not prices")
            return record.version, self.models.load(record.version)
        except ModelRegistryError as exc:
            raise OptimizationRefused(f"no usable price model: {exc}") from exc

    def _prices(self, band: PriceBand, objective: Objective, notes: list[str]) -> PriceSeries:
        load = pv = None
        if objective is not Objective.MAXIMIZE_REVENUE:
            end = band.start + band.n_steps * band.step
            site = {key: self.market.read_series(key, band.start, end, band.step).values for key in (LOAD_SERIES, PV_SERIES)}
            if not np.isnan(site[LOAD_SERIES]).any():
                load = site[LOAD_SERIES]
                pv = None if np.isnan(site[PV_SERIES]).any() else site[PV_SERIES]
            else:
                notes.append("no stored site load for the whole horizon: each battery is planned on prices alone")
        return PriceSeries(band.start, band.step, band.p50, load_kw=load, pv_kw=pv)

    def _solve(self, jobs: list[DeviceJob], objective: Objective, progress, cancel: CancelToken) -> list:
        if not jobs:
            return []
        if len(jobs) >= POOL_MIN_DEVICES:
            return optimize_fleet(jobs, objective, SolveOptions(), executor=self.executor, workers=self.workers,
                                  progress=progress, cancelled=lambda: cancel.cancelled)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="optimizer") as pool:
            return optimize_fleet(jobs, objective, SolveOptions(), executor=pool, workers=1,
                                  progress=progress, cancelled=lambda: cancel.cancelled)

    def _current_profile(self, device_id: str, prices: PriceSeries) -> np.ndarray:
        """What the new plan is compared with: the running schedule's net charge per step; without one, the
        device's usual use at that time of day over the last week (from the telemetry rollups); idle when it
        has no history either."""
        record = self.schedules.active_schedule(device_id)
        if record is None:
            history = usage_history(self.db, device_id, prices.start - USAGE_LOOKBACK, prices.start, prices.step)
            usual_power_kw = typical_day(history, prices.start, prices.n_steps)
            return np.nan_to_num(-usual_power_kw)  # net charge is positive when charging; telemetry the other way
        entries = [PlannedEntry(e.start, e.end, int(e.mode), e.rate_kw) for e in record.entries
                   if e.end > prices.start and e.start < prices.end]
        return profile_from_entries(entries, prices)


USAGE_LOOKBACK = timedelta(days=7)


def _ceil(when: datetime, step: timedelta) -> datetime:
    seconds = int(step.total_seconds())
    stamp = when.timestamp()
    return datetime.fromtimestamp(math.ceil(stamp / seconds) * seconds, when.tzinfo)
