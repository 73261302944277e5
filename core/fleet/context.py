"""What the fleet views need besides the core services: the live picture and the fleet's services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from core.commands.history import CommandHistory
from core.fleet.live_state import LiveState


@dataclass
class FleetContext:
    """Handed to the desktop by the composition root. Commands go through the runtime
    (SendDeviceCommand), never straight to a driver."""

    live_state: LiveState
    command_history: CommandHistory = field(default_factory=CommandHistory)
    battery_systems: tuple[str, ...] = ()
    # (device_id, metric, start, end) -> (epoch_s, min, avg, max) numpy arrays; None until storage is wired
    history: Callable[..., Any] | None = None
    # device_id -> DeviceInfo-like metadata (name, site, limits); None when the registry is not wired
    device_info: Callable[[str], Any] | None = None
    # annunciated alarms right now (safe from the GUI thread); None while no alarm engine runs
    alarm_count: Callable[[], int] | None = None
