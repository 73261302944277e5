"""Serves the fleet's Modbus BESS devices over real Modbus TCP, fed by the fleet physics.

The pymodbus server lives on its own asyncio loop in its own thread, so it never shares a loop with the
runtime under test or the Qt loop. State crosses threads only through that loop: the tick thread hands
each step's physics to it (run_coroutine_threadsafe) and fault switches likewise; setpoints written by
clients arrive on the loop thread (SimulatedSunSpecDevice.on_setpoints) and go to the physics, which
takes its own lock.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from drivers.modbus.sim_device import SimulatedSunSpecDevice
from drivers.modbus.simulator import SunSpecSimulator
from drivers.sim.fleet_definition import BessDef
from drivers.sim.fleet_physics import FleetPhysics

log = logging.getLogger("gridroom.sim.modbus")


class ModbusBridge:
    """N Modbus BESS of the fleet on one TCP port, one unit id each."""

    def __init__(self, physics: FleetPhysics, devices: list[BessDef], host: str = "127.0.0.1", port: int = 0,
                 timeout_s: float = 10.0) -> None:
        self._physics = physics
        self._timeout_s = timeout_s
        self.devices: dict[str, SimulatedSunSpecDevice] = {}
        for d in devices:
            assert d.unit_id is not None  # guaranteed by the definition's validation
            self.devices[d.id] = SimulatedSunSpecDevice(
                unit_id=d.unit_id,
                model="GridRoom SimBESS",
                serial=d.id,
                capacity_kwh=d.capacity_kwh,
                # 124 has one reference for both directions (WChaMax); the smaller limit is the safe one.
                w_cha_max_w=min(d.max_charge_kw, d.max_discharge_kw) * 1000.0,
                on_setpoints=self._on_setpoints,
                **physics.bess_state(d.id),
            )
        self._id_of_unit = {device.unit_id: device_id for device_id, device in self.devices.items()}
        self.simulator = SunSpecSimulator(self.devices.values(), host=host, port=port)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return self.simulator.host

    @property
    def port(self) -> int:
        return self.simulator.port

    def url(self, device_id: str) -> str:
        """modbus+tcp://host:port/unit of one device (after start())."""
        return self.simulator.url(self.devices[device_id].unit_id)

    def start(self) -> int:
        """Start the server thread and listen; returns the bound port."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="gridroom-sim-modbus", daemon=True)
        self._thread.start()
        return self._run(self.simulator.start())

    def stop(self) -> None:
        """Stop serving and end the thread. Safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            self._run(self.simulator.stop())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(self._timeout_s)
            loop.close()
            self._loop = self._thread = None

    def _run(self, coro):
        assert self._loop is not None, "the Modbus bridge is not started"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(self._timeout_s)

    def push_state(self) -> None:
        """Show the physics' current state in every device's registers (waits until they do)."""
        states = {device_id: self._physics.bess_state(device_id) for device_id in self.devices}

        async def apply() -> None:
            for device_id, state in states.items():
                self.devices[device_id].update(**state)

        if self._loop is not None:
            self._run(apply())

    def set_fault(self, device_id: str, *, exception_code: int | None = None, silent: bool = False) -> None:
        """Make one device answer with exception_code, or not at all (silent); None/False clears."""
        device = self.devices[device_id]

        async def apply() -> None:
            device.update(exception_code=exception_code, silent=silent)

        if self._loop is not None:
            self._run(apply())
        else:
            device.update(exception_code=exception_code, silent=silent)

    def _on_setpoints(self, device: SimulatedSunSpecDevice) -> None:
        # On the server's loop thread: a client wrote model 124; the physics now holds that power.
        device_id = self._id_of_unit[device.unit_id]
        power_kw = device.commanded_power_kw()
        log.info("%s: model 124 setpoint -> %.1f kW", device_id, power_kw)
        self._physics.hold_power(device_id, power_kw)
