"""What the optimizer is asked: a battery, the prices and site forecasts over a horizon, and a goal.

All inputs are validated on construction, so the LP builder can trust them. Power is in kW at the
battery's AC terminals, energy in kWh, prices in EUR per MWh, state of charge in percent of capacity.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from core.clock import ensure_utc
from core.optimization.errors import InvalidOptimizationInput


class Objective(enum.Enum):
    """What the plan optimizes."""

    #: Behind the meter: minimize import cost minus feed-in revenue for the site (load and PV
    #: included), plus the demand charge on the peak import if the tariff has one.
    MINIMIZE_COST = "minimize_cost"
    #: In front of the meter: arbitrage with the battery alone; site load and PV are ignored.
    MAXIMIZE_REVENUE = "maximize_revenue"
    #: Minimize the peak grid import of the site; among plans with that peak, the cheapest.
    GRID_PEAK_SHAVING = "grid_peak_shaving"
    #: Minimize the L1 deviation of net grid import from a setpoint; among those, the cheapest.
    GRID_SETPOINT_TRACKING = "grid_setpoint_tracking"


def _finite(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise InvalidOptimizationInput(f"{name} must be a finite number, got {value}", name)
    return value


def _non_negative(name: str, value: float) -> float:
    value = _finite(name, value)
    if value < 0:
        raise InvalidOptimizationInput(f"{name} must not be negative, got {value}", name)
    return value


def _pct(name: str, value: float) -> float:
    value = _finite(name, value)
    if not 0.0 <= value <= 100.0:
        raise InvalidOptimizationInput(f"{name} must be between 0 and 100 %, got {value}", name)
    return value


def _efficiency(name: str, value: float) -> float:
    value = _finite(name, value)
    if not 0.0 < value <= 1.0:
        raise InvalidOptimizationInput(f"{name} must be in (0, 1], got {value}", name)
    return value


@dataclass(frozen=True)
class BatteryParams:
    """One battery as the optimizer sees it.

    Efficiencies apply between the AC terminals and the stored energy: charging `x` kW for `h` hours
    stores `x * h * charge_efficiency` kWh; discharging `x` kW for `h` hours draws
    `x * h / discharge_efficiency` kWh. `terminal_soc_pct` is a minimum for the SoC at the end of the
    horizon. Degradation is charged on throughput: energy charged plus energy discharged at the
    terminals, in EUR per kWh.
    """

    capacity_kwh: float
    max_charge_kw: float
    max_discharge_kw: float
    charge_efficiency: float = 0.95
    discharge_efficiency: float = 0.95
    soc_min_pct: float = 10.0
    soc_max_pct: float = 90.0
    initial_soc_pct: float = 50.0
    terminal_soc_pct: float | None = None
    degradation_cost_eur_per_kwh: float = 0.0

    def __post_init__(self) -> None:
        if _finite("capacity_kwh", self.capacity_kwh) <= 0:
            raise InvalidOptimizationInput(
                f"capacity_kwh must be positive, got {self.capacity_kwh}", "capacity_kwh"
            )
        _non_negative("max_charge_kw", self.max_charge_kw)
        _non_negative("max_discharge_kw", self.max_discharge_kw)
        _efficiency("charge_efficiency", self.charge_efficiency)
        _efficiency("discharge_efficiency", self.discharge_efficiency)
        _pct("soc_min_pct", self.soc_min_pct)
        _pct("soc_max_pct", self.soc_max_pct)
        _pct("initial_soc_pct", self.initial_soc_pct)
        if self.terminal_soc_pct is not None:
            _pct("terminal_soc_pct", self.terminal_soc_pct)
        _non_negative("degradation_cost_eur_per_kwh", self.degradation_cost_eur_per_kwh)
        if self.soc_min_pct > self.soc_max_pct:
            raise InvalidOptimizationInput(
                f"soc_min_pct {self.soc_min_pct} is above soc_max_pct {self.soc_max_pct}", "soc_min_pct"
            )

    @classmethod
    def with_round_trip_efficiency(cls, round_trip_efficiency: float, **kwargs: float) -> "BatteryParams":
        """Build params from a round-trip efficiency, split evenly (square root) between the two ways."""
        one_way = math.sqrt(_efficiency("round_trip_efficiency", round_trip_efficiency))
        return cls(charge_efficiency=one_way, discharge_efficiency=one_way, **kwargs)

    @property
    def soc_min_kwh(self) -> float:
        return self.capacity_kwh * self.soc_min_pct / 100.0

    @property
    def soc_max_kwh(self) -> float:
        return self.capacity_kwh * self.soc_max_pct / 100.0

    @property
    def initial_soc_kwh(self) -> float:
        return self.capacity_kwh * self.initial_soc_pct / 100.0

    @property
    def terminal_soc_kwh(self) -> float | None:
        if self.terminal_soc_pct is None:
            return None
        return self.capacity_kwh * self.terminal_soc_pct / 100.0


def _series(name: str, values: object, n_steps: int | None, *, non_negative: bool = False) -> np.ndarray:
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidOptimizationInput(f"{name} must be a sequence of numbers ({exc})", name) from None
    if array.ndim != 1:
        raise InvalidOptimizationInput(f"{name} must be one-dimensional, got shape {array.shape}", name)
    if n_steps is not None and array.size != n_steps:
        raise InvalidOptimizationInput(
            f"{name} has {array.size} steps but import_price_eur_per_mwh has {n_steps}", name
        )
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise InvalidOptimizationInput(
            f"{name} holds {array[bad[0]]} at step {bad[0]}: every value must be finite", name, int(bad[0])
        )
    if non_negative:
        negative = np.flatnonzero(array < 0)
        if negative.size:
            raise InvalidOptimizationInput(
                f"{name} is negative ({array[negative[0]]}) at step {negative[0]}", name, int(negative[0])
            )
    array.setflags(write=False)  # frozen means frozen: nobody edits a forecast in place
    return array


@dataclass(frozen=True, eq=False)
class PriceSeries:
    """Prices and site forecasts on one even time grid.

    Step `i` starts at `start + i * step`. `export_price_eur_per_mwh` (feed-in) defaults to the import
    price and must never exceed it: otherwise importing and exporting at once would earn money.
    `load_kw` and `pv_kw` are the site's own consumption and generation (default zero);
    `grid_setpoint_kw` is the net import target for setpoint tracking. `demand_charge_eur_per_kw`
    is billed once on the peak import over the horizon.
    """

    start: datetime
    step: timedelta
    import_price_eur_per_mwh: np.ndarray
    export_price_eur_per_mwh: np.ndarray | None = None
    load_kw: np.ndarray | None = None
    pv_kw: np.ndarray | None = None
    grid_setpoint_kw: np.ndarray | None = None
    demand_charge_eur_per_kw: float = 0.0
    _n: int = field(init=False, repr=False, default=0)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "start", ensure_utc(self.start, "start"))
        except (ValueError, AttributeError) as exc:
            raise InvalidOptimizationInput(str(exc), "start") from None
        if not isinstance(self.step, timedelta) or self.step <= timedelta(0):
            raise InvalidOptimizationInput(f"step must be a positive timedelta, got {self.step!r}", "step")
        imp = _series("import_price_eur_per_mwh", self.import_price_eur_per_mwh, None)
        if imp.size == 0:
            raise InvalidOptimizationInput("the horizon has no steps", "import_price_eur_per_mwh")
        n = imp.size
        object.__setattr__(self, "_n", n)
        object.__setattr__(self, "import_price_eur_per_mwh", imp)
        exp = imp if self.export_price_eur_per_mwh is None else _series(
            "export_price_eur_per_mwh", self.export_price_eur_per_mwh, n
        )
        above = np.flatnonzero(exp > imp + 1e-9)
        if above.size:
            i = int(above[0])
            raise InvalidOptimizationInput(
                f"feed-in price {exp[i]} EUR/MWh is above the import price {imp[i]} EUR/MWh at step {i} "
                f"({self.step_start(i):%Y-%m-%d %H:%M} UTC): the plan could earn by importing and exporting at once",
                "export_price_eur_per_mwh",
                i,
            )
        object.__setattr__(self, "export_price_eur_per_mwh", exp)
        for name, non_negative in (("load_kw", True), ("pv_kw", True), ("grid_setpoint_kw", False)):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _series(name, value, n, non_negative=non_negative))
        _non_negative("demand_charge_eur_per_kw", self.demand_charge_eur_per_kw)

    @property
    def n_steps(self) -> int:
        return self._n

    @property
    def step_hours(self) -> float:
        return self.step.total_seconds() / 3600.0

    @property
    def end(self) -> datetime:
        """End of the last step."""
        return self.start + self._n * self.step

    def step_start(self, index: int) -> datetime:
        """Start of step `index` (aware UTC)."""
        return self.start + index * self.step

    def step_starts(self) -> tuple[datetime, ...]:
        """Start of every step (aware UTC)."""
        return tuple(self.step_start(i) for i in range(self._n))

    def site_net_load_kw(self) -> np.ndarray:
        """Load minus PV per step: what the site imports with the battery idle."""
        net = np.zeros(self._n)
        if self.load_kw is not None:
            net = net + self.load_kw
        if self.pv_kw is not None:
            net = net - self.pv_kw
        return net

    def with_prices(self, import_price_eur_per_mwh: object, export_price_eur_per_mwh: object = None) -> "PriceSeries":
        """Same horizon and site forecast under other prices (e.g. a P10 or P90 price forecast)."""
        return PriceSeries(
            start=self.start,
            step=self.step,
            import_price_eur_per_mwh=import_price_eur_per_mwh,
            export_price_eur_per_mwh=export_price_eur_per_mwh,
            load_kw=self.load_kw,
            pv_kw=self.pv_kw,
            grid_setpoint_kw=self.grid_setpoint_kw,
            demand_charge_eur_per_kw=self.demand_charge_eur_per_kw,
        )


@dataclass(frozen=True)
class SolveOptions:
    """How hard to try. `time_limit_s` is the budget for one solve; when it runs out the best feasible
    plan found so far is returned, flagged as not proven optimal."""

    time_limit_s: float = 10.0

    def __post_init__(self) -> None:
        _non_negative("time_limit_s", self.time_limit_s)
