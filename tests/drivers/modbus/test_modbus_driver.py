"""ModbusSunSpecDriver against the SunSpec simulator on loopback: availability, faults, reconnects, writes."""

from __future__ import annotations

import asyncio
import logging

import pytest

from core.clock import ManualClock
from drivers.base import Availability, DeviceRejected, Driver, DriverTimeout, NotConnected, ReadbackMismatch
from drivers.modbus.connection import BACKOFF_CAP_S, BACKOFF_INITIAL_S, ModbusExceptionResponse
from drivers.modbus.driver import InvalidModbusAddress, ModbusSunSpecDriver, parse_modbus_url, read_plan
from drivers.modbus.scanner import ModelLocation, SunSpecScanError
from drivers.modbus.sim_device import SimulatedSunSpecDevice
from drivers.modbus.storage_control import SetpointError
from drivers.registry import DriverRegistry

FAST_TIMEOUT_S = 0.2  # real seconds a silent device costs a test; kept short


def test_url_parsing_and_clear_errors():
    assert parse_modbus_url("modbus+tcp://10.0.0.5:1502/17") == ("10.0.0.5", 1502, 17)
    assert parse_modbus_url("modbus+tcp://plant-gw") == ("plant-gw", 502, 1)
    with pytest.raises(InvalidModbusAddress, match="unit must be a number 0..247, got '300'"):
        parse_modbus_url("modbus+tcp://gw:502/300")
    with pytest.raises(InvalidModbusAddress, match="scheme must be modbus\\+tcp"):
        parse_modbus_url("mqtt://gw/1")


def test_registry_builds_the_driver_from_a_url():
    driver = DriverRegistry().create("modbus+tcp://127.0.0.1:1502/4")
    assert isinstance(driver, ModbusSunSpecDriver) and isinstance(driver, Driver)
    assert driver.unit == 4 and driver.availability is Availability.OFFLINE


def test_read_plan_merges_adjacent_models_into_one_request():
    battery, storage = ModelLocation(802, 40070, 62), ModelLocation(124, 40134, 24)
    assert read_plan([battery, storage]) == [(40070, 90)]
    far = ModelLocation(124, 41000, 24)
    assert read_plan([battery, far]) == [(40070, 64), (41000, 26)]


@pytest.mark.asyncio
async def test_read_reports_battery_values_identity_and_alarms(start_simulator, pool):
    device = SimulatedSunSpecDevice(unit_id=2, soc_pct=81.3, soh_pct=92.5, voltage_v=760.0, current_a=-40.0,
                                    serial="SN-2", alarms={"OVER_TEMP_WARNING"})  # fmt: skip
    sim = await start_simulator([SimulatedSunSpecDevice(unit_id=1), device])
    clock = ManualClock()
    driver = ModbusSunSpecDriver(sim.url(2), clock=clock, pool=pool, device_id="bess-2")
    await driver.connect()
    assert driver.identity.serial == "SN-2" and driver.identity.manufacturer == "GridRoom"
    reading = await driver.read()
    assert reading.device_id == "bess-2"
    assert reading.taken_at == clock.now() and reading.taken_at.tzinfo is not None
    assert reading.values == pytest.approx(
        {"soc_pct": 81.3, "soh_pct": 92.5, "voltage_v": 760.0, "current_a": -40.0, "power_kw": -30.4}
    )
    assert reading.extra["alarms"] == ["OVER_TEMP_WARNING"]
    assert reading.extra["charge_state"] == "CHARGING"

    device.update(soc_pct=79.0, current_a=25.0, alarms=set())  # physics pushed by the fleet simulator
    reading = await driver.read()
    assert reading.values["soc_pct"] == pytest.approx(79.0)
    assert reading.values["power_kw"] == pytest.approx(19.0)
    assert reading.extra["alarms"] == [] and reading.extra["charge_state"] == "DISCHARGING"
    await driver.close()


@pytest.mark.asyncio
async def test_availability_online_stale_offline_and_recovery(start_simulator, pool, caplog):
    device = SimulatedSunSpecDevice(unit_id=1)
    sim = await start_simulator([device])
    clock = ManualClock()
    driver = ModbusSunSpecDriver(sim.url(1), clock=clock, pool=pool, stale_after_s=5, timeout_s=FAST_TIMEOUT_S)
    assert driver.availability is Availability.OFFLINE
    await driver.read()
    assert driver.availability is Availability.ONLINE
    clock.advance(4.9)
    assert driver.availability is Availability.ONLINE
    clock.advance(0.2)
    assert driver.availability is Availability.STALE

    caplog.set_level(logging.DEBUG, logger="drivers.modbus.driver")
    device.silent = True
    for _ in range(3):
        with pytest.raises(DriverTimeout, match="no answer within 0.2 s"):
            await driver.read()
        assert driver.availability is Availability.OFFLINE
    device.silent = False
    await driver.read()
    assert driver.availability is Availability.ONLINE
    assert driver.last_seen == clock.now()

    records = [r for r in caplog.records if r.name == "drivers.modbus.driver"]
    assert [r.levelno for r in records] == [logging.ERROR, logging.DEBUG, logging.DEBUG, logging.INFO]
    assert "recovered" in records[-1].getMessage()
    await driver.close()


@pytest.mark.asyncio
async def test_modbus_exception_becomes_device_rejected_with_its_code(start_simulator, pool):
    device = SimulatedSunSpecDevice(unit_id=1)
    sim = await start_simulator([device])
    driver = ModbusSunSpecDriver(sim.url(1), pool=pool)
    await driver.read()
    device.exception_code = 4
    with pytest.raises(DeviceRejected, match="exception code 4") as error:
        await driver.read()
    assert isinstance(error.value, ModbusExceptionResponse) and error.value.exception_code == 4
    assert driver.availability is Availability.OFFLINE
    device.exception_code = None
    await driver.read()
    assert driver.availability is Availability.ONLINE
    await driver.close()


@pytest.mark.asyncio
async def test_unknown_unit_gets_gateway_exception(start_simulator, pool):
    sim = await start_simulator([SimulatedSunSpecDevice(unit_id=1)])
    driver = ModbusSunSpecDriver(sim.url(9), pool=pool)
    with pytest.raises(SunSpecScanError, match="no SunS marker at 40000 \\(rejected: .*code 11"):
        await driver.connect()
    await driver.close()


@pytest.mark.asyncio
async def test_reconnects_with_capped_exponential_backoff_after_server_restart(start_simulator, pool):
    sim = await start_simulator([SimulatedSunSpecDevice(unit_id=1)])
    clock = ManualClock()
    driver = ModbusSunSpecDriver(sim.url(1), clock=clock, pool=pool)
    await driver.read()
    endpoint = pool.get(sim.host, sim.port)

    await sim.stop()
    for _ in range(2):  # the drop is noticed (at once, or by the request in flight), then a reconnect fails
        with pytest.raises(NotConnected):
            await driver.read()
        assert driver.availability is Availability.OFFLINE
        if endpoint.next_attempt_in_s > 0:
            break
    assert endpoint.next_attempt_in_s == pytest.approx(BACKOFF_INITIAL_S)
    with pytest.raises(NotConnected, match="next reconnect attempt in 0.5 s"):
        await driver.read()  # within the backoff window: fail fast, no connection attempt
    delays = []
    for _ in range(8):
        clock.advance(endpoint.next_attempt_in_s)
        with pytest.raises(NotConnected, match="cannot connect"):
            await driver.read()
        delays.append(endpoint.next_attempt_in_s)
    assert delays[:3] == [1.0, 2.0, 4.0] and max(delays) == BACKOFF_CAP_S

    await sim.start()  # same port
    clock.advance(endpoint.next_attempt_in_s)
    reading = await driver.read()
    assert reading.values["soc_pct"] == pytest.approx(50.0)
    assert driver.availability is Availability.ONLINE
    await driver.close()


@pytest.mark.asyncio
async def test_units_behind_one_endpoint_share_one_connection(start_simulator, pool):
    devices = [SimulatedSunSpecDevice(unit_id=u, soc_pct=10.0 * u) for u in range(1, 6)]
    sim = await start_simulator(devices)
    drivers = [ModbusSunSpecDriver(sim.url(u), pool=pool) for u in range(1, 6)]
    readings = await asyncio.gather(*(d.read() for d in drivers))
    assert [r.values["soc_pct"] for r in readings] == pytest.approx([10, 20, 30, 40, 50])
    assert len(pool) == 1 and pool.get(sim.host, sim.port).references == 5
    for driver in drivers[:4]:
        await driver.close()
    assert pool.get(sim.host, sim.port).connected  # still used by the last driver
    await drivers[4].close()
    assert len(pool) == 0


@pytest.mark.asyncio
async def test_write_commands_model_124_and_returns_the_readback(start_simulator, pool):
    device = SimulatedSunSpecDevice(unit_id=1, w_cha_max_w=40_000)
    sim = await start_simulator([device])
    driver = ModbusSunSpecDriver(sim.url(1), pool=pool)
    readback = await driver.write({"charge_rate_pct": 37.5})
    assert readback["charge_rate_pct"] == pytest.approx(37.5) and readback["power_kw"] == pytest.approx(-15.0)
    assert (device.storctl_mod, device.in_w_rte_pct, device.out_w_rte_pct) == (3, 37.5, -37.5)
    readback = await driver.write({"power_kw": 10.0})
    assert readback["discharge_rate_pct"] == pytest.approx(25.0)
    assert device.commanded_power_kw() == pytest.approx(10.0)
    readback = await driver.write({"power_kw": 0})
    assert readback["power_kw"] == 0 and device.commanded_power_kw() == 0
    with pytest.raises(SetpointError, match="exceeds the device's WChaMax of 40 kW"):
        await driver.write({"power_kw": -41})
    with pytest.raises(SetpointError, match="exactly one of"):
        await driver.write({"charge_rate_pct": 10, "discharge_rate_pct": 10})
    with pytest.raises(SetpointError, match="unknown setpoint"):
        await driver.write({"soc_pct": 10})
    assert device.setpoint_writes == 6  # 3 commands x (rates, then mode); refused requests never reach the wire
    await driver.close()


@pytest.mark.asyncio
async def test_readback_mismatch_when_the_device_holds_something_else(start_simulator, pool):
    device = SimulatedSunSpecDevice(unit_id=1)

    def clamp_charge_rate(dev: SimulatedSunSpecDevice) -> None:
        dev.in_w_rte_pct = min(dev.in_w_rte_pct, 20.0)  # a device with a firmware limit of 20 %

    device.on_setpoints = clamp_charge_rate
    sim = await start_simulator([device])
    driver = ModbusSunSpecDriver(sim.url(1), pool=pool)
    assert (await driver.write({"charge_rate_pct": 15}))["charge_rate_pct"] == pytest.approx(15)
    with pytest.raises(ReadbackMismatch, match="InWRte: wrote 5000, read back 2000"):
        await driver.write({"charge_rate_pct": 50})
    await driver.close()


@pytest.mark.asyncio
async def test_write_to_a_read_only_register_is_rejected_by_the_simulator(start_simulator, pool):
    sim = await start_simulator([SimulatedSunSpecDevice(unit_id=1)])
    driver = ModbusSunSpecDriver(sim.url(1), pool=pool)
    await driver.connect()
    endpoint = pool.get(sim.host, sim.port)
    soc_address = driver.sunspec_map.require(802).address + 11
    async with endpoint.session():
        with pytest.raises(ModbusExceptionResponse, match="exception code 2"):
            await endpoint.write_registers(1, soc_address, [100])
        storctl = driver.sunspec_map.require(124).address + 5
        with pytest.raises(ModbusExceptionResponse, match="exception code 3"):
            await endpoint.write_registers(1, storctl, [0x10])
    await driver.close()


@pytest.mark.asyncio
async def test_map_without_marker_is_a_clear_error(plain_server, pool):
    port = await plain_server({1: (40000, [0] * 200)})
    driver = ModbusSunSpecDriver(f"modbus+tcp://127.0.0.1:{port}/1", pool=pool)
    with pytest.raises(SunSpecScanError) as error:
        await driver.connect()
    assert str(error.value).startswith("no SunS marker at 40000 (found 0x0000 0x0000), 0 (rejected")
    await driver.close()


@pytest.mark.asyncio
async def test_nothing_listening_is_not_connected(pool):
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago, nobody listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    driver = ModbusSunSpecDriver(f"modbus+tcp://127.0.0.1:{port}/1", pool=pool, clock=ManualClock())
    with pytest.raises(NotConnected, match=f"cannot connect to 127.0.0.1:{port}"):
        await driver.read()
    assert driver.availability is Availability.OFFLINE
    await driver.close()
