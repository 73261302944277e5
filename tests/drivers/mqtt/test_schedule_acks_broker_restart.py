"""Schedule acks are not lost. A broker restart loses none: a private Mosquitto (persistence on) is restarted
between device acks, while GridRoom's ack listener (persistent MQTT 5 session) is down, and killed while
devices hold acks they could not send; every ack reaches the execution log exactly once. A batch that
storage refuses costs only the refused ack; the embedded (MQTT 3.1.1) broker still gets a listener; a burst
larger than one network-loop read turn arrives whole. Each runs with the listener's network side in this
process and in its reader process; a reader process that dies is started again and loses no ack.
Waits are on conditions, never sleeps."""

from __future__ import annotations

import asyncio
import os
import signal
from contextlib import contextmanager
from datetime import timedelta

import pytest

from core.auth.principal import SYSTEM
from core.schedules.model import DeviceLimits, Mode, ScheduleEntry, ScheduleState, ScheduleTarget
from core.schedules.records import DeliveryState
from core.schedules.service import ScheduleService
from drivers.mqtt.codec import encode
from drivers.mqtt.payloads import AckPayload
from drivers.mqtt.ack_listener import AckListener
from drivers.mqtt.broker_config import BrokerConfig
from drivers.mqtt.broker_session import READ_PACKETS_PER_TURN
from drivers.mqtt.schedule_publisher import SchedulePublisher, schedule_payload
from drivers.mqtt.topics import TopicKind, topic_for
from drivers.sim.fleet_sim import FleetSimulator
from tests.drivers.mqtt.conftest import MosquittoProcess
from tests.support.sim_fleet import small_fleet


def limits_of(device_id: str) -> DeviceLimits:
    return DeviceLimits(device_id, 200.0, 100.0, 100.0, 5.0, 95.0, 1.0, 1.0, 50.0)


@pytest.fixture
def persistent_broker(tmp_path):
    """A private Mosquitto that keeps sessions and queued messages across a restart (saved on shutdown)."""
    folder = tmp_path / "broker"
    folder.mkdir()
    broker = MosquittoProcess(folder)
    # Stays root (no drop to user mosquitto) so it can write its database into the test's private folder.
    broker.conf.write_text(broker.conf.read_text().replace("persistence false", "") +
                           f"persistence true\npersistence_location {folder}/\nuser root\n")
    broker.start()
    yield broker
    broker.kill()


@pytest.fixture(params=[False, True], ids=["in-process", "reader-process"])
def reader_process(request) -> bool:
    """Where the listener reads and decodes: on paho's thread here, or in its own process."""
    return request.param


@contextmanager
def listening(broker: BrokerConfig, handler, **options):
    """A started AckListener and a peer client publishing as devices would; both stopped afterwards."""
    listener = AckListener(broker, handler, **options)
    listener.start()
    peer = broker.make_client(role="test-peer")
    peer.max_inflight_messages_set(0)
    peer.connect(broker.host, broker.port)
    peer.loop_start()
    try:
        yield listener, peer
    finally:
        peer.disconnect()
        peer.loop_stop()
        listener.stop()


def entry_ack(at) -> bytes:
    return encode(AckPayload(v=1, schedule_id="sch-1", version=1, entry=0, actual_rate_kw=1.0, started_at=at,
                             ended_at=at, ok=True))


def publish_acks(peer, payloads: list[tuple[str, bytes]]) -> None:
    """(device_id, payload) on each device's ack topic, QoS 1, all confirmed by the broker."""
    for info in [peer.publish(topic_for(d, TopicKind.ACK), payload, qos=1) for d, payload in payloads]:
        info.wait_for_publish(30)


def restart(broker: MosquittoProcess) -> None:
    """SIGTERM (Mosquitto writes its persistence file) and start again on the same port."""
    assert broker.proc is not None
    broker.proc.terminate()
    broker.proc.wait(10)
    broker.start()


def test_no_ack_is_lost_across_a_broker_restart(persistent_broker, sqlite_services, clock, uid, tmp_path,
                                                reader_process):
    config = persistent_broker.config()
    svc = ScheduleService(sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer, clock, limits_of)
    session = f"gridroom-acks-{uid}"
    devices = [f"{uid}-b{i:02d}" for i in range(3)]
    sim = FleetSimulator(small_fleet(uid, mqtt_devices=3, modbus_devices=0), config, clock,
                         schedule_dir=str(tmp_path / "device-schedules"))
    publisher = SchedulePublisher(config)
    listener = AckListener(config, svc.record_acks, session_id=session, reader_process=reader_process)
    sim.start()
    publisher.start()
    listener.start()
    start = clock.now()
    entries = [ScheduleEntry(start + timedelta(minutes=a), start + timedelta(minutes=a + 10), Mode.DISCHARGE, 50.0)
               for a in (1, 11, 21)]
    records = []
    for device in devices:
        rec = svc.approve(SYSTEM, svc.create_draft(SYSTEM, ScheduleTarget.device(device), entries).id)
        assert asyncio.run(publisher.publish([device], schedule_payload(rec.schedule_id, rec.version,
                                                                         rec.entries))) == {device: None}
        records.append(svc.mark_distributed(SYSTEM, rec.id, [device]))

    def run_to(minutes: float) -> None:
        clock.advance(start + timedelta(minutes=minutes) - clock.now())
        sim.step(1.0)
        sim.step(1.0)

    try:
        assert listener.wait_receipts(3)
        assert {svc.delivery(r.id, d).state for r, d in zip(records, devices)} == {DeliveryState.DELIVERED}
        run_to(1.5)
        run_to(11.5)  # entry 0 acked with everything up
        assert listener.wait_handled(3)

        listener.stop()  # GridRoom is down: the broker queues entry 1's acks for its session ...
        run_to(21.5)
        assert sim.schedule_client.wait_confirmed() and not sim.schedules.pending()  # ... confirmed to the devices
        restart(persistent_broker)  # ... and keeps them across its own restart

        listener = AckListener(config, svc.record_acks, session_id=session, reader_process=reader_process)
        listener.start()
        assert listener.wait_until(lambda: len(svc.execution_log()) == 6, 20)

        persistent_broker.kill()  # now the broker crashes while entry 2 ends: devices keep their acks
        run_to(31.5)
        assert len(sim.schedules.pending()) == 3
        persistent_broker.start()
        # Flushed by the devices on reconnect. The broker restores the queue it saved at its last shutdown, so
        # entry 1's acks may come again as duplicates: wait for the log, not for a count.
        assert listener.wait_until(lambda: len(svc.execution_log()) == 9, 20)

        log = svc.execution_log()
        assert sorted((e.device_id, e.ack.entry) for e in log) == [(d, i) for d in devices for i in range(3)]
        assert not svc.ack_rejects
        assert all(svc.get(r.id).state is ScheduleState.COMPLETED for r in records)
    finally:
        listener.stop()
        publisher.stop()
        sim.stop()


def test_a_batch_that_cannot_be_stored_is_retried_ack_by_ack(private_mosquitto, uid, clock, reader_process):
    """Storage refuses any batch holding one particular ack: the listener stores the others one by one and
    counts the one it could not store, instead of dropping the whole batch. (A private broker: on the shared
    one, other tests' acks would reach this listener too.)"""
    broker = private_mosquitto.config()
    stored: list[tuple[str, int]] = []
    poison = f"{uid}-bad"

    def storage(batch):
        if any(device_id == poison for device_id, _ in batch):
            raise ValueError("storage refuses this ack")
        stored.extend((device_id, ack.entry) for device_id, ack in batch)

    with listening(broker, storage, reader_process=reader_process) as (listener, peer):
        publish_acks(peer, [(d, entry_ack(clock.now())) for d in (f"{uid}-a", poison, f"{uid}-b")])
        assert listener.wait_handled(3)
        assert sorted(stored) == [(f"{uid}-a", 0), (f"{uid}-b", 0)] and listener.failed == 1


def test_the_ack_listener_speaks_mqtt_3_to_the_embedded_broker(uid, clock, reader_process):
    """The demo's embedded amqtt broker has no MQTT 5: configured so, the listener uses a 3.1.1 session."""
    from drivers.mqtt.embedded_broker import EmbeddedBroker

    embedded = EmbeddedBroker()
    config = BrokerConfig(host=embedded.host, port=embedded.start(), mqtt5=False)
    got = []
    try:
        with listening(config, got.extend, session_id=f"gridroom-acks-{uid}",
                       reader_process=reader_process) as (listener, peer):
            publish_acks(peer, [(f"{uid}-a", entry_ack(clock.now()))])
            assert listener.wait_handled(1)
            assert [(device_id, a.schedule_id) for device_id, a in got] == [(f"{uid}-a", "sch-1")]
    finally:
        embedded.stop()


def test_a_burst_larger_than_one_read_turn_reaches_the_handler_whole(private_mosquitto, uid, clock,
                                                                     reader_process):
    """The listener reads up to READ_PACKETS_PER_TURN packets per network-loop turn: a burst of twice that
    and one more (the broker's confirmations owed for each) arrives complete, each ack once."""
    broker = private_mosquitto.config()
    got: list[str] = []
    devices = [f"{uid}-{i:05d}" for i in range(2 * READ_PACKETS_PER_TURN + 1)]
    with listening(broker, lambda batch: got.extend(device_id for device_id, _ in batch),
                   reader_process=reader_process) as (listener, peer):
        publish_acks(peer, [(d, entry_ack(clock.now())) for d in devices])
        assert listener.wait_handled(len(devices), 30)
        assert sorted(got) == devices and listener.rejects == {}


def test_bad_ack_payloads_are_counted_by_reason_and_spare_the_good_ones(private_mosquitto, uid, clock,
                                                                         reader_process):
    """Malformed JSON, another schema version and a schedule sent to the ack topic are counted by reason; the
    good acks around them are all handled."""
    broker = private_mosquitto.config()
    got: list[str] = []
    at = clock.now()
    good = entry_ack(at)
    schedule = encode(schedule_payload("sch-1", 1, [ScheduleEntry(at, at + timedelta(minutes=5), Mode.CHARGE, 5.0)]))
    sent = [(f"{uid}-a", good), (f"{uid}-x", b"{not json"), (f"{uid}-y", good.replace(b'"v":1', b'"v":7')),
            (f"{uid}-z", schedule), (f"{uid}-b", good)]
    with listening(broker, lambda batch: got.extend(device_id for device_id, _ in batch),
                   reader_process=reader_process) as (listener, peer):
        publish_acks(peer, sent)
        assert listener.wait_until(lambda: listener.handled == 2 and sum(listener.rejects.values()) == 3)
        assert got == [f"{uid}-a", f"{uid}-b"]
        assert listener.rejects == {"malformed json": 1, "unsupported schema version": 1, "invalid payload": 1}


def test_a_reader_process_that_dies_is_started_again_and_loses_no_ack(private_mosquitto, uid, clock):
    """The reader process is killed; acks sent while its replacement starts wait in the persistent session and
    reach the handler, each once."""
    broker = private_mosquitto.config()
    got: list[str] = []
    with listening(broker, lambda batch: got.extend(device_id for device_id, _ in batch),
                   session_id=f"gridroom-acks-{uid}", reader_process=True) as (listener, peer):
        publish_acks(peer, [(f"{uid}-before", entry_ack(clock.now()))])
        assert listener.wait_handled(1)
        os.kill(listener.reader_pid, signal.SIGKILL)
        assert listener.wait_until(lambda: listener.reader_restarts == 1)
        # While the new reader connects (or just after): kept by the session either way.
        publish_acks(peer, [(f"{uid}-while-down-{i}", entry_ack(clock.now())) for i in range(5)])
        assert listener.wait_ready(30)
        assert listener.wait_handled(6, 30)
        assert sorted(got) == sorted([f"{uid}-before", *(f"{uid}-while-down-{i}" for i in range(5))])


def test_a_reader_process_that_cannot_run_says_why_and_is_retried_at_growing_intervals(tmp_path):
    """A certificate file that is not there: the reader process reports the error and ends, the listener logs it
    and starts it again (at once, then after a delay), and stop() does not wait out the delay."""
    broker = BrokerConfig(host="127.0.0.1", port=1, ca_path=str(tmp_path / "missing-ca.pem"))
    listener = AckListener(broker, lambda batch: None, reader_process=True)
    listener.start(wait=False)
    try:
        assert listener.wait_until(lambda: listener.reader_restarts >= 2, 30)
        assert "missing-ca.pem" in (listener.last_error or "")
        assert not listener.ready.is_set()
    finally:
        listener.stop()
    assert not listener._process.is_alive()
