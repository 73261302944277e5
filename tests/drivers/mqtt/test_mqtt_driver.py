"""MqttDeviceDriver against simulated devices on the real Mosquitto: reads, commands, refusals, timeouts."""

from __future__ import annotations

import json

import pytest
import pytest_asyncio

from core.clock import ManualClock
from drivers.base import Availability, DeviceRejected, DriverTimeout, NotConnected
from drivers.mqtt.client_pool import MqttConnectionPool
from drivers.mqtt.driver import (
    CommandRejected,
    DeviceOffline,
    InvalidCommand,
    InvalidMqttAddress,
    MqttDeviceDriver,
    NoTelemetry,
    parse_mqtt_url,
)
from drivers.mqtt.embedded_broker import free_loopback_port
from drivers.registry import DriverRegistry
from drivers.sim.faults import DeviceOffline as OfflineFault
from drivers.sim.fleet_sim import FleetSimulator
from tests.support.sim_fleet import MqttRecorder, small_fleet

pytestmark = pytest.mark.mosquitto


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def recorder(shared_broker, uid):
    rec = MqttRecorder(shared_broker, [f"gridroom/v1/{uid}-b{i:02d}/#" for i in range(3)])
    yield rec
    rec.stop()


@pytest.fixture
def fleet(shared_broker, uid, clock, recorder):
    sim = FleetSimulator(small_fleet(uid, mqtt_devices=3, modbus_devices=0, packs=2, cells=2), shared_broker,
                         clock, seed=3)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def pool() -> MqttConnectionPool:
    return MqttConnectionPool()


@pytest_asyncio.fixture
async def driver_for(fleet, clock, pool):
    """driver_for(device_id, **kwargs) -> a connected driver on the test's own pool, closed afterwards."""
    drivers: list[MqttDeviceDriver] = []

    async def make(device_id: str, **kwargs) -> MqttDeviceDriver:
        kwargs.setdefault("timeout_s", 5.0)
        driver = MqttDeviceDriver(f"mqtt://{fleet.broker.host}:{fleet.broker.port}/{device_id}", clock=clock,
                                  pool=pool, **kwargs)
        await driver.connect()
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        await driver.close()


def test_urls_parse_and_the_registry_resolves_the_mqtt_scheme():
    assert parse_mqtt_url("mqtt://broker.example:8883/bess-0001") == ("broker.example", 8883, "bess-0001")
    assert parse_mqtt_url("mqtt://10.0.0.5/bess-7") == ("10.0.0.5", 1883, "bess-7")
    for bad in ("http://h/x", "mqtt:///x", "mqtt://h/", "mqtt://h/a/b", "mqtt://h:99999/x"):
        with pytest.raises(InvalidMqttAddress):
            parse_mqtt_url(bad)
    assert isinstance(DriverRegistry().create("mqtt://127.0.0.1:1883/bess-0001"), MqttDeviceDriver)


@pytest.mark.asyncio
async def test_charge_command_is_acknowledged_and_telemetry_follows(fleet, driver_for, uid, clock):
    driver = await driver_for(f"{uid}-b00")
    with pytest.raises(NoTelemetry):
        await driver.read()
    result = await driver.write({"mode": "charge", "rate_kw": 20.0})
    assert result == {"mode": 2.0, "rate_kw": 20.0, "power_kw": -20.0}
    clock.advance(1.0)
    telemetry = driver.expect_next()  # registered before anything is published: nothing can slip past
    fleet.step(1.0)
    fleet.publish_all()
    reading = await driver.next_reading(expected=telemetry)
    assert reading.values["power_kw"] == pytest.approx(-20.0, abs=1.0)
    assert reading.values["mode"] == 2.0 and reading.extra["mode"] == "charge"
    assert reading.taken_at == clock.now() and reading.device_id == f"{uid}-b00"
    assert driver.availability is Availability.ONLINE
    clock.advance(30.0)  # no sleeping: the driver judges age on the injected clock
    assert driver.availability is Availability.STALE
    assert (await driver.read()).extra["availability"] == "stale"
    clock.advance(60.0)
    assert driver.availability is Availability.OFFLINE


@pytest.mark.asyncio
async def test_over_limit_command_is_rejected_naming_the_limit(fleet, driver_for, uid):
    driver = await driver_for(f"{uid}-b01")
    with pytest.raises(CommandRejected) as caught:
        await driver.write({"mode": "discharge", "rate_kw": 150.0})
    assert isinstance(caught.value, DeviceRejected)
    assert "max_discharge_kw 100" in caught.value.reason
    assert fleet.commands_executed(f"{uid}-b01") == 0


@pytest.mark.asyncio
async def test_invalid_setpoints_fail_before_anything_is_sent(fleet, driver_for, uid):
    driver = await driver_for(f"{uid}-b01")
    for bad in ({"mode": "boost", "rate_kw": 1.0}, {"mode": "idle", "rate_kw": 5.0}, {"mode": "charge", "rate_kw": -1.0},
                {"speed": 3.0}, {"power_kw": 5.0, "mode": "charge"}):
        with pytest.raises(InvalidCommand):
            await driver.write(bad)
    assert await driver.write({"power_kw": 30.0}) == {"mode": 1.0, "rate_kw": 30.0, "power_kw": 30.0}


@pytest.mark.asyncio
async def test_offline_device_is_refused_at_once(fleet, driver_for, uid):
    device_id = f"{uid}-b02"
    driver = await driver_for(device_id)
    fleet.inject(OfflineFault(device_id))
    assert (await driver.wait_for_status("offline")).reason == "simulated fault: device offline"
    with pytest.raises(DeviceOffline, match="is offline") as caught:
        await driver.write({"mode": "idle"})
    assert isinstance(caught.value, NotConnected)
    assert driver.availability is Availability.OFFLINE
    assert fleet.commands_executed(device_id) == 0
    fleet.clear(OfflineFault(device_id))
    assert (await driver.wait_for_status("online")).state == "online"
    assert (await driver.write({"mode": "idle"}))["mode"] == 0.0


@pytest.mark.asyncio
async def test_a_device_that_never_answers_times_out(fleet, driver_for, uid):
    driver = await driver_for(f"{uid}-nobody", timeout_s=0.5)
    with pytest.raises(DriverTimeout, match="did not answer command"):
        await driver.write({"mode": "charge", "rate_kw": 10.0})


@pytest.mark.asyncio
async def test_a_redelivered_command_id_executes_once(fleet, driver_for, uid, recorder, shared_broker):
    device_id = f"{uid}-b00"
    await driver_for(device_id)  # the device is there and listening
    command = {"v": 1, "command_id": f"{uid}-same", "kind": "charge", "rate_kw": 10.0, "ts": "2026-01-01T00:00:00Z"}
    client = shared_broker.make_client(role="test-redeliver")
    client.connect(shared_broker.host, shared_broker.port)
    client.loop_start()
    try:
        for _ in range(2):
            client.publish(f"gridroom/v1/{device_id}/cmd", json.dumps(command), qos=1).wait_for_publish(5)
        results = []
        for _ in range(2):
            start = recorder.messages.index(results[-1]) + 1 if results else 0
            topic, payload = recorder.wait_for(lambda t, p: t == f"gridroom/v1/{device_id}/cmd/result", start=start)
            results.append(next(m for m in recorder.messages[start:] if m[0] == topic and m[1] == payload))
    finally:
        client.disconnect()
        client.loop_stop()
    answers = [json.loads(payload) for _topic, payload, _retain in results]
    assert answers[0] == answers[1] and answers[0]["result"] == "ok"
    assert fleet.commands_executed(device_id) == 1


@pytest.mark.asyncio
async def test_drivers_share_one_connection_per_broker(fleet, driver_for, uid, pool):
    first = await driver_for(f"{uid}-b00")
    second = await driver_for(f"{uid}-b01")
    assert len(pool) == 1
    await first.close()
    assert len(pool) == 1 and (await second.write({"mode": "idle"}))["mode"] == 0.0
    await second.close()
    assert len(pool) == 0
    with pytest.raises(NotConnected):
        await second.read()


@pytest.mark.asyncio
async def test_no_broker_means_not_connected():
    driver = MqttDeviceDriver(f"mqtt://127.0.0.1:{free_loopback_port()}/bess-1", timeout_s=0.5,
                              pool=MqttConnectionPool())
    with pytest.raises(NotConnected, match="no connection to MQTT broker"):
        await driver.connect()
    assert driver.availability is Availability.OFFLINE
