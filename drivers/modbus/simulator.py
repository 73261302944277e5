"""A Modbus TCP server (pymodbus) serving simulated SunSpec batteries, one per unit id.

Each device's register image (SunS marker, models 1, 802, 124, end model) is encoded from its
SimulatedSunSpecDevice state, re-encoded lazily when that state changed and a client reads.
Clients may write only the read-write points of model 124; a write is validated like a real
device would (exception 2 for a read-only register, 3 for an out-of-range value) and then shows
up in the device's state. Unknown unit ids get exception 0x0B (gateway target failed to respond).

Fault injection per device: `exception_code` (answer every request with it), `silent` (answer
nothing, so clients time out); `stop()` takes the whole endpoint offline, `start()` brings it back
on the same port.
"""

from __future__ import annotations

import functools
import logging
from typing import Iterable

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from drivers.modbus.sim_device import SimulatedSunSpecDevice
from drivers.modbus.sunspec_image import DEFAULT_BASE_ADDRESS, SunSpecImage, build_image, decode_model, encode_model
from drivers.modbus.sunspec_models import STORAGE_CONTROL_MODEL_ID, load_model_def

log = logging.getLogger(__name__)

_READ_CODES = {3, 4}
_WRITE_CODES = {6, 16}
_CATCH_ALL_UNIT = 0  # pymodbus routes unknown unit ids to device 0


class SunSpecSimulator:
    """Serves N SimulatedSunSpecDevice on one TCP port, as different unit ids."""

    def __init__(
        self,
        devices: Iterable[SimulatedSunSpecDevice],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        base_address: int = DEFAULT_BASE_ADDRESS,
    ) -> None:
        self.devices: dict[int, SimulatedSunSpecDevice] = {}
        for device in devices:
            if not 1 <= device.unit_id <= 247:
                raise ValueError(f"unit id {device.unit_id} must be within 1..247")
            if device.unit_id in self.devices:
                raise ValueError(f"unit id {device.unit_id} is used twice")
            self.devices[device.unit_id] = device
        if not self.devices:
            raise ValueError("a simulator needs at least one device")
        self.host = host
        self.port = port
        self.base_address = base_address
        self._server: ModbusTcpServer | None = None
        self._images: dict[int, SunSpecImage] = {}
        self.requests_served = 0

    def device(self, unit_id: int) -> SimulatedSunSpecDevice:
        return self.devices[unit_id]

    @property
    def running(self) -> bool:
        return self._server is not None

    def url(self, unit_id: int) -> str:
        """The GridRoom address of a device on this simulator (after start())."""
        return f"modbus+tcp://{self.host}:{self.port}/{unit_id}"

    async def start(self) -> int:
        """Start listening; returns the bound port (the same port again after a stop())."""
        if self._server is not None:
            return self.port
        sim_devices = []
        for unit_id, device in self.devices.items():
            image = build_image(device.model_values(), self.base_address)
            device.wire_dirty = False
            self._images[unit_id] = image
            sim_devices.append(
                SimDevice(
                    id=unit_id,
                    simdata=[SimData(self.base_address, values=list(image.registers), datatype=DataType.REGISTERS)],
                    action=functools.partial(self._on_request, device),
                )
            )
        sim_devices.append(
            SimDevice(
                id=_CATCH_ALL_UNIT,
                simdata=[SimData(0, count=65536, values=0, datatype=DataType.REGISTERS)],
                action=_no_such_unit,
            )
        )
        server = ModbusTcpServer(sim_devices, address=(self.host, self.port), trace_packet=self._trace_packet)
        await server.serve_forever(background=True)
        self._server = server
        self.port = server.transport.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Stop listening and drop every client connection."""
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()

    def _trace_packet(self, sending: bool, packet: bytes) -> bytes:
        # A silent device's answers vanish here, so its clients see a real timeout on the wire.
        if sending and len(packet) > 6:
            device = self.devices.get(packet[6])
            if device is not None and device.silent:
                return b""
        return packet

    async def _on_request(
        self,
        device: SimulatedSunSpecDevice,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        self.requests_served += 1
        if device.silent:
            return ExcCodes.DEVICE_BUSY  # nothing is applied; the answer is dropped by _trace_packet
        if device.exception_code is not None:
            return ExcCodes(device.exception_code)
        image = self._images[device.unit_id]
        if device.wire_dirty:
            self._refresh(device, image, start_address, registers)
        if function_code in _WRITE_CODES and set_values is not None:
            return self._write(device, image, start_address, address, [int(v) for v in set_values], registers)
        return None

    def _refresh(self, device: SimulatedSunSpecDevice, image: SunSpecImage, start: int, registers: list[int]) -> None:
        for model_id, raw in device.model_values():
            model = load_model_def(model_id)
            offset = image.model_addresses[model_id] - start
            registers[offset : offset + model.total_registers] = encode_model(model, raw)
        device.wire_dirty = False

    def _write(
        self,
        device: SimulatedSunSpecDevice,
        image: SunSpecImage,
        start: int,
        address: int,
        values: list[int],
        registers: list[int],
    ) -> ExcCodes | None:
        model = load_model_def(STORAGE_CONTROL_MODEL_ID)
        model_address = image.model_addresses[STORAGE_CONTROL_MODEL_ID]
        writable = {
            model_address + point.offset + i for point in model.points.values() if point.writable for i in range(point.size)
        }
        if any(address + i not in writable for i in range(len(values))):
            log.debug("unit %s: write at %s+%s touches read-only registers", device.unit_id, address, len(values))
            return ExcCodes.ILLEGAL_ADDRESS
        offset = model_address - start
        proposed = registers[offset : offset + model.total_registers]
        proposed[address - model_address : address - model_address + len(values)] = values
        refusal = device.accept_storage_write(decode_model(model, proposed).raw)
        if refusal is not None:
            log.debug("unit %s refuses model 124 write: %s", device.unit_id, refusal)
            return ExcCodes.ILLEGAL_VALUE
        registers[offset : offset + model.total_registers] = proposed
        self._refresh(device, image, start, registers)
        return None


async def _no_such_unit(*_args: object) -> ExcCodes:
    return ExcCodes.GATEWAY_NO_RESPONSE
