"""Vectorized Thevenin (1 RC) equivalent-circuit model of N cells, with a lumped thermal model and ageing.

Sign convention (PyBaMM's): positive current = discharge. Terminal voltage

    V = OCV(SoC) - I * R0 - u_rc

where `u_rc` is the voltage across the RC branch, positive while discharging (PyBaMM's
"Element-1 overpotential" is -u_rc). Per step of length dt with constant current I:

- RC branch, exact exponential discretization: u <- u * exp(-dt/tau) + I * R1 * (1 - exp(-dt/tau)),
  tau = R1 * C1, so any dt is stable and piecewise-constant current is integrated exactly;
- coulomb counting against each cell's own usable capacity (capacity_ah * soh);
- R0, R1, C1 looked up at the step's current, the cell temperature and the mid-step SoC;
- heat I^2 R0 + u^2 / R1 (Joule heat in both resistors) + any injected heat, lost to ambient through
  a conductance `heat_transfer_w_per_k`, stored in `thermal_mass_j_per_k`; also integrated exactly;
- SoH fades with time and throughput (`AgeingModel`); resistance grows as SoH falls.

Each cell has its own capacity_ah and resistance_scale (manufacturing spread, weak-cell faults).
SoC is kept in [0, 1]: the model does not represent over-charge or over-discharge, which the battery
management system must prevent.
"""

from __future__ import annotations

import numpy as np

from core.batteries.ageing import AgeingModel
from core.batteries.cell_parameters import CellParameters, load_ecm_example
from core.batteries.errors import InvalidBatteryParameter
from core.batteries.validation import as_float_array, require_dt, require_in_range, require_positive

# A 100 Ah prismatic cell weighs about 2 kg at ~1,000 J/(kg K); 1.5 W/K is forced air in a rack,
# which holds a 1C (100 A) cell about 7 K above ambient.
DEFAULT_THERMAL_MASS_J_PER_K = 2000.0
DEFAULT_HEAT_TRANSFER_W_PER_K = 1.5


class TheveninCells:
    """N cells stepped together. State arrays (length N) are public for the owner to read.

    `capacity_ah`, `resistance_scale` and `soh` may be reassigned by the owner (e.g. fault injection);
    `soc` (0-1), `rc_voltage_v`, `temp_c` evolve in `step`; `current_a`, `voltage_v`, `r0_ohm`,
    `r1_ohm`, `c1_f`, `heat_w` hold the values of the latest step.
    """

    def __init__(
        self,
        n_cells: int,
        *,
        params: CellParameters | None = None,
        capacity_ah: float | np.ndarray | None = None,
        resistance_scale: float | np.ndarray = 1.0,
        soh: float | np.ndarray = 1.0,
        soc: float | np.ndarray = 0.5,
        temp_c: float | np.ndarray = 25.0,
        ambient_temp_c: float | np.ndarray = 25.0,
        thermal_mass_j_per_k: float | np.ndarray = DEFAULT_THERMAL_MASS_J_PER_K,
        heat_transfer_w_per_k: float | np.ndarray = DEFAULT_HEAT_TRANSFER_W_PER_K,
        ageing: AgeingModel | None = None,
    ) -> None:
        if int(n_cells) != n_cells or n_cells < 1:
            raise InvalidBatteryParameter(f"n_cells must be a positive integer, got {n_cells!r}")
        n = int(n_cells)
        self.n_cells = n
        self.params = params if params is not None else load_ecm_example()
        self.ageing = ageing if ageing is not None else AgeingModel()
        cap = self.params.nominal_capacity_ah if capacity_ah is None else capacity_ah
        self.capacity_ah = as_float_array("capacity_ah", cap, n)
        require_positive("capacity_ah", self.capacity_ah)
        self.resistance_scale = as_float_array("resistance_scale", resistance_scale, n)
        require_positive("resistance_scale", self.resistance_scale)
        self.soh = as_float_array("soh", soh, n)
        require_in_range("soh", self.soh, 0.0, 1.0, low_open=True)
        self.soc = as_float_array("soc", soc, n)
        require_in_range("soc", self.soc, 0.0, 1.0)
        self.temp_c = as_float_array("temp_c", temp_c, n)
        require_in_range("temp_c", self.temp_c, -60.0, 150.0)
        self.ambient_temp_c = as_float_array("ambient_temp_c", ambient_temp_c, n)
        require_in_range("ambient_temp_c", self.ambient_temp_c, -60.0, 80.0)
        self.thermal_mass_j_per_k = as_float_array("thermal_mass_j_per_k", thermal_mass_j_per_k, n)
        require_positive("thermal_mass_j_per_k", self.thermal_mass_j_per_k)
        self.heat_transfer_w_per_k = as_float_array("heat_transfer_w_per_k", heat_transfer_w_per_k, n)
        require_positive("heat_transfer_w_per_k", self.heat_transfer_w_per_k)

        self.rc_voltage_v = np.zeros(n)
        self.current_a = np.zeros(n)
        self.heat_w = np.zeros(n)
        self.charge_throughput_ah = np.zeros(n)
        r0, r1, c1 = self.params.rc_at(self.temp_c, self.current_a, self.soc)
        self.r0_ohm = r0 * self._resistance_multiplier()
        self.r1_ohm = r1 * self._resistance_multiplier()
        self.c1_f = c1
        self.voltage_v = self.params.ocv_v_at(self.soc)

    def _resistance_multiplier(self) -> np.ndarray:
        return self.resistance_scale * self.ageing.resistance_factor(self.soh)

    @property
    def usable_capacity_ah(self) -> np.ndarray:
        """Capacity each cell can deliver now: beginning-of-life capacity_ah times SoH."""
        return self.capacity_ah * self.soh

    @property
    def ocv_v(self) -> np.ndarray:
        """Open-circuit voltage [V] at the present SoC."""
        return self.params.ocv_v_at(self.soc)

    def source_voltage_v(self) -> np.ndarray:
        """OCV minus the RC branch voltage: the terminal voltage the cells would show at zero R0 drop."""
        return self.params.ocv_v_at(self.soc) - self.rc_voltage_v

    def step_response(self, dt_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Linearized end-of-step terminal voltage: V_end ~= source_v - resistance_ohm * I for a step of `dt_s`.

        Uses the R0, R1, C1 of the latest step and the local OCV slope. A caller that must choose the
        currents (parallel packs sharing a bus) solves with these, which is implicit in the RC branch
        and SoC and so stays stable for steps much longer than tau; using R0 alone oscillates.
        """
        dt = require_dt(dt_s)
        decay = np.exp(-dt / (self.r1_ohm * self.c1_f))
        ocv_slope = self.params.ocv_slope_v_at(self.soc)
        source_v = self.params.ocv_v_at(self.soc) - self.rc_voltage_v * decay
        resistance_ohm = (
            self.r0_ohm + self.r1_ohm * (1.0 - decay) + ocv_slope * dt / (3600.0 * self.usable_capacity_ah)
        )
        return source_v, resistance_ohm

    def step(
        self, current_a: float | np.ndarray, dt_s: float, extra_heat_w: np.ndarray | None = None
    ) -> np.ndarray:
        """Advance all cells by `dt_s` seconds at constant `current_a` (+ = discharge); return voltage_v.

        `dt_s` may be 0: the new current is applied (R0 drop, lookup) without elapsed time, which is
        how a step change of current at one instant is represented. `extra_heat_w` adds heat per cell
        (fault injection: an internal short or a failing connection).
        """
        dt = require_dt(dt_s)
        current = np.broadcast_to(np.asarray(current_a, dtype=np.float64), (self.n_cells,))
        if not np.all(np.isfinite(current)):
            raise InvalidBatteryParameter("current_a must be finite")

        charge_as = self.capacity_ah * self.soh * 3600.0
        delta_soc = current * dt / charge_as
        soc_mid = self.soc - 0.5 * delta_soc
        r0, r1, c1 = self.params.rc_at(self.temp_c, current, soc_mid)
        multiplier = self._resistance_multiplier()
        r0 *= multiplier
        r1 *= multiplier

        u_start = self.rc_voltage_v
        decay = np.exp(-dt / (r1 * c1))
        u_end = u_start * decay + current * r1 * (1.0 - decay)
        self.rc_voltage_v = u_end
        self.soc = np.clip(self.soc - delta_soc, 0.0, 1.0)

        # Trapezoid on u^2 is close enough for heat: tau (~30 s) is rarely much shorter than dt.
        heat_w = current * current * r0 + 0.5 * (u_start * u_start + u_end * u_end) / r1
        if extra_heat_w is not None:
            heat_w = heat_w + extra_heat_w
        steady_temp_c = self.ambient_temp_c + heat_w / self.heat_transfer_w_per_k
        relax = np.exp(-dt * self.heat_transfer_w_per_k / self.thermal_mass_j_per_k)
        temp_start = self.temp_c
        self.temp_c = steady_temp_c + (temp_start - steady_temp_c) * relax

        if dt > 0.0:
            throughput_ah = np.abs(current) * dt / 3600.0
            self.charge_throughput_ah += throughput_ah
            fade = self.ageing.fade(dt, 0.5 * (temp_start + self.temp_c), throughput_ah, self.capacity_ah)
            self.soh = self.ageing.aged_soh(self.soh, fade)

        self.current_a = np.array(current)
        self.heat_w = heat_w
        self.r0_ohm = r0
        self.r1_ohm = r1
        self.c1_f = c1
        self.voltage_v = self.params.ocv_v_at(self.soc) - current * r0 - u_end
        return self.voltage_v
