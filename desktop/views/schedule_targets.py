"""What the schedule editor needs from core, blocking (run with call_core): targets to choose from, the limits
to validate against, and the services it calls. Built over CoreServices like the other views' services."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from core.auth.principal import SYSTEM, Principal
from core.devices import DeviceRegistry
from core.fleet.context import FleetContext
from core.groups import DeviceGroupService
from core.schedules.limits import device_limits
from core.schedules.model import DeviceLimits
from core.schedules.records import ExecutionLogEntry, ScheduleRecord
from core.schedules.service import ScheduleService
from core.schedules.status import ScheduleStatusQuery
from core.services import CoreServices


@dataclass(frozen=True)
class TargetChoices:
    devices: tuple[str, ...]
    groups: dict[str, tuple[str, ...]]  # group id -> members


class ScheduleBackend:
    """The core services of the schedule views. Every method blocks: call it with call_core."""

    def __init__(self, services: CoreServices, fleet: FleetContext | None = None) -> None:
        self.services = services
        self.fleet = fleet
        self.registry = DeviceRegistry(services.db, services.audit, services.authorizer, services.clock)
        self.groups = DeviceGroupService(services.db, services.audit, services.authorizer, services.clock)
        self.schedules = ScheduleService(services.db, services.audit, services.authorizer, services.clock,
                                         self.limits_of, self.groups.members)
        self.status = ScheduleStatusQuery(services.db, services.authorizer)

    def choices(self, actor: Principal) -> TargetChoices:
        devices = tuple(d.device_id for d in self.registry.list(actor, include_decommissioned=False))
        return TargetChoices(devices, {g.group_id: g.members for g in self.groups.list(actor)})

    def limits_of(self, device_id: str) -> DeviceLimits:
        """The registry's rates and capacity with the live SoC (50 % when never seen)."""
        spec = self.registry.get(SYSTEM, device_id).spec
        return device_limits(device_id, spec.capacity_kwh, spec.max_charge_kw, spec.max_discharge_kw,
                             self._soc(device_id))

    def limits_for(self, device_ids: tuple[str, ...]) -> dict[str, DeviceLimits]:
        return {d: self.limits_of(d) for d in device_ids}

    def device_schedule(self, device_id: str) -> tuple[ScheduleRecord | None, list[ExecutionLogEntry]]:
        """The version a device runs now and its execution history (newest version first), for device detail."""
        log = self.schedules.execution_log(device_id=device_id)
        log.sort(key=lambda e: (e.ack.started_at, e.ack.entry), reverse=True)
        return self.schedules.active_schedule(device_id), log

    def _soc(self, device_id: str) -> float:
        if self.fleet is None:
            return math.nan
        row = self.fleet.live_state.row_of(device_id)
        return math.nan if row is None else float(self.fleet.live_state.snapshot().soc_pct[row])


BackendFactory = Callable[[CoreServices, FleetContext | None], ScheduleBackend]
