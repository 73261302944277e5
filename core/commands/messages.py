"""The runtime command that carries a manual device command from the GUI to CommandService."""

from __future__ import annotations

from dataclasses import dataclass

from core.auth.principal import Principal
from core.commands.model import DeviceCommand


@dataclass(frozen=True, slots=True)
class SendDeviceCommand:
    actor: Principal
    command: DeviceCommand
