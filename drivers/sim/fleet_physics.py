"""The physics behind every simulated device, and what each device currently does (pattern or command).

All BESS devices (MQTT and Modbus) are one vectorized BessFleet; each battery system is a BatterySystem.
A device follows the daily demo pattern until it is commanded (MQTT cmd, or a Modbus model 124 write);
then it holds the commanded power until the next command. Threads: commands arrive on paho's and the
Modbus server's threads, steps run on the simulator's tick thread, so every access takes ``lock``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np

from core.batteries import BatterySystem, BessFleet, BessParams
from drivers.mqtt.payloads import CELL_VOLTAGE_V, CURRENT_A, POWER_KW, SOC_PCT, TEMP_C, VOLTAGE_V, DeviceMode
from drivers.sim.demo_pattern import DailyPattern, local_hours
from drivers.sim.faults import Fault, OverTemperatureCell, StuckSensor, WeakCell
from drivers.sim.fleet_definition import FleetDefinition

CommandKind = Literal["charge", "discharge", "idle", "maintenance"]
# A battery system's own controller keeps its cells inside this SoC window (the cell model has no
# over-charge physics), as a real BMS would refuse power near empty or full.
SYSTEM_SOC_WINDOW_PCT = (8.0, 92.0)
IDLE_BAND_KW = 0.5  # |power| below this reports as idle


class UnknownSimDevice(KeyError):
    """A device id this simulator does not simulate."""


@dataclass(frozen=True, slots=True)
class PowerLimits:
    """What a device accepts: charge and discharge rates in kW (both positive)."""

    max_charge_kw: float
    max_discharge_kw: float


def _clip(value: np.ndarray | float, bounds: tuple[float, float]) -> np.ndarray:
    # Measurement noise can push a reading just past a contract bound (SoC 100.1 %); real firmware clamps.
    return np.clip(value, bounds[0], bounds[1])


class _SystemState:
    def __init__(self, system: BatterySystem, max_power_kw: float, site_index: int) -> None:
        self.system = system
        self.max_power_kw = max_power_kw
        self.site_index = site_index
        self.commanded_kw: float | None = None
        self.maintenance = False
        self.power_kw = 0.0
        self.measurement = system.measure()


class FleetPhysics:
    """Physics state of a whole simulated fleet; every public method is thread-safe."""

    def __init__(self, definition: FleetDefinition, *, seed: int = 0) -> None:
        self.lock = threading.RLock()
        self._zones = [site.timezone for site in definition.sites]
        site_index = {site.name: i for i, site in enumerate(definition.sites)}
        devices = definition.devices
        self.bess_ids = [d.id for d in devices]
        self._bess_index = {device_id: i for i, device_id in enumerate(self.bess_ids)}
        self.systems: dict[str, _SystemState] = {}
        if devices:
            params = BessParams(
                capacity_kwh=np.array([d.capacity_kwh for d in devices]),
                max_charge_kw=np.array([d.max_charge_kw for d in devices]),
                max_discharge_kw=np.array([d.max_discharge_kw for d in devices]),
            )
            self.fleet: BessFleet | None = BessFleet(
                len(devices), params, initial_soc_pct=np.array([d.initial_soc_pct for d in devices]), seed=seed
            )
            self._bess_site = np.array([site_index[d.site] for d in devices])
            self.pattern = DailyPattern(params.max_charge_kw, params.max_discharge_kw, seed=seed + 1)  # type: ignore[arg-type]
            self.commanded_kw = np.full(len(devices), np.nan)  # NaN: follow the pattern
            self.maintenance = np.zeros(len(devices), dtype=bool)
            self.measurement = self.fleet.measure()
        else:
            self.fleet = None
        for offset, bs in enumerate(definition.battery_systems):
            system = BatterySystem(bs.packs, bs.cells_per_pack, seed=seed + 100 + offset,
                                   initial_soc=bs.initial_soc_pct / 100.0)
            self.systems[bs.id] = _SystemState(system, bs.max_power_kw, site_index[bs.site])
        self._system_pattern = DailyPattern(
            np.array([s.max_power_kw for s in self.systems.values()]),
            np.array([s.max_power_kw for s in self.systems.values()]),
            seed=seed + 2,
        )

    # -- lookup -------------------------------------------------------------------------------
    def _index(self, device_id: str) -> int:
        try:
            return self._bess_index[device_id]
        except KeyError:
            raise UnknownSimDevice(device_id) from None

    def _system(self, device_id: str) -> _SystemState:
        try:
            return self.systems[device_id]
        except KeyError:
            raise UnknownSimDevice(device_id) from None

    def knows(self, device_id: str) -> bool:
        return device_id in self._bess_index or device_id in self.systems

    def limits(self, device_id: str) -> PowerLimits:
        """The power limits the device enforces on commands."""
        if device_id in self.systems:
            limit = self.systems[device_id].max_power_kw
            return PowerLimits(limit, limit)
        assert self.fleet is not None
        i = self._index(device_id)
        return PowerLimits(float(self.fleet.max_charge_kw[i]), float(self.fleet.max_discharge_kw[i]))

    def in_maintenance(self, device_id: str) -> bool:
        with self.lock:
            if device_id in self.systems:
                return self.systems[device_id].maintenance
            return bool(self.maintenance[self._index(device_id)])

    # -- commands -----------------------------------------------------------------------------
    def command(self, device_id: str, kind: CommandKind, rate_kw: float = 0.0) -> None:
        """Apply an accepted command: hold this power (charge negative) from the next step on."""
        power = {"charge": -rate_kw, "discharge": rate_kw, "idle": 0.0, "maintenance": 0.0}[kind]
        with self.lock:
            if device_id in self.systems:
                state = self.systems[device_id]
                state.commanded_kw = power
                state.maintenance = kind == "maintenance"
                return
            i = self._index(device_id)
            self.commanded_kw[i] = power
            self.maintenance[i] = kind == "maintenance"

    def hold_power(self, device_id: str, power_kw: float) -> None:
        """Pin a BESS to power_kw (+ = discharge), e.g. from a Modbus setpoint write."""
        with self.lock:
            i = self._index(device_id)
            self.commanded_kw[i] = power_kw
            self.maintenance[i] = False

    # -- faults -------------------------------------------------------------------------------
    def apply_cell_fault(self, fault: Fault, clear: bool = False) -> None:
        """Inject (or clear) an over-temperature, weak-cell or stuck-sensor fault in a battery system."""
        with self.lock:
            system = self._system(fault.device_id).system
            if isinstance(fault, OverTemperatureCell):
                system.set_over_temperature(fault.pack, fault.cell, 0.0 if clear else fault.extra_heat_w)
            elif isinstance(fault, WeakCell):
                if clear:
                    system.set_weak_cell(fault.pack, fault.cell, 1.0, 1.0)
                else:
                    system.set_weak_cell(fault.pack, fault.cell, fault.capacity_factor, fault.resistance_factor)
            elif isinstance(fault, StuckSensor):
                if clear:
                    system.faults.check_index(fault.pack, fault.cell)
                    # BatterySystem can only clear all faults at once; un-stick one sensor through the
                    # public fault table instead, so other injected faults stay.
                    if fault.metric in system.faults.stuck:
                        system.faults.stuck[fault.metric][0][fault.pack, fault.cell] = False
                else:
                    system.set_stuck_sensor(fault.pack, fault.cell, fault.metric)
            else:
                raise TypeError(f"{type(fault).__name__} is not a cell fault")
            self.systems[fault.device_id].measurement = system.measure()

    # -- stepping -----------------------------------------------------------------------------
    def step(self, dt_s: float, now: datetime) -> None:
        """Advance every device by dt_s seconds; uncommanded devices follow the pattern at now."""
        with self.lock:
            hours = local_hours(now, self._zones)
            if self.fleet is not None:
                auto = self.pattern.setpoints_kw(hours[self._bess_site], dt_s)
                setpoints = np.where(np.isnan(self.commanded_kw), auto, self.commanded_kw)
                self.fleet.set_power_kw(slice(None), np.where(self.maintenance, 0.0, setpoints))
                self.fleet.step(dt_s)
                self.measurement = self.fleet.measure()
            if self.systems:
                site_hours = hours[[s.site_index for s in self.systems.values()]]
                auto = self._system_pattern.setpoints_kw(site_hours, dt_s)
                for state, auto_kw in zip(self.systems.values(), auto):
                    self._step_system(state, float(auto_kw), dt_s)

    def _step_system(self, state: _SystemState, auto_kw: float, dt_s: float) -> None:
        wanted = auto_kw if state.commanded_kw is None else state.commanded_kw
        wanted = 0.0 if state.maintenance else float(np.clip(wanted, -state.max_power_kw, state.max_power_kw))
        soc = state.system.system_soc_pct
        if (wanted > 0 and soc <= SYSTEM_SOC_WINDOW_PCT[0]) or (wanted < 0 and soc >= SYSTEM_SOC_WINDOW_PCT[1]):
            wanted = 0.0
        state.system.step(dt_s, power_kw=wanted)
        state.power_kw = wanted
        state.measurement = state.system.measure()

    # -- what devices report ------------------------------------------------------------------
    def _mode(self, power_kw: float, maintenance: bool) -> int:
        if maintenance:
            return DeviceMode.MAINTENANCE
        if abs(power_kw) < IDLE_BAND_KW:
            return DeviceMode.IDLE
        return DeviceMode.DISCHARGE if power_kw > 0 else DeviceMode.CHARGE

    def telemetry(self, device_id: str) -> dict[str, float]:
        """The device's telemetry values now (contract fields and units, clamped to contract ranges)."""
        with self.lock:
            if device_id in self.systems:
                return self._system_telemetry(self.systems[device_id])
            i = self._index(device_id)
            m = self.measurement
            power = float(m.power_kw[i])
            return {
                "soc_pct": float(_clip(m.soc_pct[i], SOC_PCT)),
                "power_kw": float(_clip(power, POWER_KW)),
                "voltage_v": float(_clip(m.voltage_v[i], VOLTAGE_V)),
                "current_a": float(_clip(m.current_a[i], CURRENT_A)),
                "temp_c": float(_clip(m.temp_c[i], TEMP_C)),
                "soh_pct": float(_clip(m.soh_pct[i], SOC_PCT)),
                "mode": self._mode(power, bool(self.maintenance[i])),
            }

    def _system_telemetry(self, state: _SystemState) -> dict[str, float]:
        system = state.system
        m = state.measurement
        return {
            "soc_pct": float(_clip(system.system_soc_pct, SOC_PCT)),
            "power_kw": float(_clip(system.system_power_kw, POWER_KW)),
            "voltage_v": float(_clip(system.bus_voltage_v, VOLTAGE_V)),
            "current_a": float(_clip(m.current_a.sum(), CURRENT_A)),
            # The hottest reported cell: a rack's temperature alarm is about its hottest sensor.
            "temp_c": float(_clip(m.temp_c.max(), TEMP_C)),
            "soh_pct": float(_clip(system.system_soh_pct, SOC_PCT)),
            "mode": self._mode(state.power_kw, state.maintenance),
        }

    def cells(self, device_id: str, pack: int) -> dict[str, object]:
        """One pack's cell arrays as the battery system's BMS reports them (noise, stuck sensors)."""
        with self.lock:
            m = self._system(device_id).measurement
            return {
                "voltage_v": _clip(m.voltage_v[pack], CELL_VOLTAGE_V),
                "temp_c": _clip(m.temp_c[pack], TEMP_C),
                "soc_pct": _clip(m.soc_pct[pack], SOC_PCT),
                "soh_pct": _clip(m.soh_pct[pack], SOC_PCT),
                "current_a": float(_clip(m.current_a[pack], CURRENT_A)),
            }

    def true_soc_pct(self, device_id: str) -> float:
        """The noiseless SoC (for tests and the Modbus image)."""
        with self.lock:
            if device_id in self.systems:
                return self.systems[device_id].system.system_soc_pct
            assert self.fleet is not None
            return float(self.fleet.soc_pct[self._index(device_id)])

    def bess_state(self, device_id: str) -> dict[str, float]:
        """Noiseless state of one BESS, as a Modbus device's registers show it."""
        with self.lock:
            assert self.fleet is not None
            i = self._index(device_id)
            f = self.fleet
            return {
                "soc_pct": float(np.clip(f.soc_pct[i], 0.0, 100.0)),
                "soh_pct": float(np.clip(f.soh_pct[i], 0.0, 100.0)),
                "voltage_v": float(f.voltage_v[i]),
                "current_a": float(f.current_a[i]),
                "temp_c": float(f.temp_c[i]),
            }
