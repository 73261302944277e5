"""The live fleet end to end in one process: simulated devices on the real Mosquitto and real Modbus TCP,
GridRoom's ingest, poller, storage writer and manual commands through the runtime."""

from __future__ import annotations

import asyncio
import math
import uuid

import numpy as np
import pytest
from sqlalchemy import func, select

from core.commands.messages import SendDeviceCommand
from core.commands.model import CommandKind, CommandRefused, CommandStatus, DeviceCommand
from core.demo import DEMO_USERS, seed_demo
from core.errors import PermissionDenied
from core.fleet.live_state import AvailabilityCode
from core.telemetry.tables import telemetry_raw
from drivers.mqtt.broker_config import BrokerConfig
from drivers.sim.fleet_sim import FleetSimulator
from gridroom.composition import build_fleet, build_runtime
from gridroom.demo_fleet import register_fleet
from gridroom.fleet_runtime import FleetSettings
from tests.support.services import require_mosquitto
from tests.support.sim_fleet import small_fleet


@pytest.fixture(params=[0, 2], ids=["in-process ingest", "2 ingest workers"])
def live_fleet(sqlite_services, request):
    host, port = require_mosquitto()
    broker = BrokerConfig(host=host, port=port)
    prefix = f"t{uuid.uuid4().hex[:6]}"
    seed_demo(sqlite_services)
    definition = small_fleet(prefix, mqtt_devices=4, modbus_devices=2, packs=4, cells=5)
    sim = FleetSimulator(definition, broker)
    sim.start()
    register_fleet(sqlite_services, definition, sim)
    fleet = build_fleet(sqlite_services, FleetSettings(broker=broker, command_timeout_s=5.0,
                                                       ingest_workers=request.param))
    runtime = build_runtime(sqlite_services, fleet)
    runtime.start()
    assert fleet.ingest.wait_subscribed(10)
    if request.param:
        assert fleet.ingest_pool.wait_subscribed(60)
    yield prefix, sim, fleet, runtime, sqlite_services
    runtime.stop()
    sim.stop()


def all_seen(fleet, device_ids) -> bool:
    """True once LiveState holds a telemetry reading of every device (checked on each ingest batch). Online alone
    is not enough: a device's "online" status can arrive before its first telemetry."""
    snap = fleet.live_state.snapshot()
    return all(snap.availability[snap.row(d)] == AvailabilityCode.ONLINE and not math.isnan(snap.measured_at[snap.row(d)])
               for d in device_ids)


def signed_in(services, username):
    user = next(u for u in DEMO_USERS if u.username == username)
    return services.users.authenticate(user.username, user.password)


def test_telemetry_reaches_live_state_and_the_database(live_fleet):
    prefix, sim, fleet, runtime, services = live_fleet
    mqtt_ids = [f"{prefix}-b{i:02d}" for i in range(4)] + [f"{prefix}-bs"]
    sim.publish_all()
    ingest = fleet.ingest_pool or fleet.ingest  # whichever holds the telemetry
    assert ingest.wait_until(lambda _counters: all_seen(fleet, mqtt_ids[:4]), 10)
    # Cells always come through the in-process ingest (with workers it may lag the telemetry).
    assert fleet.ingest.wait_until(
        lambda _counters: not np.isnan(fleet.live_state.battery_snapshot(f"{prefix}-bs").pack_last_seen).any(), 10)
    samples = asyncio.run_coroutine_threadsafe(fleet.poller.poll_once(), runtime.loop).result(10)
    assert sorted(s.device_id for s in samples) == [f"{prefix}-m1", f"{prefix}-m2"]
    snap = fleet.live_state.snapshot()
    for device_id in mqtt_ids[:4] + [f"{prefix}-m1", f"{prefix}-m2"]:
        row = snap.row(device_id)
        assert snap.availability[row] == AvailabilityCode.ONLINE, device_id
        assert 0 <= snap.soc_pct[row] <= 100
    assert fleet.writer.flush(10)
    with services.db.session() as s:
        stored = s.execute(select(func.count()).select_from(telemetry_raw).where(telemetry_raw.c.device_id.startswith(prefix))).scalar()
    latest = fleet.queries.latest_cells(f"{prefix}-bs")
    assert stored >= 6  # 4 MQTT devices and 2 Modbus devices (whose SunSpec model has no temperature: NULL)
    assert sorted(latest) == [0, 1, 2, 3] and len(latest[0].voltage_v) == 5


def test_manual_commands_through_the_runtime(live_fleet):
    prefix, sim, fleet, runtime, services = live_fleet
    operator = signed_in(services, "demo-operator")
    sim.publish_all()
    ingest = fleet.ingest_pool or fleet.ingest
    assert ingest.wait_until(lambda _counters: all_seen(fleet, [f"{prefix}-b00", f"{prefix}-b01"]), 10)
    asyncio.run_coroutine_threadsafe(fleet.poller.poll_once(), runtime.loop).result(10)

    def send(actor, command):
        return runtime.submit(SendDeviceCommand(actor, command)).result(15)

    mqtt_outcome = send(operator, DeviceCommand(f"{prefix}-b00", CommandKind.CHARGE, 20.0))
    assert mqtt_outcome.status is CommandStatus.ACKED, mqtt_outcome.message
    assert mqtt_outcome.readback["power_kw"] == -20.0
    modbus_outcome = send(operator, DeviceCommand(f"{prefix}-m1", CommandKind.DISCHARGE, 30.0))
    assert modbus_outcome.status is CommandStatus.ACKED, modbus_outcome.message
    assert sim.modbus.devices[f"{prefix}-m1"].commanded_power_kw() == pytest.approx(30.0, abs=0.5)

    with pytest.raises(CommandRefused, match="exceeds .*charge limit of 100 kW"):
        send(operator, DeviceCommand(f"{prefix}-b01", CommandKind.CHARGE, 150.0))
    with pytest.raises(PermissionDenied):
        send(signed_in(services, "demo-viewer"), DeviceCommand(f"{prefix}-b01", CommandKind.IDLE))
    history = fleet.context.command_history.recent(f"{prefix}-b00")
    assert history[0].command_id == mqtt_outcome.command_id
