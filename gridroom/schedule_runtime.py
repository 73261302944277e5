"""Schedules inside the runtime: the ScheduleService, MQTT distribution and acks, and the Modbus executor.

FleetService owns one of these. `DistributeSchedule` is handled here: permission and state are checked by
the service, MQTT devices get the version retained on their schedule topic (the broker keeps it for a
device that is offline now), Modbus devices are handed to GridRoom's own executor. Everything the executor
and the delivery tracking need is in the database, so a restarted runtime carries on where it was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from core.groups.service import DeviceGroupService
from core.schedules.distribution import distribute
from core.schedules.limits import device_limits
from core.schedules.messages import DistributeSchedule
from core.schedules.model import DeviceLimits
from core.schedules.records import ScheduleRecord
from core.schedules.service import ScheduleService
from drivers.mqtt.ack_listener import AckListener
from drivers.mqtt.schedule_publisher import SchedulePublisher, schedule_payload
from drivers.schedule_executor import ModbusScheduleExecutor

log = logging.getLogger(__name__)


class ScheduleRuntime:
    def __init__(self, fleet) -> None:
        self.fleet = fleet
        services = fleet.services
        self.groups = DeviceGroupService(services.db, services.audit, services.authorizer, services.clock)
        self.service = ScheduleService(services.db, services.audit, services.authorizer, services.clock,
                                       self.limits_of, self.groups.members)
        self.publisher: SchedulePublisher | None = None
        self.acks: AckListener | None = None
        self.executor: ModbusScheduleExecutor | None = None
        # Also called with every schedule event, from the thread that stored the acks (e.g. the alarm engine's
        # thread-safe submit_event).
        self.event_listeners: list[Callable[[object], None]] = []
        self._publish: Callable[[object], None] = lambda event: None

    def limits_of(self, device_id: str) -> DeviceLimits:
        spec = self.fleet.devices[device_id].spec
        soc = self.fleet.live_state.reading(device_id, "soc_pct")  # one value, not a copy of the fleet per member
        return device_limits(device_id, spec.capacity_kwh, spec.max_charge_kw, spec.max_discharge_kw, soc)

    def _on_schedule_event(self, event: object) -> None:
        self._publish(event)
        for listener in self.event_listeners:
            listener(event)

    def _is_modbus(self, device_id: str) -> bool:
        return urlsplit(self.fleet.devices[device_id].spec.address).scheme == "modbus+tcp"

    async def start(self, runtime) -> None:
        # Rejected acks and failed or deviating deliveries (core.schedules.events) go out with the runtime's
        # events, where the alarm engine can turn them into alarms.
        self.service.on_event = self._on_schedule_event
        self._publish = runtime.publish
        broker = self.fleet.settings.broker
        if broker is not None:
            self.publisher = SchedulePublisher(broker)
            self.acks = AckListener(broker, self.service.record_acks,
                                    session_id=self.fleet.settings.ack_session_id,
                                    reader_process=self.fleet.settings.ack_reader_process)
            # Not waiting: a broker that is down must not stop the runtime (paho keeps trying to connect).
            self.publisher.start(wait=False)
            self.acks.start(wait=False)
        modbus = [d for d in self.fleet.devices if self._is_modbus(d)]
        self.executor = ModbusScheduleExecutor(self.service, self.fleet.poller.write, modbus, self.service.clock)
        await self.executor.start(runtime)
        runtime.register(DistributeSchedule, self._on_distribute)

    async def stop(self) -> None:
        if self.executor is not None:
            await self.executor.stop()
        for part in (self.acks, self.publisher):
            if part is not None:
                await asyncio.to_thread(part.stop)

    async def _on_distribute(self, message: DistributeSchedule) -> ScheduleRecord:
        # A group schedule goes to every member: MQTT members in one publish, Modbus members to the executor.
        return await distribute(self.service, message.actor, message.schedule_row_id, self._send)

    async def _send(self, device_ids: Sequence[str], rec: ScheduleRecord) -> dict[str, str | None]:
        outcome: dict[str, str | None] = {}
        mqtt: list[str] = []
        for device_id in device_ids:
            if device_id not in self.fleet.devices:
                outcome[device_id] = f"{device_id} is not a registered device"
            elif self._is_modbus(device_id):
                outcome[device_id] = None  # the executor picks it up from the delivery record
            elif self.publisher is None:
                outcome[device_id] = "no MQTT broker is configured"
            else:
                mqtt.append(device_id)
        if mqtt:
            outcome.update(await self.publisher.publish(mqtt, schedule_payload(rec.schedule_id, rec.version,
                                                                               rec.entries)))
        return outcome
