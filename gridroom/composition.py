"""Wires the runtime: which services it owns. Shared by `gridroom serve` and the desktop app."""

from __future__ import annotations

from core.runtime.runtime import Runtime
from core.services import CoreServices
from gridroom.fleet_runtime import FleetService, FleetSettings


def build_runtime(services: CoreServices, fleet: FleetService | None = None) -> Runtime:
    """The runtime for this database, owning the live fleet when one is given."""
    runtime = Runtime(clock=services.clock)
    if fleet is not None:
        runtime.add_service(fleet)
    return runtime


def build_fleet(services: CoreServices, settings: FleetSettings) -> FleetService:
    return FleetService(services, settings)
