"""Device-level battery energy storage model for a simulated fleet: N devices stepped together.

Sign convention: positive power = discharge (the device exports to the grid); negative = charge.
Power is measured on the grid (AC) side.

Per step of dt with the setpoint held constant:
1. self-discharge removes `self_discharge_pct_per_day` of the stored energy, never below the SoC floor
   (the floor is the operating window the device's own controller keeps);
2. the setpoint is clipped to [-max_charge_kw, max_discharge_kw], then to what keeps the stored energy
   within [soc_min_pct, soc_max_pct] of usable capacity over the step;
3. stored energy changes by -P dt / eta for discharge and by |P| dt * eta for charge, with
   eta = sqrt(round_trip_efficiency) each way;
4. conversion losses heat the device (lumped thermal mass, conductance to ambient, exact exponential);
5. SoH fades with time and energy throughput (`AgeingModel`); usable capacity = capacity_kwh * SoH.

Every kWh is accounted for in counters, so that
    stored_before - stored_after = discharged/eta_d - charged*eta_c + self_discharge + fade losses.

Electrical side (for telemetry only): open-circuit voltage rises linearly with SoC from 90 % to 105 %
of `nominal_voltage_v`; current = P / V_oc; terminal voltage = V_oc - current * `resistance_ohm`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from core.batteries.ageing import AgeingModel
from core.batteries.errors import InvalidBatteryParameter
from core.batteries.validation import as_float_array, require_dt, require_in_range, require_positive


@dataclass(frozen=True)
class BessParams:
    """Device parameters; each field is a scalar (same for all devices) or an array of length N."""

    capacity_kwh: float | np.ndarray = 200.0
    max_charge_kw: float | np.ndarray = 100.0
    max_discharge_kw: float | np.ndarray = 100.0
    round_trip_efficiency: float | np.ndarray = 0.90
    soc_min_pct: float | np.ndarray = 5.0
    soc_max_pct: float | np.ndarray = 95.0
    self_discharge_pct_per_day: float | np.ndarray = 0.0
    nominal_voltage_v: float | np.ndarray = 768.0
    resistance_ohm: float | np.ndarray = 0.05
    # ~2 t of battery at ~1 kJ/(kg K); 0.3 kW/K holds a 100 kW device ~17 K above ambient at full power.
    thermal_mass_kj_per_k: float | np.ndarray = 2000.0
    heat_transfer_kw_per_k: float | np.ndarray = 0.3


@dataclass(frozen=True)
class BessNoise:
    """Standard deviations of Gaussian measurement noise."""

    soc_pct: float = 0.2
    power_kw: float = 0.2
    voltage_v: float = 0.5
    current_a: float = 0.2
    temp_c: float = 0.2
    soh_pct: float = 0.1

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if not np.isfinite(value) or value < 0:
                raise InvalidBatteryParameter(f"BessNoise.{name} must be finite and >= 0, got {value!r}")


@dataclass(frozen=True, eq=False)
class BessMeasurement:
    """One reading of every device (arrays of length N, read-only). Power and current + = discharge."""

    soc_pct: np.ndarray
    power_kw: np.ndarray
    voltage_v: np.ndarray
    current_a: np.ndarray
    temp_c: np.ndarray
    soh_pct: np.ndarray
    energy_available_kwh: np.ndarray

    def __post_init__(self) -> None:
        for value in self.__dict__.values():
            value.setflags(write=False)


class BessFleet:
    """N battery energy storage devices with setpoints, limits, efficiency, heat and ageing."""

    def __init__(
        self,
        n: int,
        params: BessParams | None = None,
        *,
        initial_soc_pct: float | np.ndarray = 50.0,
        ambient_temp_c: float | np.ndarray = 25.0,
        initial_soh: float | np.ndarray = 1.0,
        ageing: AgeingModel | None = None,
        noise: BessNoise | None = None,
        seed: int = 0,
    ) -> None:
        if int(n) != n or n < 1:
            raise InvalidBatteryParameter(f"n must be a positive integer, got {n!r}")
        self.n = int(n)
        p = params if params is not None else BessParams()
        arrays = {f.name: as_float_array(f.name, getattr(p, f.name), self.n) for f in fields(p)}
        for name in ("capacity_kwh", "nominal_voltage_v", "thermal_mass_kj_per_k", "heat_transfer_kw_per_k"):
            require_positive(name, arrays[name])
        for name in ("max_charge_kw", "max_discharge_kw", "self_discharge_pct_per_day", "resistance_ohm"):
            require_in_range(name, arrays[name], 0.0, np.inf)
        require_in_range("round_trip_efficiency", arrays["round_trip_efficiency"], 0.0, 1.0, low_open=True)
        require_in_range("soc_min_pct", arrays["soc_min_pct"], 0.0, 100.0)
        require_in_range("soc_max_pct", arrays["soc_max_pct"], 0.0, 100.0)
        if np.any(arrays["soc_min_pct"] >= arrays["soc_max_pct"]):
            raise InvalidBatteryParameter("soc_min_pct must be below soc_max_pct for every device")
        self.capacity_kwh = arrays["capacity_kwh"]
        self.max_charge_kw = arrays["max_charge_kw"]
        self.max_discharge_kw = arrays["max_discharge_kw"]
        self.round_trip_efficiency = arrays["round_trip_efficiency"]
        self.soc_min_pct = arrays["soc_min_pct"]
        self.soc_max_pct = arrays["soc_max_pct"]
        self.self_discharge_pct_per_day = arrays["self_discharge_pct_per_day"]
        self.nominal_voltage_v = arrays["nominal_voltage_v"]
        self.resistance_ohm = arrays["resistance_ohm"]
        self.thermal_mass_kj_per_k = arrays["thermal_mass_kj_per_k"]
        self.heat_transfer_kw_per_k = arrays["heat_transfer_kw_per_k"]
        self.efficiency_one_way = np.sqrt(self.round_trip_efficiency)

        self.ageing = ageing if ageing is not None else AgeingModel()
        self.noise = noise if noise is not None else BessNoise()
        self._rng = np.random.default_rng(seed)
        self.soh = as_float_array("initial_soh", initial_soh, self.n)
        require_in_range("initial_soh", self.soh, 0.0, 1.0, low_open=True)
        soc = as_float_array("initial_soc_pct", initial_soc_pct, self.n)
        if np.any(soc < self.soc_min_pct) or np.any(soc > self.soc_max_pct):
            raise InvalidBatteryParameter("initial_soc_pct must lie within [soc_min_pct, soc_max_pct]")
        self.stored_energy_kwh = soc / 100.0 * self.usable_capacity_kwh
        self.ambient_temp_c = as_float_array("ambient_temp_c", ambient_temp_c, self.n)
        self.temp_c = self.ambient_temp_c.copy()
        self.setpoint_kw = np.zeros(self.n)
        self.power_kw = np.zeros(self.n)
        # Energy accounting since construction [kWh].
        self.discharged_kwh = np.zeros(self.n)
        self.charged_kwh = np.zeros(self.n)
        self.conversion_loss_kwh = np.zeros(self.n)
        self.self_discharge_loss_kwh = np.zeros(self.n)
        self.fade_loss_kwh = np.zeros(self.n)
        self.elapsed_s = 0.0

    # ---- commands ---------------------------------------------------------------------------------

    def set_power_kw(self, which: int | slice | np.ndarray, power_kw: float | np.ndarray) -> None:
        """Set the power setpoint [kW] (+ = discharge) of the devices selected by index, slice or mask.

        Setpoints beyond the device limits are accepted and clipped in `step`, as a real inverter does.
        """
        value = np.asarray(power_kw, dtype=np.float64)
        if not np.all(np.isfinite(value)):
            raise InvalidBatteryParameter(f"power_kw must be finite, got {power_kw!r}")
        selection = np.asarray(which) if not isinstance(which, (int, slice, np.integer)) else which
        if isinstance(selection, np.ndarray) and selection.dtype == bool and selection.shape != (self.n,):
            raise InvalidBatteryParameter(f"mask must have shape ({self.n},), got {selection.shape}")
        try:
            self.setpoint_kw[selection] = value
        except (IndexError, ValueError) as exc:
            raise InvalidBatteryParameter(f"cannot set power_kw for devices {which!r}: {exc}") from exc

    # ---- simulation -------------------------------------------------------------------------------

    def step(self, dt_s: float) -> None:
        """Advance every device by `dt_s` seconds at its current setpoint."""
        dt = require_dt(dt_s)
        dt_h = dt / 3600.0
        usable = self.usable_capacity_kwh
        floor_kwh = self.soc_min_pct / 100.0 * usable
        ceiling_kwh = self.soc_max_pct / 100.0 * usable
        eta = self.efficiency_one_way

        leak = self.stored_energy_kwh * self.self_discharge_pct_per_day / 100.0 * dt / 86400.0
        leak = np.minimum(leak, np.maximum(self.stored_energy_kwh - floor_kwh, 0.0))
        energy = self.stored_energy_kwh - leak

        power = np.clip(self.setpoint_kw, -self.max_charge_kw, self.max_discharge_kw)
        if dt_h > 0.0:
            # Tiny steps give huge (even infinite) limits, which simply do not bind.
            with np.errstate(over="ignore"):
                max_out_kw = np.maximum(energy - floor_kwh, 0.0) * eta / dt_h
                max_in_kw = np.maximum(ceiling_kwh - energy, 0.0) / (eta * dt_h)
            power = np.clip(power, -max_in_kw, max_out_kw)
        out_kw = np.maximum(power, 0.0)
        in_kw = np.maximum(-power, 0.0)
        energy = energy - out_kw * dt_h / eta + in_kw * dt_h * eta
        # Only float rounding can leave the window here; clip it without counting.
        energy = np.minimum(np.maximum(energy, floor_kwh), ceiling_kwh)

        loss_kw = out_kw * (1.0 / eta - 1.0) + in_kw * (1.0 - eta)
        steady_c = self.ambient_temp_c + loss_kw / self.heat_transfer_kw_per_k
        relax = np.exp(-dt * self.heat_transfer_kw_per_k / self.thermal_mass_kj_per_k)
        temp_start = self.temp_c
        self.temp_c = steady_c + (temp_start - steady_c) * relax

        if dt > 0.0:
            throughput_kwh = np.abs(power) * dt_h
            fade = self.ageing.fade(dt, 0.5 * (temp_start + self.temp_c), throughput_kwh, self.capacity_kwh)
            self.soh = self.ageing.aged_soh(self.soh, fade)
            # Fade shrinks the window; energy above the new ceiling is lost capacity, not power.
            new_ceiling = self.soc_max_pct / 100.0 * self.usable_capacity_kwh
            faded = np.maximum(energy - new_ceiling, 0.0)
            energy = energy - faded
            self.fade_loss_kwh += faded

        self.stored_energy_kwh = energy
        self.power_kw = power
        self.discharged_kwh += out_kw * dt_h
        self.charged_kwh += in_kw * dt_h
        self.conversion_loss_kwh += loss_kw * dt_h
        self.self_discharge_loss_kwh += leak
        self.elapsed_s += dt

    # ---- true values ------------------------------------------------------------------------------

    @property
    def usable_capacity_kwh(self) -> np.ndarray:
        """Capacity left after ageing [kWh]: capacity_kwh x SoH."""
        return self.capacity_kwh * self.soh

    @property
    def soc_pct(self) -> np.ndarray:
        """State of charge [%] of usable capacity."""
        return 100.0 * self.stored_energy_kwh / self.usable_capacity_kwh

    @property
    def soh_pct(self) -> np.ndarray:
        """State of health [%]."""
        return 100.0 * self.soh

    @property
    def energy_available_kwh(self) -> np.ndarray:
        """Energy the device can still deliver to the grid before reaching its SoC floor [kWh]."""
        floor_kwh = self.soc_min_pct / 100.0 * self.usable_capacity_kwh
        return np.maximum(self.stored_energy_kwh - floor_kwh, 0.0) * self.efficiency_one_way

    @property
    def open_circuit_voltage_v(self) -> np.ndarray:
        """DC open-circuit voltage [V], linear in SoC from 90 % to 105 % of nominal."""
        return self.nominal_voltage_v * (0.90 + 0.15 * self.stored_energy_kwh / self.usable_capacity_kwh)

    @property
    def current_a(self) -> np.ndarray:
        """DC current [A], + = discharge."""
        return self.power_kw * 1000.0 / self.open_circuit_voltage_v

    @property
    def voltage_v(self) -> np.ndarray:
        """DC terminal voltage [V]."""
        return self.open_circuit_voltage_v - self.current_a * self.resistance_ohm

    # ---- measurement ------------------------------------------------------------------------------

    def measure(self, noise: bool = True, rng: np.random.Generator | None = None) -> BessMeasurement:
        """What the devices report now, with Gaussian noise unless `noise` is False.

        Without `rng` the fleet's own stream (seeded from `seed`) is used, so runs repeat.
        """
        readings = {
            "soc_pct": self.soc_pct,
            "power_kw": self.power_kw.copy(),
            "voltage_v": self.voltage_v,
            "current_a": self.current_a,
            "temp_c": self.temp_c.copy(),
            "soh_pct": self.soh_pct,
        }
        if noise:
            rng = rng if rng is not None else self._rng
            for name, value in readings.items():
                readings[name] = value + getattr(self.noise, name) * rng.standard_normal(self.n)
        return BessMeasurement(energy_available_kwh=self.energy_available_kwh, **readings)
