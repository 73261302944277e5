"""The live fleet inside one process: LiveState, MQTT ingest, Modbus polling, the storage writer,
rollups and retention, and manual commands. One runtime service, shared by the desktop and `gridroom serve`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from core.auth.principal import SYSTEM
from core.commands.history import CommandHistory
from core.commands.messages import SendDeviceCommand
from core.commands.model import CommandLimits, CommandOutcome
from core.commands.service import CommandService
from core.devices.registry import DeviceInfo, DeviceRegistry
from core.errors import NotFound
from core.fleet.context import FleetContext
from core.fleet.counters import IngestCounters
from core.fleet.live_state import AvailabilityCode, LiveState
from core.services import CoreServices
from core.telemetry.queries import TelemetryQueries
from core.telemetry.retention import Retention
from core.telemetry.rollups import Rollups
from core.telemetry.writer import TelemetryWriter
from drivers.command_gateway import DriverCommandGateway
from drivers.mqtt.broker_config import BrokerConfig
from drivers.mqtt.driver import MqttDeviceDriver
from drivers.mqtt.ingest import TelemetryIngest
from drivers.mqtt.ingest_pool import TELEMETRY_ELSEWHERE_FILTERS, TelemetryIngestPool
from drivers.mqtt.topics import INGEST_FILTERS
from drivers.poller import DevicePoller
from gridroom.schedule_runtime import ScheduleRuntime

log = logging.getLogger(__name__)

MAINTENANCE_MODE = 3


@dataclass(frozen=True)
class FleetSettings:
    broker: BrokerConfig | None = None  # None: MQTT devices are not ingested (no broker configured)
    stale_after_s: float = 10.0
    offline_after_s: float = 60.0
    poll_interval_s: float = 1.0
    rollup_every_s: float = 60.0
    retention_every_s: float = 3600.0
    raw_retention: timedelta = timedelta(days=7)
    command_timeout_s: float = 5.0
    # A stable MQTT client id for the schedule ack listener's persistent session, so acks sent while this
    # runtime is down are delivered when it is back. Only for the one process that owns acks (None: clean session).
    ack_session_id: str | None = None
    # Cell chemistry for the default cell-voltage alarm window. NMC matches the simulator's cells (PyBaMM's
    # ECM_Example, 3.0-4.2 V); an LFP site (2.5-3.65 V) sets lfp, or the LFP defaults would flood on NMC cells.
    cell_chemistry: str = "nmc"
    # Telemetry decoded by this many worker processes on a shared subscription (drivers/mqtt/ingest_pool.py);
    # 0 decodes in this process. Workers need a broker with shared subscriptions (Mosquitto, not the embedded one).
    ingest_workers: int = 0
    # Schedule acks read and decoded in a process of their own (drivers/mqtt/ack_reader_process.py), off this
    # process's GIL: what a fleet-wide distribution needs (benchmarks/schedule_distribution.py). `serve` does.
    ack_reader_process: bool = False


def protocol_of_address(address: str) -> str:
    scheme = urlsplit(address).scheme
    return {"modbus+tcp": "modbus", "mqtt": "mqtt"}.get(scheme, scheme)


class FleetService:
    """Runtime service owning the live fleet. Devices come from the registry at construction, so
    LiveState already lists every device when the views are built."""

    name = "fleet"

    def __init__(self, services: CoreServices, settings: FleetSettings) -> None:
        self.services = services
        self.settings = settings
        self.registry = DeviceRegistry(services.db, services.audit, services.authorizer, services.clock)
        self.devices: dict[str, DeviceInfo] = {
            d.device_id: d for d in self.registry.list(SYSTEM, include_decommissioned=False)
        }
        self.live_state = LiveState(initial_capacity=max(64, len(self.devices)))
        systems = []
        for info in self.devices.values():
            spec = info.spec
            meta = dict(name=spec.name, site=info.site_name, location=spec.location, capacity_kwh=spec.capacity_kwh,
                        max_charge_kw=spec.max_charge_kw, max_discharge_kw=spec.max_discharge_kw,
                        protocol=protocol_of_address(spec.address), latitude=spec.latitude, longitude=spec.longitude)
            if spec.packs and spec.cells_per_pack:
                self.live_state.register_battery_system(spec.device_id, spec.packs, spec.cells_per_pack, **meta)
                systems.append(spec.device_id)
            else:
                self.live_state.register(spec.device_id, **meta)
        self.counters = IngestCounters()
        self.queries = TelemetryQueries(services.db)
        self.context = FleetContext(
            live_state=self.live_state,
            command_history=CommandHistory(),
            battery_systems=tuple(systems),
            history=self.queries.history,
            device_info=self.devices.get,
        )
        self.writer: TelemetryWriter | None = None
        self.ingest: TelemetryIngest | None = None
        self.ingest_pool: TelemetryIngestPool | None = None
        self.poller: DevicePoller | None = None
        self.commands: CommandService | None = None
        # Called on the runtime loop with every outcome of a command that was sent (e.g. the alarm engine).
        self.command_outcome_listeners: list[Callable[[CommandOutcome], None]] = []
        self._mqtt_drivers: dict[str, MqttDeviceDriver] = {}
        self._tasks: list[asyncio.Task] = []
        self.schedules = ScheduleRuntime(self)  # schedule service, distribution, acks, Modbus executor

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self, runtime) -> None:
        s = self.settings
        self.writer = TelemetryWriter(self.services.db, counters=self.counters, clock=self.services.clock)
        if s.broker is not None:
            if s.ingest_workers > 0:
                self.ingest_pool = TelemetryIngestPool(s.broker, self.live_state, workers=s.ingest_workers,
                                                       row_sink=self.writer.submit_rows, counters=self.counters)
                self.ingest_pool.start()
            self.ingest = TelemetryIngest(
                s.broker, self.live_state, sink=self.writer.submit_samples, cell_sink=self.writer.submit_cells,
                status_sink=self.writer.submit_status, counters=self.counters,
                filters=TELEMETRY_ELSEWHERE_FILTERS if s.ingest_workers > 0 else INGEST_FILTERS,
            )
            self.ingest.start()
        modbus = [(i, d.spec.address) for i, d in self.devices.items() if protocol_of_address(d.spec.address) == "modbus"]
        self.poller = DevicePoller(modbus, self.live_state, clock=self.services.clock,
                                   interval_s=s.poll_interval_s, sink=self.writer.submit_samples)
        await self.poller.start(runtime)
        self.commands = CommandService(
            self.services.db, self.services.audit, self.services.authorizer, self.limits_of,
            DriverCommandGateway(self._write_setpoints, lambda i: protocol_of_address(self.devices[i].spec.address)),
            self.context.command_history, self.services.clock, timeout_s=s.command_timeout_s,
        )
        runtime.register(SendDeviceCommand, self._on_send_command)
        await self.schedules.start(runtime)
        self._tasks = [
            asyncio.create_task(self._every(1.0, self._refresh_availability), name="fleet-availability"),
            asyncio.create_task(self._every(s.rollup_every_s, self._rollup), name="fleet-rollups"),
            asyncio.create_task(self._every(s.retention_every_s, self._purge), name="fleet-retention"),
        ]

    async def stop(self) -> None:
        await self.schedules.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.poller:
            await self.poller.stop()
        await asyncio.gather(*(d.close() for d in self._mqtt_drivers.values()), return_exceptions=True)
        if self.ingest:
            await asyncio.to_thread(self.ingest.stop)
        if self.ingest_pool:
            await asyncio.to_thread(self.ingest_pool.stop)
        if self.writer:
            await asyncio.to_thread(self.writer.stop, 30.0)

    # -- commands --------------------------------------------------------------------------------
    async def _on_send_command(self, message: SendDeviceCommand):
        outcome = await self.commands.execute(message.actor, message.command)
        for listener in self.command_outcome_listeners:
            try:
                listener(outcome)
            except Exception:
                log.exception("command outcome listener %r failed", listener)
        return outcome

    def limits_of(self, device_id: str) -> CommandLimits:
        info = self.devices.get(device_id)
        if info is None:
            raise NotFound(f"no registered device {device_id!r}")
        snap = self.live_state.snapshot()
        row = snap.row(device_id)
        last_seen = snap.last_seen[row]
        return CommandLimits(
            device_id=device_id,
            max_charge_kw=info.spec.max_charge_kw,
            max_discharge_kw=info.spec.max_discharge_kw,
            online=snap.availability[row] != AvailabilityCode.OFFLINE,
            in_maintenance=int(snap.mode[row]) == MAINTENANCE_MODE,
            last_seen=None if last_seen != last_seen else datetime.fromtimestamp(last_seen, timezone.utc),
        )

    async def _write_setpoints(self, device_id: str, setpoints: Mapping[str, Any]) -> Mapping[str, Any]:
        address = self.devices[device_id].spec.address
        if protocol_of_address(address) == "modbus":
            return await self.poller.write(device_id, setpoints)
        driver = self._mqtt_drivers.get(device_id)
        if driver is None:
            driver = MqttDeviceDriver(address, clock=self.services.clock, timeout_s=self.settings.command_timeout_s)
            await driver.connect()
            self._mqtt_drivers[device_id] = driver
        return await driver.write(setpoints)

    # -- periodic work ---------------------------------------------------------------------------
    async def _every(self, period_s: float, job) -> None:
        while True:
            try:
                await job()
            except Exception:
                log.exception("fleet job %s failed; it runs again next period", getattr(job, "__name__", job))
            await asyncio.sleep(period_s)

    async def _refresh_availability(self) -> None:
        self.live_state.refresh_availability(
            self.services.clock.now().timestamp(), self.settings.stale_after_s, self.settings.offline_after_s
        )

    async def _rollup(self) -> None:
        await asyncio.to_thread(Rollups(self.services.db, self.services.clock).run)

    async def _purge(self) -> None:
        await asyncio.to_thread(Retention(self.services.db, self.services.clock, raw_window=self.settings.raw_retention).purge)
