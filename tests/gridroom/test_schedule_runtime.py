"""Schedules through the runtime, end to end: an operator distributes with DistributeSchedule, the simulated
MQTT device runs it and acks over the real Mosquitto, GridRoom's executor runs it on a Modbus device; a trader
may propose but not distribute. Time is the shared ManualClock; waits are on conditions, never sleeps."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import pytest

from core.alarms.messages import ListActiveAlarms
from core.demo import DEMO_USERS, seed_demo
from core.errors import PermissionDenied
from core.schedules.messages import DistributeSchedule
from core.schedules.model import Mode, ScheduleEntry, ScheduleState, ScheduleTarget
from core.runtime.messages import Ping
from core.schedules.records import DeliveryState, ScheduleAck
from drivers.mqtt.broker_config import BrokerConfig
from drivers.mqtt.topics import TopicKind, topic_for
from drivers.sim.fleet_sim import FleetSimulator
from gridroom.composition import build_fleet, build_runtime
from gridroom.demo_fleet import register_fleet
from gridroom.fleet_runtime import FleetSettings
from tests.support.services import require_mosquitto
from tests.support.sim_fleet import small_fleet


def signed_in(services, username):
    user = next(u for u in DEMO_USERS if u.username == username)
    return services.users.authenticate(user.username, user.password)


@pytest.fixture
def live(sqlite_services, clock, tmp_path, request):
    """A runtime with one simulated MQTT and one Modbus device; parametrized indirectly with whether acks are
    read in a process of their own (as `gridroom serve` does)."""
    reader_process = getattr(request, "param", False)
    host, port = require_mosquitto()
    broker = BrokerConfig(host=host, port=port)
    prefix = f"t{uuid.uuid4().hex[:6]}"
    seed_demo(sqlite_services)
    definition = small_fleet(prefix, mqtt_devices=1, modbus_devices=1, packs=2, cells=2)
    sim = FleetSimulator(definition, broker, clock, schedule_dir=str(tmp_path / "device-schedules"))
    sim.start()
    register_fleet(sqlite_services, definition, sim)
    settings = FleetSettings(broker=broker, command_timeout_s=5.0, ack_session_id=f"gridroom-acks-{prefix}",
                             ack_reader_process=reader_process)
    fleet = build_fleet(sqlite_services, settings)
    runtime = build_runtime(sqlite_services, fleet)
    runtime.start()
    assert fleet.schedules.acks.wait_ready(10)
    yield prefix, sim, fleet, runtime, sqlite_services, clock
    runtime.stop()
    sim.stop()
    ending = broker.make_client(settings.ack_session_id, role="test", clean_session=True)  # drop the session
    ending.connect(host, port)
    ending.disconnect()
    client = broker.make_client(role="test-clear")
    client.connect(host, port)
    client.loop_start()
    client.publish(topic_for(f"{prefix}-b00", TopicKind.SCHEDULE), b"", qos=1, retain=True).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def test_distribute_through_the_runtime_to_mqtt_and_modbus_devices(live):
    run_scenario(live, restart_mid_day=False)


@pytest.mark.parametrize("live", [False, True], ids=["in-process", "reader-process"], indirect=True)
def test_a_runtime_restarted_mid_schedule_resumes_from_the_database_without_duplicates(live):
    restarted = run_scenario(live, restart_mid_day=True)
    restarted.stop()  # the fixture stops the first one


def run_scenario(live, restart_mid_day: bool):
    prefix, sim, fleet, runtime, services, clock = live
    svc = fleet.schedules.service
    operator, trader = signed_in(services, "demo-operator"), signed_in(services, "demo-trader")
    start = clock.now()
    entries = [ScheduleEntry(start + timedelta(minutes=1), start + timedelta(minutes=11), Mode.DISCHARGE, 40.0),
               ScheduleEntry(start + timedelta(minutes=11), start + timedelta(minutes=21), Mode.CHARGE, 20.0)]
    mqtt_dev, modbus_dev = f"{prefix}-b00", f"{prefix}-m1"
    recs = {}
    for device_id in (mqtt_dev, modbus_dev):
        draft = svc.create_draft(trader, ScheduleTarget.device(device_id), entries)  # a trader may propose
        with pytest.raises(PermissionDenied):
            svc.approve(trader, draft.id)
        svc.approve(operator, draft.id)
        with pytest.raises(PermissionDenied):
            runtime.submit(DistributeSchedule(trader, draft.id)).result(15)
        recs[device_id] = runtime.submit(DistributeSchedule(operator, draft.id)).result(15)
        assert recs[device_id].state is ScheduleState.DISTRIBUTED
    assert sim.schedules.wait_until(lambda: sim.schedules.held(mqtt_dev) is not None)

    def tick_executor():
        asyncio.run_coroutine_threadsafe(fleet.schedules.executor.tick(), runtime.loop).result(15)

    for minutes in (1.5, 11.5, 21.5):
        if restart_mid_day and minutes == 21.5:
            # GridRoom stops in the middle of entry 1; the MQTT device finishes it and acks while nobody
            # listens; a new runtime over the same database (and ack session) carries on.
            runtime.stop()
            clock.advance(start + timedelta(minutes=minutes) - clock.now())
            sim.step(1.0)
            sim.step(1.0)
            fleet = build_fleet(services, fleet.settings)
            runtime = build_runtime(services, fleet)
            runtime.start()
            svc = fleet.schedules.service
            assert fleet.schedules.acks.wait_handled(1)  # the MQTT device's ack for entry 1, kept by the broker
            tick_executor()
            continue
        clock.advance(start + timedelta(minutes=minutes) - clock.now())
        sim.step(1.0)
        sim.step(1.0)
        tick_executor()
    if not restart_mid_day:
        assert fleet.schedules.acks.wait_handled(2)
    for device_id in (mqtt_dev, modbus_dev):
        log = svc.execution_log(device_id=device_id)
        assert [(e.ack.entry, e.ack.ok) for e in log] == [(0, True), (1, True)], device_id
        assert svc.delivery(recs[device_id].id, device_id).state is DeliveryState.COMPLETED
        assert svc.get(recs[device_id].id).state is ScheduleState.COMPLETED
    assert sim.modbus.devices[modbus_dev].commanded_power_kw() == pytest.approx(0.0, abs=0.5)  # idle again
    if restart_mid_day:
        modbus_log = svc.execution_log(device_id=modbus_dev)
        assert modbus_log[1].ack.started_at == start + timedelta(minutes=11.5)  # resumed, not restarted
    return runtime


def test_a_deviating_and_a_late_ack_become_alarms_of_the_device(live):
    """The composition hands the schedule service's events to the alarm engine (rules schedule_entry_failed
    and ack_latency_high)."""
    prefix, sim, fleet, runtime, services, clock = live
    svc, operator = fleet.schedules.service, signed_in(services, "demo-operator")
    device_id = f"{prefix}-b00"
    start = clock.now()
    entries = [ScheduleEntry(start + timedelta(minutes=1), start + timedelta(minutes=11), Mode.DISCHARGE, 40.0)]
    draft = svc.create_draft(operator, ScheduleTarget.device(device_id), entries)
    svc.approve(operator, draft.id)
    rec = runtime.submit(DistributeSchedule(operator, draft.id)).result(15)
    clock.advance(timedelta(minutes=30))  # the entry ended 19 minutes ago
    # What the ack listener would hand over: the entry ran at 5 kW instead of 40, and its ack is late.
    late_and_off = ScheduleAck(rec.schedule_id, rec.version, 0, 5.0, entries[0].start, entries[0].end, True)
    svc.record_acks([(device_id, late_and_off)])

    def rules_active() -> set[str]:
        active = runtime.submit(ListActiveAlarms(operator)).result(15)
        return {a.rule_id for a in active if a.source_id == device_id}

    deadline = time.monotonic() + 15
    while not {"schedule_entry_failed", "ack_latency_high"} <= rules_active():
        assert time.monotonic() < deadline, rules_active()
        runtime.submit(Ping()).result(15)  # one runtime turn: the engine records events in a worker thread
