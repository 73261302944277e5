"""The simulated fleet the demo and the tests talk to, speaking the real protocols on the wire.

Composition (PyMoDAQ-style: a mock that behaves like the hardware, with lag and noise):
- FleetPhysics: one vectorized BessFleet for every MQTT and Modbus BESS, a BatterySystem per system;
- DeviceFleetSimulator: MQTT status/telemetry (and cells/<pack> for battery systems), each device every
  ``telemetry_period_s`` of simulated time, staggered so the broker sees a steady stream, not bursts;
- SimControlClient + CommandAgent: the devices' firmware side of ``cmd`` / ``cmd/result``, and the
  ``gridroom/sim/fault`` control topic;
- ModbusBridge: a SunSpec Modbus TCP server for the Modbus BESS, registers refreshed every tick,
  model 124 setpoints applied to the physics.

One physics tick drives everything: ``step(dt_s)`` from a test (with a ManualClock, no sleeping), or
``run()`` for a wall-clock tick thread (the demo and ``gridroom sim``).
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from core.clock import Clock, SystemClock
from drivers.mqtt.broker_config import BrokerConfig
from drivers.mqtt.device_sim import DeviceFleetSimulator, SimDevice
from drivers.sim.command_agent import CommandAgent
from drivers.sim.faults import (
    BrokerDrop,
    DeviceOffline,
    Fault,
    FaultMessage,
    ModbusException,
    ModbusTimeout,
    OverTemperatureCell,
    StuckSensor,
    WeakCell,
)
from drivers.sim.fleet_definition import FleetDefinition
from drivers.sim.fleet_physics import FleetPhysics, UnknownSimDevice
from drivers.sim.modbus_bridge import ModbusBridge
from drivers.sim.schedule_agent import ScheduleAgent, ScheduleStore
from drivers.sim.schedule_client import ScheduleClient
from drivers.sim.sim_mqtt_control import SimControlClient

log = logging.getLogger("gridroom.sim")


class FaultNotApplicable(ValueError):
    """A fault that cannot hit the named device (wrong kind of device, unknown device, bad cell)."""


class FleetSimulator:
    """Every device of a FleetDefinition, simulated and reachable over MQTT and Modbus TCP."""

    def __init__(
        self,
        definition: FleetDefinition,
        broker: BrokerConfig,
        clock: Clock | None = None,
        seed: int = 0,
        *,
        modbus_host: str = "127.0.0.1",
        modbus_port: int = 0,
        telemetry_period_s: float = 2.0,
        tick_s: float = 1.0,
        per_device_clients_up_to: int = 20,
        schedule_dir: str | None = None,
    ) -> None:
        if telemetry_period_s <= 0 or tick_s <= 0:
            raise ValueError("telemetry_period_s and tick_s must be positive")
        self.definition = definition
        self.broker = broker
        self.clock = clock or SystemClock()
        self.tick_s = tick_s
        self.physics = FleetPhysics(definition, seed=seed)
        self._offline: set[str] = set()
        self._offline_lock = threading.Lock()
        self.agent = CommandAgent(self.physics, self.clock, self._is_listening)

        mqtt_devices = [SimDevice(d.id) for d in definition.mqtt_devices]
        mqtt_devices += [SimDevice(b.id, b.packs, b.cells_per_pack) for b in definition.battery_systems]
        self._mqtt_ids = [d.device_id for d in mqtt_devices]
        self.mqtt: DeviceFleetSimulator | None = None
        if mqtt_devices:
            self.mqtt = DeviceFleetSimulator(
                broker, mqtt_devices,
                source=lambda device_id, now: self.physics.telemetry(device_id),
                cell_source=lambda device_id, pack, cells, now: self.physics.cells(device_id, pack),
                per_device_clients_up_to=per_device_clients_up_to,
                clock=self.clock,
            )  # fmt: skip
        # Stagger: device i first publishes at (i + 1)/n of a period, then every period (simulated
        # seconds), so each period carries every device exactly once.
        n = max(len(self._mqtt_ids), 1)
        self._period_s = telemetry_period_s
        self._next_due_s = (np.arange(len(self._mqtt_ids)) + 1) * telemetry_period_s / n
        self._elapsed_s = 0.0
        self.control = SimControlClient(broker, self.agent, self._on_fault_message, self.physics.knows)
        # MQTT devices keep and run their schedules themselves (one JSON file per device in schedule_dir).
        self.schedules: ScheduleAgent | None = None
        self.schedule_client: ScheduleClient | None = None
        if schedule_dir is not None and self._mqtt_ids:
            store = ScheduleStore(schedule_dir)
            self.schedules = ScheduleAgent(self.physics, self.clock, store, self._is_listening, self._mqtt_ids)
            self.schedule_client = ScheduleClient(broker, self.schedules)
        modbus = definition.modbus_devices
        self.modbus = ModbusBridge(self.physics, modbus, modbus_host, modbus_port) if modbus else None
        self._step_lock = threading.Lock()
        self._stop = threading.Event()
        self._runner: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, timeout_s: float = 10.0) -> None:
        """Connect to the broker (devices announce online), subscribe for commands, serve Modbus."""
        self.control.start(timeout_s)
        if self.mqtt is not None:
            self.mqtt.start(timeout_s)
        if self.schedule_client is not None:
            self.schedule_client.start(timeout_s)
        if self.modbus is not None:
            self.modbus.start()

    def stop(self) -> None:
        """Stop ticking, clear this fleet's retained statuses, disconnect and stop serving Modbus."""
        self.stop_running()
        if self.mqtt is not None:
            self.mqtt.stop(clear_retained=True)
        self.control.stop()
        if self.schedule_client is not None:
            self.schedule_client.stop()
        if self.modbus is not None:
            self.modbus.stop()

    @property
    def modbus_port(self) -> int | None:
        return None if self.modbus is None else self.modbus.port

    def modbus_url(self, device_id: str) -> str:
        """modbus+tcp://host:port/unit of a Modbus device (after start())."""
        if self.modbus is None or device_id not in self.modbus.devices:
            raise UnknownSimDevice(device_id)
        return self.modbus.url(device_id)

    def mqtt_url(self, device_id: str) -> str:
        """mqtt://broker:port/<device_id> of an MQTT device."""
        if device_id not in self._mqtt_ids:
            raise UnknownSimDevice(device_id)
        return f"mqtt://{self.broker.host}:{self.broker.port}/{device_id}"

    # -- ticking ------------------------------------------------------------------------------
    def step(self, dt_s: float | None = None) -> int:
        """One physics tick of dt_s (default tick_s): physics, Modbus registers, due telemetry.

        Returns the number of MQTT messages handed to paho.
        """
        dt = self.tick_s if dt_s is None else float(dt_s)
        with self._step_lock:
            if self.schedules is not None:  # schedule entries start and end on the device clock
                self.schedules.tick(self.clock.now())
                assert self.schedule_client is not None
                self.schedule_client.flush()
            self.physics.step(dt, self.clock.now())
            if self.modbus is not None:
                self.modbus.push_state()
            self._elapsed_s += dt
            due = self._next_due_s <= self._elapsed_s + 1e-9
            if not due.any() or self.mqtt is None:
                return 0
            # After a long pause, publish once and resume the rhythm, rather than a burst of catch-ups.
            self._next_due_s[due] = np.maximum(self._next_due_s[due] + self._period_s, self._elapsed_s)
            return self.mqtt.publish_round({self._mqtt_ids[i] for i in np.flatnonzero(due)})

    def publish_all(self) -> int:
        """Publish telemetry (and cells) of every online MQTT device now, outside the rhythm."""
        return 0 if self.mqtt is None else self.mqtt.publish_round()

    def run(self) -> None:
        """Tick in a background thread every tick_s of wall time (dt measured on the clock) until stop."""
        if self._runner is not None:
            raise RuntimeError("the fleet simulator is already running")
        self._stop.clear()

        def loop() -> None:
            last = self.clock.monotonic()
            while not self._stop.wait(self.tick_s):
                now = self.clock.monotonic()
                try:
                    self.step(max(now - last, 0.0))
                except Exception:  # keep the demo alive; the log says what went wrong
                    log.exception("fleet simulator tick failed")
                last = now

        self._runner = threading.Thread(target=loop, name="gridroom-fleet-sim", daemon=True)
        self._runner.start()

    def stop_running(self) -> None:
        self._stop.set()
        if self._runner is not None:
            self._runner.join(10.0)
            self._runner = None

    # -- faults -------------------------------------------------------------------------------
    def _is_listening(self, device_id: str) -> bool:
        with self._offline_lock:
            return device_id not in self._offline

    def _kind_of(self, device_id: str) -> str:
        if self.modbus is not None and device_id in self.modbus.devices:
            return "modbus"
        if device_id in self.physics.systems:
            return "battery system"
        if device_id in self._mqtt_ids:
            return "mqtt"
        raise FaultNotApplicable(f"{device_id} is not a device of this simulator")

    def _require(self, fault: Fault, *kinds: str) -> str:
        kind = self._kind_of(fault.device_id)
        if kind not in kinds:
            raise FaultNotApplicable(
                f"{type(fault).__name__} applies to {' or '.join(kinds)} devices; {fault.device_id} is {kind}"
            )
        return kind

    def inject(self, fault: Fault) -> None:
        """Make fault happen now; raises FaultNotApplicable when the device cannot have it."""
        self._apply(fault, clear=False)

    def clear(self, fault: Fault) -> None:
        """Undo fault (a no-op for BrokerDrop: the client reconnects by itself)."""
        self._apply(fault, clear=True)

    def _apply(self, fault: Fault, clear: bool) -> None:
        if isinstance(fault, DeviceOffline):
            kind = self._require(fault, "mqtt", "battery system", "modbus")
            if kind == "modbus":
                assert self.modbus is not None
                self.modbus.set_fault(fault.device_id, silent=not clear)
                return
            assert self.mqtt is not None
            with self._offline_lock:
                (self._offline.discard if clear else self._offline.add)(fault.device_id)
            if clear:
                self.mqtt.bring_online(fault.device_id)
                if self.schedule_client is not None:
                    self.schedule_client.device_back(fault.device_id)
            else:
                self.mqtt.take_offline(fault.device_id, "simulated fault: device offline")
        elif isinstance(fault, BrokerDrop):
            self._require(fault, "mqtt", "battery system")
            if not clear:
                assert self.mqtt is not None
                self.mqtt.drop_connection(fault.device_id)
        elif isinstance(fault, (ModbusException, ModbusTimeout)):
            self._require(fault, "modbus")
            assert self.modbus is not None
            if clear:
                self.modbus.set_fault(fault.device_id)
            elif isinstance(fault, ModbusException):
                self.modbus.set_fault(fault.device_id, exception_code=fault.code)
            else:
                self.modbus.set_fault(fault.device_id, silent=True)
        elif isinstance(fault, (OverTemperatureCell, WeakCell, StuckSensor)):
            self._require(fault, "battery system")
            try:
                self.physics.apply_cell_fault(fault, clear=clear)
            except (ValueError, IndexError) as exc:  # CellIndexError, bad factor, unknown metric
                raise FaultNotApplicable(str(exc)) from None
        else:
            raise FaultNotApplicable(f"unknown fault type {type(fault).__name__}")
        log.info("%s %s", "cleared" if clear else "injected", fault)

    def _on_fault_message(self, request: FaultMessage) -> str | None:
        # On the control client's network thread. None: not ours, stay silent for the simulator that owns it.
        if not self.physics.knows(request.device_id):
            return None
        try:
            self._apply(request.to_fault(), clear=request.clear)
        except (FaultNotApplicable, TypeError, ValueError) as exc:
            return str(exc) or type(exc).__name__
        return ""

    def commands_executed(self, device_id: str) -> int:
        """How many commands device_id has applied (a re-delivered command id is not counted twice)."""
        return self.agent.executed.get(device_id, 0)
