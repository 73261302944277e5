"""The fleet simulator on the wire: real Mosquitto, real Modbus TCP on loopback, a ManualClock for physics."""

from __future__ import annotations

import json

import numpy as np
import pytest

from drivers.base import DriverTimeout
from drivers.modbus.connection import EndpointPool, ModbusExceptionResponse
from drivers.modbus.driver import ModbusSunSpecDriver
from drivers.mqtt.codec import decode
from drivers.mqtt.payloads import CellsPayload, StatusPayload, TelemetryPayload
from drivers.sim.faults import (
    BrokerDrop,
    DeviceOffline,
    ModbusException,
    ModbusTimeout,
    OverTemperatureCell,
    StuckSensor,
    WeakCell,
)
from drivers.sim.fleet_sim import FaultNotApplicable

pytestmark = pytest.mark.mosquitto


def ours(uid: str, suffix: str = ""):
    return lambda topic, payload: topic.startswith(f"gridroom/v1/{uid}") and topic.endswith(suffix)


def tick(fleet, clock, dt_s: float = 1.0) -> None:
    clock.advance(dt_s)
    fleet.step(dt_s)


def test_every_device_publishes_telemetry_under_the_contract_staggered(fleet, recorder, uid, manual_clock):
    mqtt_ids = [f"{uid}-b{i:02d}" for i in range(10)] + [f"{uid}-bs"]
    mark = recorder.mark()
    first = fleet.step(1.0)
    second = fleet.step(1.0)  # one telemetry period (2 s): every device once, spread over both ticks
    assert 0 < first < first + second and first + second == len(mqtt_ids) + 10  # + 10 cells packs of bs
    last = f"gridroom/v1/{uid}-bs/cells/9"
    recorder.wait_for(lambda t, p: t == last, start=mark)
    for device_id in mqtt_ids:
        topic, payload = recorder.wait_for(lambda t, p, d=device_id: t == f"gridroom/v1/{d}/telemetry", start=mark)
        decoded_id, message = decode(topic, payload)
        assert decoded_id == device_id and isinstance(message, TelemetryPayload)
        assert 0 <= message.soc_pct <= 100 and message.ts == manual_clock.now()
    for pack in range(10):
        topic, payload = recorder.wait_for(lambda t, p, k=pack: t == f"gridroom/v1/{uid}-bs/cells/{k}", start=mark)
        cells = decode(topic, payload)[1]
        assert isinstance(cells, CellsPayload) and cells.pack == pack and len(cells.temp_c) == 10


def test_modbus_devices_answer_with_the_physics_soc_and_take_setpoints(fleet, uid, manual_clock):
    import asyncio

    device_id = f"{uid}-m1"

    async def scenario():
        driver = ModbusSunSpecDriver(fleet.modbus_url(device_id), pool=EndpointPool(), timeout_s=2.0)
        try:
            await driver.write({"power_kw": -40.0})  # charge at 40 kW through model 124
            for _ in range(30):
                tick(fleet, manual_clock, 60.0)
            reading = await driver.read()
        finally:
            await driver.close()
        return reading

    soc_before = 50.0
    reading = asyncio.run(scenario())
    physics_soc = fleet.physics.true_soc_pct(device_id)
    assert physics_soc > soc_before + 5  # it charged: 40 kW x 30 min into 200 kWh is ~+9 %
    assert reading.values["soc_pct"] == pytest.approx(physics_soc, abs=0.06)  # SoC_SF = -1
    assert reading.values["power_kw"] == pytest.approx(-40.0, abs=1.0)


def test_offline_fault_sends_offline_status_and_clear_brings_it_back(fleet, recorder, uid):
    device_id = f"{uid}-b03"
    status = f"gridroom/v1/{device_id}/status"
    mark = recorder.mark()
    fleet.inject(DeviceOffline(device_id))
    _, payload = recorder.wait_for(lambda t, p: t == status and b'"offline"' in p, start=mark)
    assert decode(status, payload)[1].reason == "simulated fault: device offline"
    mark = recorder.mark()
    fleet.publish_all()
    fleet.clear(DeviceOffline(device_id))
    _, payload = recorder.wait_for(lambda t, p: t == status, start=mark)
    assert decode(status, payload)[1].state == "online"
    silent_round = [t for t, _p, _r in recorder.messages[mark:] if t == f"gridroom/v1/{device_id}/telemetry"]
    assert silent_round == []  # publish_all before the clear skipped the offline device


def test_broker_drop_fires_the_last_will_then_the_device_reconnects(fleet, recorder, uid):
    device_id = f"{uid}-b04"
    status = f"gridroom/v1/{device_id}/status"
    mark = recorder.mark()
    fleet.inject(BrokerDrop(device_id))
    _, will = recorder.wait_for(lambda t, p: t == status and b"offline" in p, start=mark)
    assert decode(status, will)[1] == StatusPayload(v=1, state="offline", reason="connection lost")
    _, back = recorder.wait_for(lambda t, p: t == status and b"online" in p, start=mark)
    assert decode(status, back)[1].state == "online"


def test_modbus_exception_and_timeout_faults_reach_the_modbus_driver(fleet, uid):
    import asyncio

    device_id = f"{uid}-m2"

    async def scenario():
        driver = ModbusSunSpecDriver(fleet.modbus_url(device_id), pool=EndpointPool(), timeout_s=0.5)
        try:
            await driver.read()
            fleet.inject(ModbusException(device_id, code=4))
            with pytest.raises(ModbusExceptionResponse) as caught:
                await driver.read()
            assert caught.value.exception_code == 4 and "code 4" in str(caught.value)
            fleet.clear(ModbusException(device_id, code=4))
            fleet.inject(ModbusTimeout(device_id))
            with pytest.raises(DriverTimeout):
                await driver.read()
            fleet.clear(ModbusTimeout(device_id))
            return await driver.read()
        finally:
            await driver.close()

    assert "soc_pct" in asyncio.run(scenario()).values


def _cells(recorder, uid, pack, mark, clock):
    """The cells of pack published at the clock's current time (QoS 0 messages of earlier ticks may
    still be arriving, so the timestamp, not the arrival order, tells which round a message is from)."""
    topic = f"gridroom/v1/{uid}-bs/cells/{pack}"
    _, payload = recorder.wait_for(lambda t, p: t == topic and decode(t, p)[1].ts == clock.now(), start=mark)
    return decode(topic, payload)[1]


def test_over_temperature_cell_becomes_the_hottest_published_cell(fleet, recorder, uid, manual_clock):
    fleet.inject(OverTemperatureCell(f"{uid}-bs", pack=6, cell=3, extra_heat_w=80.0))
    for _ in range(10):
        tick(fleet, manual_clock, 60.0)
    mark = recorder.mark()
    fleet.publish_all()
    temps = {pack: _cells(recorder, uid, pack, mark, manual_clock).temp_c for pack in range(10)}
    hottest = max(((p, c) for p in temps for c in range(10)), key=lambda pc: temps[pc[0]][pc[1]])
    assert hottest == (6, 3)
    assert temps[6][3] > np.median(temps[6]) + 10
    fleet.clear(OverTemperatureCell(f"{uid}-bs", pack=6, cell=3))
    assert fleet.physics.systems[f"{uid}-bs"].system.faults.extra_heat_w[6, 3] == 0.0


def test_weak_cell_shows_its_lost_capacity_in_published_soh(fleet, recorder, uid, manual_clock):
    fleet.inject(WeakCell(f"{uid}-bs", pack=2, cell=8, capacity_factor=0.6, resistance_factor=3.0))
    tick(fleet, manual_clock)
    mark = recorder.mark()
    fleet.publish_all()
    soh = _cells(recorder, uid, 2, mark, manual_clock).soh_pct
    assert soh[8] == pytest.approx(60.0, abs=1.0) and min(soh[:8] + soh[9:]) > 95.0
    fleet.clear(WeakCell(f"{uid}-bs", pack=2, cell=8))
    tick(fleet, manual_clock)
    mark = recorder.mark()
    fleet.publish_all()
    assert _cells(recorder, uid, 2, mark, manual_clock).soh_pct[8] > 95.0


def test_stuck_sensor_reports_a_frozen_value_while_others_move(fleet, recorder, uid, manual_clock):
    fault = StuckSensor(f"{uid}-bs", pack=4, cell=1, metric="voltage_v")
    fleet.inject(fault)
    rounds = []
    for _ in range(3):
        for _ in range(5):
            tick(fleet, manual_clock, 60.0)
        mark = recorder.mark()
        fleet.publish_all()
        rounds.append(_cells(recorder, uid, 4, mark, manual_clock).voltage_v)
    assert rounds[0][1] == rounds[1][1] == rounds[2][1]
    assert rounds[0][0] != rounds[1][0] != rounds[2][0]
    fleet.clear(fault)
    tick(fleet, manual_clock, 60.0)
    mark = recorder.mark()
    fleet.publish_all()
    assert _cells(recorder, uid, 4, mark, manual_clock).voltage_v[1] != rounds[2][1]


def test_a_fault_on_the_wrong_kind_of_device_is_refused_by_name(fleet, uid):
    with pytest.raises(FaultNotApplicable, match="applies to modbus"):
        fleet.inject(ModbusException(f"{uid}-b00", code=2))
    with pytest.raises(FaultNotApplicable, match="battery system"):
        fleet.inject(WeakCell(f"{uid}-m1", pack=0, cell=0))
    with pytest.raises(FaultNotApplicable, match="does not exist"):
        fleet.inject(OverTemperatureCell(f"{uid}-bs", pack=10, cell=0))
    with pytest.raises(FaultNotApplicable, match="not a device of this simulator"):
        fleet.inject(DeviceOffline("nobody"))


def test_the_control_topic_injects_and_answers(fleet, recorder, uid, shared_broker):
    from drivers.sim.faults import CONTROL_TOPIC, encode_message, fault_message

    client = shared_broker.make_client(role="test-control")
    client.connect(shared_broker.host, shared_broker.port)
    client.loop_start()
    try:
        mark = recorder.mark()
        request = fault_message(OverTemperatureCell(f"{uid}-bs", 1, 2, 25.0), request_id=f"{uid}-r1")
        client.publish(CONTROL_TOPIC, encode_message(request), qos=1)
        bad = {"v": 1, "kind": "weak_cell", "device_id": f"{uid}-bs", "request_id": f"{uid}-r2"}
        client.publish(CONTROL_TOPIC, json.dumps(bad), qos=1)
        _, ok = recorder.wait_for(lambda t, p: f"{uid}-r1".encode() in p, start=mark)
        _, refused = recorder.wait_for(lambda t, p: f"{uid}-r2".encode() in p, start=mark)
    finally:
        client.disconnect()
        client.loop_stop()
    assert json.loads(ok)["ok"] is True
    assert fleet.physics.systems[f"{uid}-bs"].system.faults.extra_heat_w[1, 2] == 25.0
    assert json.loads(refused)["ok"] is False and "pack and cell" in json.loads(refused)["reason"]
