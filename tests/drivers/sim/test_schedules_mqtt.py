"""Schedules end to end over the real Mosquitto: GridRoom publishes retained versions, the simulated devices
keep them on disk, run them on their (manual) clock and acknowledge every entry; acks land in the execution
log exactly once. No sleeping: waits are on the devices' and the listener's conditions."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.auth.principal import SYSTEM
from core.schedules.ack_batch import DEVIATION_KW
from core.schedules.model import DeviceLimits, Mode, ScheduleEntry, ScheduleState, ScheduleTarget
from core.schedules.records import DeliveryState
from core.schedules.service import ScheduleService
from drivers.mqtt.codec import encode
from drivers.mqtt.payloads import AckPayload
from drivers.mqtt.ack_listener import AckListener
from drivers.mqtt.schedule_publisher import SchedulePublisher, schedule_payload
from drivers.mqtt.topics import TopicKind, topic_for
from drivers.sim.faults import DeviceOffline
from drivers.sim.fleet_sim import FleetSimulator
from tests.support.sim_fleet import small_fleet


def limits_of(device_id: str) -> DeviceLimits:
    return DeviceLimits(device_id, 200.0, 100.0, 100.0, 5.0, 95.0, 1.0, 1.0, 50.0)


@pytest.fixture
def control(sqlite_services, clock, shared_broker):
    svc = ScheduleService(sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer, clock, limits_of)
    publisher = SchedulePublisher(shared_broker)
    listener = AckListener(shared_broker, svc.record_acks)
    publisher.start()
    listener.start()
    yield svc, publisher, listener
    listener.stop()
    publisher.stop()


def two_entries(clock) -> list[ScheduleEntry]:
    now = clock.now()
    return [ScheduleEntry(now + timedelta(minutes=1), now + timedelta(minutes=11), Mode.DISCHARGE, 50.0),
            ScheduleEntry(now + timedelta(minutes=11), now + timedelta(minutes=21), Mode.CHARGE, 40.0)]


def distribute(svc, publisher, device_ids, clock):
    records = []
    for device_id in device_ids:
        rec = svc.create_draft(SYSTEM, ScheduleTarget.device(device_id), two_entries(clock))
        rec = svc.approve(SYSTEM, rec.id)
        svc.authorize_distribution(SYSTEM, rec.id)
        sent = asyncio.run(publisher.publish([device_id], schedule_payload(rec.schedule_id, rec.version, rec.entries)))
        assert sent == {device_id: None}
        records.append(svc.mark_distributed(SYSTEM, rec.id, [device_id]))
    return records


def run_to(sim, clock, minutes_from_start: float, start):
    """Advance the shared clock to start + minutes and tick the simulator twice (start entries, measure)."""
    clock.advance(start + timedelta(minutes=minutes_from_start) - clock.now())
    sim.step(1.0)
    sim.step(1.0)


def clear_retained(broker, device_ids):
    client = broker.make_client(role="test-clear")
    client.connect(broker.host, broker.port)
    client.loop_start()
    for device_id in device_ids:
        client.publish(topic_for(device_id, TopicKind.SCHEDULE), b"", qos=1, retain=True).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def test_a_hundred_devices_receive_execute_and_ack_exactly_once(control, shared_broker, uid, clock, tmp_path):
    svc, publisher, listener = control
    sim = FleetSimulator(small_fleet(uid, mqtt_devices=100, modbus_devices=0), shared_broker, clock, seed=3,
                         schedule_dir=str(tmp_path / "device-schedules"))
    devices = [f"{uid}-b{i:02d}" for i in range(100)]
    sim.start()
    try:
        start = clock.now()
        records = distribute(svc, publisher, devices, clock)
        assert sim.schedules.wait_until(lambda: all(sim.schedules.held(d) for d in devices))
        run_to(sim, clock, 1.5, start)   # entry 0 running
        run_to(sim, clock, 11.5, start)  # entry 0 acked, entry 1 running
        run_to(sim, clock, 21.5, start)  # entry 1 acked, devices idle
        assert listener.wait_handled(200, 30)
        log = svc.execution_log()
        assert len(log) == 200 and all(e.ack.ok for e in log)
        assert sorted((e.device_id, e.ack.entry) for e in log) == [(d, i) for d in devices for i in (0, 1)]
        # Each ran as planned, within the deviation tolerance (the simulated devices measure with noise).
        assert all(abs(e.ack.actual_rate_kw - (50.0, 40.0)[e.ack.entry]) <= DEVIATION_KW for e in log)
        assert all(svc.get(r.id).state is ScheduleState.COMPLETED for r in records)
        assert all(svc.delivery(r.id, d).state is DeliveryState.COMPLETED for r, d in zip(records, devices))
        assert abs(sim.physics.telemetry(devices[0])["power_kw"]) < 1.0  # idle after the last entry

        # A re-delivered ack (QoS 1 duplicate) is counted, not stored twice; one from the wrong device is refused.
        first = records[0]
        again = AckPayload(v=1, schedule_id=first.schedule_id, version=1, entry=0, actual_rate_kw=50.0,
                           started_at=first.entries[0].start, ended_at=first.entries[0].end, ok=True)
        spoof = broker_client(shared_broker)
        spoof.publish(topic_for(devices[0], TopicKind.ACK), encode(again), qos=1).wait_for_publish(5)
        spoof.publish(topic_for(devices[1], TopicKind.ACK), encode(again), qos=1).wait_for_publish(5)
        assert listener.wait_handled(202)
        assert len(svc.execution_log()) == 200
        assert svc.ack_duplicates == 1 and svc.ack_rejects["wrong device"] == 1
        spoof.disconnect()
        spoof.loop_stop()
    finally:
        sim.stop()
        clear_retained(shared_broker, devices)


def broker_client(broker):
    client = broker.make_client(role="test-peer")
    client.connect(broker.host, broker.port)
    client.loop_start()
    return client


def test_device_restarted_mid_schedule_resumes_without_running_an_entry_twice(control, shared_broker, uid, clock,
                                                                               tmp_path):
    svc, publisher, listener = control
    folder = str(tmp_path / "device-schedules")
    fleet = small_fleet(uid, mqtt_devices=1, modbus_devices=0)
    device = f"{uid}-b00"
    sim = FleetSimulator(fleet, shared_broker, clock, seed=3, schedule_dir=folder)
    sim.start()
    try:
        start = clock.now()
        (rec,) = distribute(svc, publisher, [device], clock)
        assert sim.schedules.wait_until(lambda: sim.schedules.held(device) is not None)
        run_to(sim, clock, 1.5, start)
        run_to(sim, clock, 11.5, start)  # entry 0 acked, entry 1 started
        assert listener.wait_handled(1)
        started_entry_1 = clock.now()
    finally:
        sim.stop()
    clock.advance(60)
    sim = FleetSimulator(fleet, shared_broker, clock, seed=3, schedule_dir=folder)
    sim.start()
    try:
        assert sim.schedules.held(device) == (rec.schedule_id, 1)  # from its file, before any message
        run_to(sim, clock, 21.5, start)
        assert listener.wait_handled(2)
        log = svc.execution_log(device_id=device)
        assert [e.ack.entry for e in log] == [0, 1]
        assert log[1].ack.started_at == started_entry_1  # resumed, not started again
        assert sim.schedules.starts == {}  # nothing was started by the restarted device
        assert svc.get(rec.id).state is ScheduleState.COMPLETED
    finally:
        sim.stop()
        clear_retained(shared_broker, [device])


def test_offline_device_gets_its_schedule_on_return_and_flushes_buffered_acks_in_order(control, shared_broker, uid,
                                                                                      clock, tmp_path):
    svc, publisher, listener = control
    device = f"{uid}-b00"
    sim = FleetSimulator(small_fleet(uid, mqtt_devices=1, modbus_devices=0), shared_broker, clock, seed=3,
                         schedule_dir=str(tmp_path / "s"))
    sim.start()
    try:
        start = clock.now()
        sim.inject(DeviceOffline(device_id=device))
        (rec,) = distribute(svc, publisher, [device], clock)
        assert sim.schedules.held(device) is None
        sim.clear(DeviceOffline(device_id=device))  # back: the broker hands it the retained schedule
        assert sim.schedules.wait_until(lambda: sim.schedules.held(device) is not None)
        sim.inject(DeviceOffline(device_id=device))  # off the network again, but it keeps executing
        run_to(sim, clock, 1.5, start)
        run_to(sim, clock, 11.5, start)
        run_to(sim, clock, 21.5, start)
        assert [k for _d, k, _t, _p in sim.schedules.pending()] == []  # offline: nothing sent
        assert svc.execution_log() == []
        sim.clear(DeviceOffline(device_id=device))
        assert listener.wait_handled(2)
        assert [e.ack.entry for e in svc.execution_log(device_id=device)] == [0, 1]
        assert svc.get(rec.id).state is ScheduleState.COMPLETED
    finally:
        sim.stop()
        clear_retained(shared_broker, [device])


def test_device_refuses_an_expired_or_over_limit_schedule_with_a_negative_ack(control, shared_broker, uid, clock,
                                                                              tmp_path):
    svc, publisher, listener = control
    device = f"{uid}-b00"
    sim = FleetSimulator(small_fleet(uid, mqtt_devices=1, modbus_devices=0), shared_broker, clock, seed=3,
                         schedule_dir=str(tmp_path / "s"))
    sim.start()
    try:
        rec = svc.approve(SYSTEM, svc.create_draft(SYSTEM, ScheduleTarget.device(device), two_entries(clock)).id)
        svc.mark_distributed(SYSTEM, rec.id, [device])
        clock.advance(timedelta(hours=1))  # by the time it arrives, every entry has ended
        asyncio.run(publisher.publish([device], schedule_payload(rec.schedule_id, rec.version, rec.entries)))
        assert listener.wait_handled(1)
        (entry,) = svc.execution_log(device_id=device)
        assert not entry.ack.ok and "expired" in entry.ack.error
        assert svc.delivery(rec.id, device).state is DeliveryState.FAILED
        assert svc.get(rec.id).state is ScheduleState.FAILED
        assert sim.schedules.held(device) is None
    finally:
        sim.stop()
        clear_retained(shared_broker, [device])


def test_acks_sent_while_gridroom_is_down_arrive_after_its_restart_with_a_persistent_session(
        sqlite_services, clock, shared_broker, uid, tmp_path):
    svc = ScheduleService(sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer, clock, limits_of)
    session = f"gridroom-acks-{uid}"
    listener = AckListener(shared_broker, svc.record_acks, session_id=session)
    listener.start()
    listener.stop()  # GridRoom goes down; the broker keeps its session and queues QoS 1 acks for it
    device = f"{uid}-b00"
    rec = svc.approve(SYSTEM, svc.create_draft(SYSTEM, ScheduleTarget.device(device), two_entries(clock)).id)
    svc.mark_distributed(SYSTEM, rec.id, [device])
    acks = [AckPayload(v=1, schedule_id=rec.schedule_id, version=1, entry=i, actual_rate_kw=e.rate_kw,
                       started_at=e.start, ended_at=e.end, ok=True) for i, e in enumerate(rec.entries)]
    peer = broker_client(shared_broker)
    for a in acks:
        peer.publish(topic_for(device, TopicKind.ACK), encode(a), qos=1).wait_for_publish(5)
    peer.disconnect()
    peer.loop_stop()
    restarted = AckListener(shared_broker, svc.record_acks, session_id=session)
    restarted.start()
    try:
        assert restarted.wait_handled(2)
        assert [e.ack.entry for e in svc.execution_log(device_id=device)] == [0, 1]
    finally:
        restarted.stop()
        # End the persistent session so the broker does not keep it.
        cleaner = shared_broker.make_client(session, role="test", clean_session=True)
        cleaner.connect(shared_broker.host, shared_broker.port)
        cleaner.disconnect()
