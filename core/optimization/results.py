"""From LP output to schedule entries, and the economics of any plan on a price series.

A plan's power profile is `net_charge_kw` per step: positive charges the battery, negative
discharges it. Schedule entries use the device convention: mode 1 = discharge, 2 = charge, rate_kw > 0.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from core.clock import ensure_utc
from core.optimization.errors import InvalidOptimizationInput
from core.optimization.plan import DevicePlan
from core.optimization.problem import BatteryParams, PriceSeries


class EntryMode(enum.IntEnum):
    """What a schedule entry tells the battery to do (device protocol values)."""

    DISCHARGE = 1
    CHARGE = 2


@dataclass(frozen=True)
class PlannedEntry:
    """One schedule entry proposed by the optimizer; maps onto the schedules package's entry."""

    start: datetime
    end: datetime
    mode: EntryMode
    rate_kw: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", ensure_utc(self.start, "start"))
        object.__setattr__(self, "end", ensure_utc(self.end, "end"))
        if self.end <= self.start:
            raise InvalidOptimizationInput(f"entry ends {self.end} before it starts {self.start}", "end")
        if not self.rate_kw > 0:
            raise InvalidOptimizationInput(f"entry rate_kw must be > 0, got {self.rate_kw}", "rate_kw")
        object.__setattr__(self, "mode", EntryMode(self.mode))

    @property
    def net_charge_kw(self) -> float:
        return self.rate_kw if self.mode is EntryMode.CHARGE else -self.rate_kw


def entries_from_profile(
    net_charge_kw: np.ndarray,
    start: datetime,
    step: timedelta,
    *,
    merge_tolerance_kw: float = 0.01,
    idle_below_kw: float = 0.01,
) -> tuple[PlannedEntry, ...]:
    """Turn a per-step power profile into schedule entries.

    Steps with |power| below `idle_below_kw` are idle and get no entry. Consecutive steps in the same
    mode whose rates stay within `merge_tolerance_kw` of the run's first step merge into one entry at
    their mean rate, so the entry delivers the same energy as the steps it replaces.
    """
    power = np.asarray(net_charge_kw, dtype=np.float64)
    start = ensure_utc(start, "start")
    entries: list[PlannedEntry] = []
    first = 0
    while first < power.size:
        end = first + 1
        while end < power.size and _same_run(power[first], power[end], merge_tolerance_kw, idle_below_kw):
            end += 1
        if abs(power[first]) >= idle_below_kw:
            rate = float(np.mean(power[first:end]))
            mode = EntryMode.CHARGE if rate > 0 else EntryMode.DISCHARGE
            entries.append(PlannedEntry(start + first * step, start + end * step, mode, abs(rate)))
        first = end
    return tuple(entries)


def _same_run(first: float, value: float, tolerance_kw: float, idle_below_kw: float) -> bool:
    first_idle, value_idle = abs(first) < idle_below_kw, abs(value) < idle_below_kw
    if first_idle or value_idle:
        return first_idle and value_idle
    return (first > 0) == (value > 0) and abs(value - first) <= tolerance_kw


def entries_from_plan(plan: DevicePlan, prices: PriceSeries, **merge: float) -> tuple[PlannedEntry, ...]:
    """Schedule entries for one device's optimized plan (see entries_from_profile for `merge`)."""
    return entries_from_profile(plan.net_charge_kw, prices.start, prices.step, **merge)


def profile_from_entries(entries: tuple[PlannedEntry, ...] | list[PlannedEntry], prices: PriceSeries) -> np.ndarray:
    """Average net charge power per step of `prices`' grid for a schedule given as entries (e.g. the
    current schedule); entries need not align with the steps."""
    n = prices.n_steps
    step_s = prices.step.total_seconds()
    step_starts = np.arange(n) * step_s
    profile = np.zeros(n)
    for entry in entries:
        a = (entry.start - prices.start).total_seconds()
        b = (entry.end - prices.start).total_seconds()
        overlap = np.clip(np.minimum(b, step_starts + step_s) - np.maximum(a, step_starts), 0.0, None)
        profile += entry.net_charge_kw * overlap / step_s
    return profile


@dataclass(frozen=True, eq=False)
class PlanEvaluation:
    """Economics and physics of a plan on one price series. Money in EUR: `import_cost_eur` is paid
    for grid import, `export_revenue_eur` earned by feed-in, `net_cost_eur` is what the site pays in
    total (negative when it earns). `soc_kwh[i]` is the SoC at the end of step i."""

    import_cost_eur: float
    export_revenue_eur: float
    degradation_cost_eur: float
    demand_charge_eur: float
    net_cost_eur: float
    charged_kwh: float
    discharged_kwh: float
    soc_kwh: np.ndarray
    soc_within_bounds: bool

    @property
    def throughput_kwh(self) -> float:
        return self.charged_kwh + self.discharged_kwh


def evaluate_profile(
    charge_kw: np.ndarray,
    discharge_kw: np.ndarray,
    battery: BatteryParams,
    prices: PriceSeries,
    *,
    include_site: bool = True,
) -> PlanEvaluation:
    """Evaluate a plan given as charge and discharge power per step. With `include_site` the battery
    sits behind the site's meter (load and PV count, as in MINIMIZE_COST); without it the battery
    trades alone (as in MAXIMIZE_REVENUE) and no demand charge applies."""
    charge = np.asarray(charge_kw, dtype=np.float64)
    discharge = np.asarray(discharge_kw, dtype=np.float64)
    n, dt = prices.n_steps, prices.step_hours
    if charge.shape != (n,) or discharge.shape != (n,):
        raise InvalidOptimizationInput(
            f"plan has {charge.size}/{discharge.size} steps, the price series {n}", "charge_kw"
        )
    site = (prices.site_net_load_kw() if include_site else np.zeros(n)) + charge - discharge
    grid_import, grid_export = np.maximum(site, 0.0), np.maximum(-site, 0.0)
    import_cost = float(prices.import_price_eur_per_mwh @ grid_import) * dt / 1000.0
    export_revenue = float(prices.export_price_eur_per_mwh @ grid_export) * dt / 1000.0
    charged, discharged = float(charge.sum() * dt), float(discharge.sum() * dt)
    degradation = battery.degradation_cost_eur_per_kwh * (charged + discharged)
    demand = prices.demand_charge_eur_per_kw * float(grid_import.max()) if include_site else 0.0
    soc = battery.initial_soc_kwh + np.cumsum(
        charge * battery.charge_efficiency * dt - discharge * dt / battery.discharge_efficiency
    )
    tolerance = 1e-6 * battery.capacity_kwh
    within = bool(np.all(soc >= battery.soc_min_kwh - tolerance) and np.all(soc <= battery.soc_max_kwh + tolerance))
    soc.setflags(write=False)
    return PlanEvaluation(
        import_cost, export_revenue, degradation, demand,
        import_cost - export_revenue + degradation + demand,
        charged, discharged, soc, within,
    )  # fmt: skip


def evaluate_net_profile(
    net_charge_kw: np.ndarray, battery: BatteryParams, prices: PriceSeries, *, include_site: bool = True
) -> PlanEvaluation:
    """Evaluate a plan given as net charge power per step (positive charges)."""
    net = np.asarray(net_charge_kw, dtype=np.float64)
    return evaluate_profile(np.maximum(net, 0.0), np.maximum(-net, 0.0), battery, prices, include_site=include_site)


@dataclass(frozen=True, eq=False)
class SavingsEstimate:
    """What the new plan saves against the current one (EUR, positive = the new plan is cheaper),
    on the expected prices and, when given, if prices follow the P10 or the P90 forecast."""

    expected_eur: float
    new: PlanEvaluation
    current: PlanEvaluation
    p10_prices_eur: float | None = None
    p90_prices_eur: float | None = None

    @property
    def band_eur(self) -> tuple[float, float]:
        """Lowest and highest savings over the expected, P10 and P90 prices."""
        values = [v for v in (self.expected_eur, self.p10_prices_eur, self.p90_prices_eur) if v is not None]
        return min(values), max(values)


def predicted_savings(
    new_net_charge_kw: np.ndarray,
    current_net_charge_kw: np.ndarray,
    battery: BatteryParams,
    prices: PriceSeries,
    *,
    p10_prices: PriceSeries | None = None,
    p90_prices: PriceSeries | None = None,
    include_site: bool = True,
) -> SavingsEstimate:
    """Savings of the new plan over the current plan on the same forecast, with a confidence band from
    alternative price series (same horizon). Savings are not monotone in the price level, which is
    why both quantile series are evaluated rather than assumed to bound the band."""

    def saving(series: PriceSeries) -> tuple[float, PlanEvaluation, PlanEvaluation]:
        if series.n_steps != prices.n_steps or series.start != prices.start or series.step != prices.step:
            raise InvalidOptimizationInput("quantile price series must share the forecast's time grid", "prices")
        new = evaluate_net_profile(new_net_charge_kw, battery, series, include_site=include_site)
        current = evaluate_net_profile(current_net_charge_kw, battery, series, include_site=include_site)
        return current.net_cost_eur - new.net_cost_eur, new, current

    expected, new, current = saving(prices)
    p10 = saving(p10_prices)[0] if p10_prices is not None else None
    p90 = saving(p90_prices)[0] if p90_prices is not None else None
    return SavingsEstimate(expected, new, current, p10, p90)
