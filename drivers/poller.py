"""Polls devices whose protocol is request/response (Modbus/SunSpec) and feeds LiveState and storage.

A runtime service: one task on the runtime loop polls every device each interval, all endpoints in
parallel (each driver serializes access to its own endpoint). Readings become TelemetrySamples exactly like
MQTT telemetry, so the rest of GridRoom does not care how a value arrived.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

from core.clock import Clock, SystemClock
from core.fleet.live_state import LiveState
from core.fleet.samples import TelemetrySample
from drivers.base import Availability, Driver, DriverError, Reading
from drivers.registry import DriverRegistry

log = logging.getLogger(__name__)

SampleSink = Callable[[list[TelemetrySample]], None]


def mode_from_power(power_kw: float, deadband_kw: float = 0.5) -> int:
    """0 idle, 1 discharge, 2 charge — the schedule modes, derived from the measured power sign."""
    if math.isnan(power_kw) or abs(power_kw) < deadband_kw:
        return 0
    return 1 if power_kw > 0 else 2


def sample_from_reading(reading: Reading, received_at) -> TelemetrySample:
    v = reading.values
    get = lambda name: float(v.get(name, math.nan))  # noqa: E731 - a missing point is NaN, not 0
    power = get("power_kw")
    return TelemetrySample(
        device_id=reading.device_id, ts=reading.taken_at, received_at=received_at,
        soc_pct=get("soc_pct"), power_kw=power, voltage_v=get("voltage_v"), current_a=get("current_a"),
        temp_c=get("temp_c"), soh_pct=get("soh_pct"), mode=mode_from_power(power),
    )


@dataclass
class PollStats:
    cycles: int = 0
    last_cycle_s: float = 0.0
    failures: int = 0
    cycle_seconds: list[float] = field(default_factory=list)


class DevicePoller:
    """Runtime service polling (device_id, address URL) pairs."""

    name = "device-poller"

    def __init__(
        self,
        devices: Sequence[tuple[str, str]],
        live_state: LiveState,
        *,
        registry: DriverRegistry | None = None,
        clock: Clock | None = None,
        interval_s: float = 1.0,
        sink: SampleSink | None = None,
        driver_factory: Callable[[str, str], Driver] | None = None,
    ) -> None:
        self.live_state = live_state
        self.clock = clock or SystemClock()
        self.interval_s = interval_s
        self.sink = sink
        self.stats = PollStats()
        registry = registry or DriverRegistry()
        make = driver_factory or (lambda device_id, url: registry.create(url))
        self.drivers: dict[str, Driver] = {device_id: make(device_id, url) for device_id, url in devices}
        for device_id in self.drivers:
            if live_state.row_of(device_id) is None:
                live_state.register(device_id, protocol="modbus")
        self._task: asyncio.Task | None = None
        self._connected: set[str] = set()

    async def start(self, runtime) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await asyncio.gather(*(d.close() for d in self.drivers.values()), return_exceptions=True)

    def driver(self, device_id: str) -> Driver:
        return self.drivers[device_id]

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            await self.poll_once()
            next_at += self.interval_s
            # A slow cycle skips ahead instead of bunching up polls behind it.
            next_at = max(next_at, loop.time())
            await asyncio.sleep(next_at - loop.time())

    async def poll_once(self) -> list[TelemetrySample]:
        """One cycle over every device; returns the samples it produced."""
        started = time.perf_counter()
        ids = list(self.drivers)
        results = await asyncio.gather(*(self._read(i) for i in ids), return_exceptions=True)
        received_at = self.clock.now()
        samples: list[TelemetrySample] = []
        offline: list[tuple[str, str]] = []
        for device_id, result in zip(ids, results):
            if isinstance(result, Reading):
                samples.append(sample_from_reading(result, received_at))
            else:
                self.stats.failures += 1
                if self.drivers[device_id].availability is Availability.OFFLINE:
                    offline.append((device_id, str(result)))
        seen_at = received_at.timestamp()
        with self.live_state.batch() as writer:
            writer.set_samples(samples, seen_at)
            for device_id, reason in offline:
                writer.set_offline(device_id, reason)
        if self.sink and samples:
            try:
                self.sink(samples)
            except Exception:
                log.exception("telemetry sink failed; LiveState is still updated")
        elapsed = time.perf_counter() - started
        self.stats.cycles += 1
        self.stats.last_cycle_s = elapsed
        self.stats.cycle_seconds = (self.stats.cycle_seconds + [elapsed])[-600:]
        return samples

    async def _read(self, device_id: str) -> Reading:
        driver = self.drivers[device_id]
        if device_id not in self._connected:
            await driver.connect()
            self._connected.add(device_id)
        try:
            reading = await driver.read()
        except DriverError:
            raise
        if reading.device_id != device_id:
            # Drivers name readings by address; the fleet knows devices by id.
            reading = Reading(device_id, reading.taken_at, reading.values, reading.extra)
        return reading

    async def write(self, device_id: str, setpoints: Mapping[str, float]) -> Mapping[str, float]:
        """Write setpoints through the device's driver (with readback); used by commands and the executor."""
        driver = self.drivers[device_id]
        if device_id not in self._connected:
            await driver.connect()
            self._connected.add(device_id)
        return await driver.write(setpoints)
