"""Wires the runtime: which services it owns. Shared by `gridroom serve` and the desktop app."""

from __future__ import annotations

from core.alarms.default_rules import Chemistry, default_rules
from core.runtime.runtime import Runtime
from core.services import CoreServices
from gridroom.alarm_runtime import AlarmRuntimeService
from gridroom.fleet_runtime import FleetService, FleetSettings
from gridroom.notification_runtime import NotificationRuntimeService
from gridroom.report_runtime import ScheduledReportsService


def build_runtime(services: CoreServices, fleet: FleetService | None = None) -> Runtime:
    """The runtime for this database, owning the live fleet and its alarm engine when a fleet is given."""
    runtime = Runtime(clock=services.clock)
    if fleet is not None:
        runtime.add_service(fleet)
        alarms = AlarmRuntimeService(services, fleet.live_state, fleet.context.battery_systems,
                                     rules=default_rules(Chemistry(fleet.settings.cell_chemistry)))
        fleet.command_outcome_listeners.append(alarms.on_command_outcome)
        fleet.context.alarm_count = lambda: alarms.alarms.annunciated_count
        runtime.add_service(alarms)
        runtime.add_service(NotificationRuntimeService(services, alarms.alarms))
    runtime.add_service(ScheduledReportsService(services))
    return runtime


def build_fleet(services: CoreServices, settings: FleetSettings) -> FleetService:
    return FleetService(services, settings)
