"""Wires the runtime: which services it owns. Shared by `gridroom serve` and the desktop app."""

from __future__ import annotations

from core.runtime.runtime import Runtime
from core.services import CoreServices


def build_runtime(services: CoreServices) -> Runtime:
    """The runtime for this database. Drivers, executors and alarms register here as they land."""
    return Runtime(clock=services.clock)
