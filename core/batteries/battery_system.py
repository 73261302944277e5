"""A battery system of P packs x C cells, stepped vectorized, with manufacturing spread, ageing and faults.

Topology: the C cells of a pack are in series (one current per pack); the P packs are in parallel on one
DC bus. The system current therefore splits between packs by their source voltage and resistance:
each pack is linearized as a Thevenin source E_p behind R_p for the coming step (the cells'
`step_response`: R0 plus the RC branch and OCV change the step will bring), and the end-of-step bus
voltage solves sum_p (E_p - V_bus) / R_p = I_system. This is implicit in the slow states, so steps of
minutes stay stable (splitting by R0 alone oscillates and diverges once dt exceeds the RC time
constant). R0/R1/C1 depend on current, so the split uses those of the previous step; pack terminal
voltages then agree with the bus to about 1-2 mV per cell (more near empty, where OCV bends sharply). Packs with weaker or higher-resistance cells carry less current, and packs at
different SoC equalize through the bus, as real parallel strings do.

Derived values, and the choices behind them:
- pack SoC = mean of its cells' SoC; pack SoH = minimum of its cells' SoH, because a series string can
  only deliver what its weakest cell holds; pack capacity = minimum usable cell capacity.
- system SoC and SoH = pack values weighted by pack capacity (parallel packs add capacity).
- cell SoH is relative to the cell's own beginning-of-life capacity, so a weak-cell fault shows in it.
- the weakest cell is the one with the lowest usable capacity (beginning-of-life spread x fault x SoH).

Current sign: positive = discharge, for cells, packs and the system alike.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from core.batteries.ageing import AgeingModel
from core.batteries.cell_parameters import CellParameters, load_ecm_example
from core.batteries.ecm import DEFAULT_HEAT_TRANSFER_W_PER_K, DEFAULT_THERMAL_MASS_J_PER_K, TheveninCells
from core.batteries.errors import InvalidBatteryParameter, PowerNotDeliverable
from core.batteries.faults import CellFaults
from core.batteries.measurement import SensorNoise, SystemMeasurement
from core.batteries.validation import require_dt


class CellIndex(NamedTuple):
    """Position of one cell: pack number and cell number within the pack, both from 0."""

    pack: int
    cell: int


class BatterySystem:
    """P packs in parallel, each C cells in series, simulated as one vectorized Thevenin cell array."""

    def __init__(
        self,
        n_packs: int = 100,
        cells_per_pack: int = 10,
        *,
        seed: int = 0,
        params: CellParameters | None = None,
        initial_soc: float = 0.5,
        soc_sigma: float = 0.005,
        capacity_sigma: float = 0.015,
        resistance_sigma: float = 0.05,
        initial_soh: float = 1.0,
        ambient_temp_c: float = 25.0,
        thermal_mass_j_per_k: float = DEFAULT_THERMAL_MASS_J_PER_K,
        heat_transfer_w_per_k: float = DEFAULT_HEAT_TRANSFER_W_PER_K,
        ageing: AgeingModel | None = None,
        noise: SensorNoise | None = None,
    ) -> None:
        for name, value in (("n_packs", n_packs), ("cells_per_pack", cells_per_pack)):
            if int(value) != value or value < 1:
                raise InvalidBatteryParameter(f"{name} must be a positive integer, got {value!r}")
        for name, value in (("soc_sigma", soc_sigma), ("capacity_sigma", capacity_sigma),
                            ("resistance_sigma", resistance_sigma)):
            if not np.isfinite(value) or not 0.0 <= value <= 0.3:
                raise InvalidBatteryParameter(f"{name} must be in [0, 0.3], got {value!r}")
        if not np.isfinite(initial_soc) or not 0.0 <= initial_soc <= 1.0:
            raise InvalidBatteryParameter(f"initial_soc must be in [0, 1] (a fraction), got {initial_soc!r}")
        self.n_packs = int(n_packs)
        self.cells_per_pack = int(cells_per_pack)
        self.shape = (self.n_packs, self.cells_per_pack)
        n = self.n_packs * self.cells_per_pack
        self.params = params if params is not None else load_ecm_example()
        self.noise = noise if noise is not None else SensorNoise()

        # Separate streams so that changing how often we measure never changes the physics.
        spread_seq, noise_seq = np.random.SeedSequence(seed).spawn(2)
        spread_rng = np.random.default_rng(spread_seq)
        self._noise_rng = np.random.default_rng(noise_seq)
        # Capacity spread is near-normal in production data; resistance is skewed, hence lognormal.
        self.base_capacity_ah = self.params.nominal_capacity_ah * np.clip(
            1.0 + capacity_sigma * spread_rng.standard_normal(n), 0.5, 1.5
        )
        self.base_resistance_scale = np.exp(resistance_sigma * spread_rng.standard_normal(n))
        soc = np.clip(initial_soc + soc_sigma * spread_rng.standard_normal(n), 0.0, 1.0)

        self.faults = CellFaults(self.n_packs, self.cells_per_pack)
        self.cells = TheveninCells(
            n,
            params=self.params,
            capacity_ah=self.base_capacity_ah,
            resistance_scale=self.base_resistance_scale,
            soh=initial_soh,
            soc=soc,
            temp_c=ambient_temp_c,
            ambient_temp_c=ambient_temp_c,
            thermal_mass_j_per_k=thermal_mass_j_per_k,
            heat_transfer_w_per_k=heat_transfer_w_per_k,
            ageing=ageing,
        )
        self.pack_current_a = np.zeros(self.n_packs)
        self.bus_voltage_v = float(self.pack_voltage_v.mean())
        self.elapsed_s = 0.0

    # ---- stepping ---------------------------------------------------------------------------------

    def _pack_sources(self, dt_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Each pack's end-of-step source voltage E_p [V] and series resistance R_p [Ohm]."""
        source_v, resistance_ohm = self.cells.step_response(dt_s)
        return source_v.reshape(self.shape).sum(axis=1), resistance_ohm.reshape(self.shape).sum(axis=1)

    def _current_for_power(self, power_kw: float, a: float, b: float) -> float:
        # P = V I with V = (a - I) / b  =>  I^2 - a I + b P = 0; the smaller root is the physical one.
        power_w = power_kw * 1000.0
        discriminant = a * a - 4.0 * b * power_w
        if discriminant < 0.0:
            raise PowerNotDeliverable(
                f"power_kw={power_kw} exceeds the {a * a / (4.0 * b) / 1000.0:.1f} kW this system can transfer"
            )
        return 0.5 * (a - np.sqrt(discriminant))

    def step(self, dt_s: float, *, current_a: float | None = None, power_kw: float | None = None) -> None:
        """Advance by `dt_s` seconds at a constant system current or DC power (give exactly one).

        Positive = discharge. The system current splits between the parallel packs (see module doc).
        """
        dt = require_dt(dt_s)
        if (current_a is None) == (power_kw is None):
            raise InvalidBatteryParameter("give exactly one of current_a and power_kw")
        demand = current_a if current_a is not None else power_kw
        if not np.isfinite(demand):
            raise InvalidBatteryParameter(f"setpoint must be finite, got {demand!r}")

        self._apply_fault_parameters()
        source_v, resistance_ohm = self._pack_sources(dt)
        conductance = 1.0 / resistance_ohm
        a = float(source_v @ conductance)
        b = float(conductance.sum())
        system_current = current_a if current_a is not None else self._current_for_power(power_kw, a, b)
        bus_v = (a - system_current) / b
        pack_current = (source_v - bus_v) * conductance

        extra_heat = self.faults.extra_heat_w.ravel() if self.faults.any_heat else None
        self.cells.step(np.repeat(pack_current, self.cells_per_pack), dt, extra_heat_w=extra_heat)
        self.pack_current_a = pack_current
        self.bus_voltage_v = bus_v
        self.elapsed_s += dt

    def _apply_fault_parameters(self) -> None:
        self.cells.capacity_ah = self.base_capacity_ah * self.faults.capacity_factor.ravel()
        self.cells.resistance_scale = self.base_resistance_scale * self.faults.resistance_factor.ravel()

    # ---- faults -----------------------------------------------------------------------------------

    def set_over_temperature(self, pack: int, cell: int, extra_heat_w: float) -> None:
        """Inject `extra_heat_w` of heat into one cell from the next step on (an internal fault)."""
        self.faults.set_over_temperature(pack, cell, extra_heat_w)

    def set_weak_cell(self, pack: int, cell: int, capacity_factor: float, resistance_factor: float) -> None:
        """Make one cell weak: capacity x `capacity_factor` (0-1], resistance x `resistance_factor` (>= 1)."""
        self.faults.set_weak_cell(pack, cell, capacity_factor, resistance_factor)
        self._apply_fault_parameters()

    def set_stuck_sensor(self, pack: int, cell: int, metric: str) -> None:
        """Freeze one cell's `metric` sensor ("voltage_v", "temp_c", "soc_pct", "soh_pct") at its true value now."""
        self.faults.check_index(pack, cell)
        truth = {
            "voltage_v": self.cell_voltage_v,
            "temp_c": self.cell_temp_c,
            "soc_pct": self.cell_soc_pct,
            "soh_pct": self.cell_soh_pct,
        }
        frozen = truth[metric][pack, cell] if metric in truth else np.nan
        self.faults.set_stuck_sensor(pack, cell, metric, frozen)

    def clear_faults(self) -> None:
        """Remove every injected fault; the cells keep the state the faults drove them into."""
        self.faults.clear()
        self._apply_fault_parameters()

    # ---- measurement ------------------------------------------------------------------------------

    def measure(self, noise: bool = True, rng: np.random.Generator | None = None) -> SystemMeasurement:
        """What the sensors report now: true values plus Gaussian noise, with stuck sensors frozen.

        Without `rng` the system's own noise stream (seeded from `seed`) is used, so runs repeat.
        """
        rng = rng if rng is not None else self._noise_rng
        readings = {
            "voltage_v": self.cell_voltage_v,
            "temp_c": self.cell_temp_c,
            "soc_pct": self.cell_soc_pct,
            "soh_pct": self.cell_soh_pct,
        }
        current = self.pack_current_a.copy()
        if noise:
            sigma = self.noise
            for metric, value in readings.items():
                readings[metric] = value + getattr(sigma, metric) * rng.standard_normal(self.shape)
            current_sigma = sigma.current_a + sigma.current_rel * np.abs(current)
            current = current + current_sigma * rng.standard_normal(self.n_packs)
        readings = {metric: self.faults.apply_stuck(metric, value) for metric, value in readings.items()}
        return SystemMeasurement(current_a=current, **readings)

    # ---- true state, per cell (shape P x C) ------------------------------------------------------

    @property
    def cell_voltage_v(self) -> np.ndarray:
        """Terminal voltage of each cell [V]."""
        return self.cells.voltage_v.reshape(self.shape).copy()

    @property
    def cell_temp_c(self) -> np.ndarray:
        """Temperature of each cell [degC]."""
        return self.cells.temp_c.reshape(self.shape).copy()

    @property
    def cell_soc_pct(self) -> np.ndarray:
        """State of charge of each cell [%] (0-100)."""
        return 100.0 * self.cells.soc.reshape(self.shape)

    @property
    def cell_soh_pct(self) -> np.ndarray:
        """State of health of each cell [%]: usable capacity over its own beginning-of-life capacity."""
        return 100.0 * (self.cells.soh * self.cells.capacity_ah / self.base_capacity_ah).reshape(self.shape)

    @property
    def cell_capacity_ah(self) -> np.ndarray:
        """Usable capacity of each cell now [Ah] (spread x fault x SoH)."""
        return self.cells.usable_capacity_ah.reshape(self.shape)

    # ---- derived, per pack (shape P) --------------------------------------------------------------

    @property
    def pack_voltage_v(self) -> np.ndarray:
        """Terminal voltage of each pack [V]: the sum of its series cells."""
        return self.cells.voltage_v.reshape(self.shape).sum(axis=1)

    @property
    def pack_soc_pct(self) -> np.ndarray:
        """Mean SoC of each pack's cells [%]."""
        return self.cell_soc_pct.mean(axis=1)

    @property
    def pack_soh_pct(self) -> np.ndarray:
        """SoH of each pack [%]: its weakest cell's, since a series string is limited by it."""
        return self.cell_soh_pct.min(axis=1)

    @property
    def pack_capacity_ah(self) -> np.ndarray:
        """Usable capacity of each pack [Ah]: the smallest usable cell capacity in the string."""
        return self.cell_capacity_ah.min(axis=1)

    @property
    def pack_imbalance_v(self) -> np.ndarray:
        """Cell voltage imbalance of each pack [V]: max - min cell voltage."""
        v = self.cells.voltage_v.reshape(self.shape)
        return v.max(axis=1) - v.min(axis=1)

    @property
    def pack_temp_spread_c(self) -> np.ndarray:
        """Temperature spread of each pack [K]: hottest - coldest cell."""
        t = self.cells.temp_c.reshape(self.shape)
        return t.max(axis=1) - t.min(axis=1)

    # ---- derived, system --------------------------------------------------------------------------

    @property
    def system_current_a(self) -> float:
        """Current at the system terminals [A], + = discharge."""
        return float(self.pack_current_a.sum())

    @property
    def system_power_kw(self) -> float:
        """DC power at the bus [kW], + = discharge."""
        return self.bus_voltage_v * self.system_current_a / 1000.0

    @property
    def system_soc_pct(self) -> float:
        """System SoC [%]: pack SoC weighted by pack capacity."""
        weights = self.pack_capacity_ah
        return float(self.pack_soc_pct @ weights / weights.sum())

    @property
    def system_soh_pct(self) -> float:
        """System SoH [%]: pack SoH weighted by each pack's beginning-of-life capacity."""
        weights = self.base_capacity_ah.reshape(self.shape).min(axis=1)
        return float(self.pack_soh_pct @ weights / weights.sum())

    @property
    def system_imbalance_v(self) -> float:
        """Max - min voltage over every cell in the system [V]."""
        return float(self.cells.voltage_v.max() - self.cells.voltage_v.min())

    @property
    def weakest_cell(self) -> CellIndex:
        """The cell with the lowest usable capacity."""
        pack, cell = np.unravel_index(int(np.argmin(self.cells.usable_capacity_ah)), self.shape)
        return CellIndex(int(pack), int(cell))

    @property
    def hottest_cell(self) -> CellIndex:
        """The cell with the highest temperature."""
        pack, cell = np.unravel_index(int(np.argmax(self.cells.temp_c)), self.shape)
        return CellIndex(int(pack), int(cell))
