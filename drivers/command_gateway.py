"""Delivers core's DeviceCommands through each device's own driver and translates driver errors.

MQTT devices get a `cmd` and answer on `cmd/result`; Modbus/SunSpec devices get model 124 setpoints
written and read back. Either way CommandService sees one contract: a readback mapping, or a
CommandDeliveryError whose status says what went wrong.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Mapping

from core.commands.model import CommandDeliveryError, CommandKind, CommandStatus, DeviceCommand
from drivers.base import DeviceRejected, DriverError, DriverTimeout, NotConnected, ReadbackMismatch

# (device_id, setpoints) -> readback; the composition root routes each device to its driver.
SetpointWriter = Callable[[str, Mapping[str, Any]], Awaitable[Mapping[str, Any]]]


def setpoints_for(command: DeviceCommand, protocol: str) -> dict[str, Any]:
    """The driver-level setpoints for a command. Modbus storage controls know power, not modes:
    maintenance there is idle at the device plus GridRoom's own flag."""
    if protocol == "mqtt":
        return {"mode": command.kind.value, "rate_kw": command.rate_kw}
    signed = {CommandKind.CHARGE: -command.rate_kw, CommandKind.DISCHARGE: command.rate_kw}.get(command.kind, 0.0)
    return {"power_kw": signed}


class DriverCommandGateway:
    def __init__(self, write: SetpointWriter, protocol_of: Callable[[str], str]) -> None:
        self._write = write
        self._protocol_of = protocol_of

    async def send(self, command: DeviceCommand, command_id: str, timeout_s: float) -> Mapping[str, Any]:
        setpoints = setpoints_for(command, self._protocol_of(command.device_id))
        try:
            return await asyncio.wait_for(self._write(command.device_id, setpoints), timeout_s)
        except (asyncio.TimeoutError, DriverTimeout) as exc:
            raise CommandDeliveryError(
                CommandStatus.TIMEOUT, f"{command.device_id} did not answer within {timeout_s:g} s"
                + (f" ({exc})" if str(exc) else "")
            ) from exc
        except ReadbackMismatch as exc:
            raise CommandDeliveryError(CommandStatus.FAILED, f"readback did not match: {exc}") from exc
        except DeviceRejected as exc:
            raise CommandDeliveryError(CommandStatus.REJECTED, f"{command.device_id} rejected the command: {exc}") from exc
        except NotConnected as exc:
            raise CommandDeliveryError(CommandStatus.FAILED, f"not delivered: {exc}") from exc
        except DriverError as exc:
            raise CommandDeliveryError(CommandStatus.FAILED, f"{command.device_id}: {exc}") from exc
