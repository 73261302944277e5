"""Fixtures for the Modbus/SunSpec driver tests: real servers on loopback, free ports."""

from __future__ import annotations

from typing import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from drivers.modbus.connection import EndpointPool
from drivers.modbus.sim_device import SimulatedSunSpecDevice
from drivers.modbus.simulator import SunSpecSimulator

StartSimulator = Callable[..., Awaitable[SunSpecSimulator]]


@pytest_asyncio.fixture
async def start_simulator() -> AsyncIterator[StartSimulator]:
    """start_simulator(devices=[...]) -> a running SunSpecSimulator, stopped after the test."""
    started: list[SunSpecSimulator] = []

    async def start(devices: list[SimulatedSunSpecDevice] | None = None, **kwargs) -> SunSpecSimulator:
        sim = SunSpecSimulator(devices or [SimulatedSunSpecDevice(unit_id=1)], **kwargs)
        await sim.start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        await sim.stop()


@pytest_asyncio.fixture
async def plain_server() -> AsyncIterator[Callable[..., Awaitable[int]]]:
    """plain_server({unit: (address, registers)}) -> port of a bare pymodbus server (no GridRoom code)."""
    servers: list[ModbusTcpServer] = []

    async def start(blocks: dict[int, tuple[int, list[int]]]) -> int:
        devices = [
            SimDevice(id=unit, simdata=[SimData(address, values=list(regs), datatype=DataType.REGISTERS)])
            for unit, (address, regs) in blocks.items()
        ]
        server = ModbusTcpServer(devices, address=("127.0.0.1", 0))
        await server.serve_forever(background=True)
        servers.append(server)
        return server.transport.sockets[0].getsockname()[1]

    yield start
    for server in servers:
        await server.shutdown()


@pytest.fixture
def pool() -> EndpointPool:
    """A private connection pool, so tests never share sockets."""
    return EndpointPool()
