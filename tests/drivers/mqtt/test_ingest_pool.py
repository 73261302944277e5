"""The telemetry ingest worker pool against a real (private) Mosquitto: worker processes on a shared
subscription, LiveState and the database fed from their batches, bad input counted, dead workers and a
restarted broker recovered from."""

from __future__ import annotations

import json
import os
import signal
import threading
from datetime import datetime, timedelta, timezone

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.fleet import LiveState
from core.telemetry.tables import telemetry_raw
from core.telemetry.writer import TelemetryWriter
from drivers.mqtt.codec import RejectReason
from drivers.mqtt.ingest_pool import TelemetryIngestPool
from drivers.mqtt.ingest_worker import TelemetryDecoder
from drivers.mqtt.topics import telemetry_topic

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)


def telemetry(ts: datetime, soc: float, **overrides) -> bytes:
    body = {"v": 1, "ts": ts.isoformat().replace("+00:00", "Z"), "soc_pct": soc, "power_kw": 1.5,
            "voltage_v": 800.0, "current_a": 2.0, "temp_c": 25.0, "soh_pct": 98.0, "mode": 1}
    return json.dumps({**body, **overrides}).encode()


class Publisher:
    """A plain paho client that publishes with QoS 1 and waits for each PUBACK (no sleeping)."""

    def __init__(self, config, uid: str) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{uid}-pub")
        connected = threading.Event()
        self.client.on_connect = lambda *args: connected.set()
        self.client.connect(config.host, config.port)
        self.client.loop_start()
        assert connected.wait(10)

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def rig(private_mosquitto, sqlite_services, uid):
    devices = [f"{uid}-{i}" for i in range(10)]
    state = LiveState()
    for device in devices:
        state.register(device)
    writer = TelemetryWriter(sqlite_services.db, flush_interval_s=0.2)
    pool = TelemetryIngestPool(private_mosquitto.config(), state, workers=2, row_sink=writer.submit_rows)
    pool.start()
    publisher = Publisher(private_mosquitto.config(), uid)
    try:
        assert pool.wait_subscribed(60)
        yield devices, state, writer, pool, publisher, sqlite_services.db
    finally:
        publisher.close()
        pool.stop()
        writer.stop(10)


def stored_rows(db, writer) -> int:
    assert writer.flush(20)
    with db.session() as s:
        return s.execute(select(func.count()).select_from(telemetry_raw)).scalar()


def test_workers_feed_live_state_and_storage_and_count_bad_input(rig, uid):
    devices, state, writer, pool, publisher, db = rig
    for round_ in range(5):
        for i, device in enumerate(devices):
            publisher.publish(telemetry_topic(device), telemetry(T0 + timedelta(seconds=round_), 10.0 * round_ + i))
    # Two workers may apply their batches in any order, so the bad messages go after the good ones have landed:
    # "degraded" means "the latest message handled was bad".
    assert pool.wait_until(lambda c: c.decoded >= 50, 30)
    publisher.publish(telemetry_topic(f"{uid}-stranger"), telemetry(T0, 50.0))
    publisher.publish(telemetry_topic(devices[0]), b"{not json")
    publisher.publish(telemetry_topic(devices[1]), telemetry(T0 + timedelta(seconds=9), 50.0, v=2))
    publisher.publish(telemetry_topic(devices[2]), telemetry(T0 + timedelta(seconds=9), 150.0))

    assert pool.wait_until(lambda c: c.messages >= 54, 30)
    counters = pool.counters.snapshot()
    assert (counters.messages, counters.decoded, counters.rejected) == (54, 50, 4)
    assert counters.rejects_by_reason == {RejectReason.UNKNOWN_DEVICE: 1, RejectReason.MALFORMED: 1,
                                          RejectReason.UNSUPPORTED_VERSION: 1, RejectReason.OUT_OF_RANGE: 1}
    assert pool.degraded_devices() == {devices[0], devices[1], devices[2]}

    snap = state.snapshot()
    for i, device in enumerate(devices):  # the newest round, whichever worker held it
        assert snap.soc_pct[snap.row(device)] == pytest.approx(40.0 + i)
        assert snap.measured_at[snap.row(device)] == (T0 + timedelta(seconds=4)).timestamp()
    assert stored_rows(db, writer) == 50

    publisher.publish(telemetry_topic(devices[0]), telemetry(T0 + timedelta(seconds=5), 60.0))
    assert pool.wait_until(lambda c: c.decoded >= 51, 30)
    assert devices[0] not in pool.degraded_devices()  # a good message clears it


def test_a_dead_worker_is_replaced_and_ingest_goes_on(rig):
    devices, state, writer, pool, publisher, db = rig
    os.kill(pool.worker_pids()[0], signal.SIGKILL)
    assert pool.wait_restarts(1, 30)
    assert pool.wait_subscribed(60)
    for i, device in enumerate(devices):
        publisher.publish(telemetry_topic(device), telemetry(T0, 20.0 + i))
    assert pool.wait_until(lambda c: c.decoded >= len(devices), 30)
    assert stored_rows(db, writer) == len(devices)


def test_workers_resubscribe_after_a_broker_restart(rig, private_mosquitto, uid):
    devices, state, writer, pool, publisher, db = rig
    publisher.publish(telemetry_topic(devices[0]), telemetry(T0, 10.0))
    assert pool.wait_until(lambda c: c.decoded >= 1, 30)
    assert stored_rows(db, writer) == 1
    publisher.close()

    private_mosquitto.kill()
    assert pool.wait_disconnected(30)  # every worker noticed, so the next "subscribed" is a fresh one
    private_mosquitto.start()
    assert pool.wait_subscribed(60)
    again = Publisher(private_mosquitto.config(), uid + "b")
    try:
        again.publish(telemetry_topic(devices[1]), telemetry(T0 + timedelta(seconds=1), 11.0))
        assert pool.wait_until(lambda c: c.decoded >= 2, 30)
    finally:
        again.close()
    assert stored_rows(db, writer) == 2  # the row committed before the restart is still there


@settings(max_examples=200, deadline=None)
@given(events=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 50), st.floats(0, 100)), min_size=1, max_size=40),
       split=st.integers(0, 40))
def test_set_arrays_keeps_the_newest_measurement_per_device_in_any_arrival_order(events, split):
    state = LiveState()
    for i in range(5):
        state.register(f"d{i}")
    # Two batches, as two workers might deliver them, each in arbitrary order.
    for part in (events[:split], events[split:]):
        if not part:
            continue
        rows = np.array([e[0] for e in part], dtype=np.int64)
        stamps = np.array([float(e[1]) for e in part])
        with state.batch() as w:
            w.set_arrays(rows, stamps, {"soc_pct": np.array([e[2] for e in part])}, seen_at=1.0)
    snap = state.snapshot()
    for device in range(5):
        mine = [e for e in events if e[0] == device]
        if not mine:
            assert np.isnan(snap.measured_at[device])
            continue
        newest = max(e[1] for e in mine)
        assert snap.measured_at[device] == newest
        assert snap.soc_pct[device] in {e[2] for e in mine if e[1] == newest}


@settings(max_examples=300, deadline=None)
@given(topic=st.text(max_size=80), payload=st.binary(max_size=300))
def test_the_worker_decoder_rejects_junk_with_a_reason_and_never_raises(topic, payload):
    batch = TelemetryDecoder().decode([(topic, payload)])
    assert batch.messages == 1
    assert len(batch.device_ids) + len(batch.rejects) == 1
    for reason, _device, detail in batch.rejects:
        assert reason and detail


def test_the_worker_decoder_turns_valid_telemetry_into_columns():
    batch = TelemetryDecoder().decode([(telemetry_topic("bess-1"), telemetry(T0, 42.5))])
    assert batch.device_ids == ["bess-1"] and batch.rejects == []
    assert batch.measured_at_ms.tolist() == [int(T0.timestamp() * 1000)]
    assert batch.values.tolist() == [[42.5, 1.5, 800.0, 2.0, 25.0, 98.0, 1.0]]
