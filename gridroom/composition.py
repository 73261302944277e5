"""Wires the runtime: which services it owns. Shared by `gridroom serve` and the desktop app."""

from __future__ import annotations

from core.alarms.default_rules import Chemistry, default_rules
from core.runtime.runtime import Runtime
from core.schedules.alarm_inputs import alarm_input_of
from core.services import CoreServices
from gridroom.alarm_runtime import AlarmRuntimeService
from gridroom.fleet_runtime import FleetService, FleetSettings
from gridroom.notification_runtime import NotificationRuntimeService
from gridroom.report_runtime import ScheduledReportsService
from gridroom.market_runtime import MarketRuntimeService, MarketSettings


def build_runtime(services: CoreServices, fleet: FleetService | None = None,
                  market: MarketRuntimeService | None = None) -> Runtime:
    """The runtime for this database, owning the live fleet and its alarm engine when a fleet is given,
    and the market-data service (watched folder, forecast drift -> alarms) when one is given."""
    runtime = Runtime(clock=services.clock)
    if market is not None:
        runtime.add_service(market)
    if fleet is not None:
        runtime.add_service(fleet)
        alarms = AlarmRuntimeService(services, fleet.live_state, fleet.context.battery_systems,
                                     rules=default_rules(Chemistry(fleet.settings.cell_chemistry)))
        fleet.command_outcome_listeners.append(alarms.on_command_outcome)
        fleet.schedules.event_listeners.append(lambda event: _alarm_from_schedule(alarms, event))
        fleet.context.alarm_count = lambda: alarms.alarms.annunciated_count
        if market is not None:
            market.drift_sinks.append(alarms.submit_event)
        runtime.add_service(alarms)
        runtime.add_service(NotificationRuntimeService(services, alarms.alarms))
    runtime.add_service(ScheduledReportsService(services))
    return runtime


def _alarm_from_schedule(alarms: AlarmRuntimeService, event: object) -> None:
    alarm_input = alarm_input_of(event)
    if alarm_input is not None:
        alarms.submit_event(alarm_input)


def build_fleet(services: CoreServices, settings: FleetSettings) -> FleetService:
    return FleetService(services, settings)


def build_market(services: CoreServices, settings: MarketSettings) -> MarketRuntimeService:
    return MarketRuntimeService.from_settings(services, settings)
