"""TelemetryIngest end to end against the real Mosquitto, with the simulator and paho as peers."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timezone

import paho.mqtt.client as mqtt
import pytest

from core.fleet import AvailabilityCode, LiveState
from drivers.mqtt.codec import RejectReason
from drivers.mqtt.device_sim import LAST_WILL_REASON, DeviceFleetSimulator, SimDevice
from drivers.mqtt.ingest import TelemetryIngest
from drivers.mqtt.sim_sources import RandomWalkSource, status_json, telemetry_json
from drivers.mqtt.topics import device_filter, status_topic, telemetry_topic

pytestmark = pytest.mark.mosquitto


class RecordingSource:
    """Random-walk values, remembering what was last published per device (as JSON rounds it)."""

    def __init__(self) -> None:
        self._walk = RandomWalkSource(seed=7)
        self.last: dict[str, dict[str, float]] = {}

    def __call__(self, device_id, now):
        values = self._walk(device_id, now)
        self.last[device_id] = {k: round(float(v), 3) for k, v in values.items()}
        return values


class SinkRecorder:
    def __init__(self) -> None:
        self.batches: list[list] = []
        self.lock = threading.Lock()

    def __call__(self, batch) -> None:
        with self.lock:
            self.batches.append(batch)

    def samples(self) -> list:
        with self.lock:
            return [s for batch in self.batches for s in batch]


def started_ingest(config, state, device_ids, **kwargs) -> TelemetryIngest:
    # Subscribe per device: the shared broker may carry other fleets' traffic, which must not count here.
    ingest = TelemetryIngest(config, state, filters=[device_filter(d) for d in device_ids], **kwargs)
    ingest.start()
    assert ingest.wait_subscribed(10), "ingest did not subscribe"
    return ingest


@pytest.mark.parametrize("flush_mode", ["thread", "inline"])
def test_thousand_messages_from_hundred_devices_reach_live_state_exactly(shared_broker, uid, flush_mode):
    devices = [f"{uid}-{i:03d}" for i in range(100)]
    state = LiveState()
    for device in devices:
        state.register(device)
    sink = SinkRecorder()
    ingest = started_ingest(shared_broker, state, devices, sink=sink, flush_mode=flush_mode, max_batch=256)
    source = RecordingSource()
    sim = DeviceFleetSimulator(shared_broker, devices, source=source)
    assert not sim.per_device_wills and sim.client_count() == 4
    try:
        sim.start()
        for _ in range(10):
            assert sim.publish_round() == 100
        # 100 online statuses + 1,000 telemetry messages
        assert ingest.wait_until(lambda c: c.decoded >= 1100, 20), ingest.counters.snapshot()
    finally:
        sim.stop()
        ingest.stop()
    counters = ingest.counters.snapshot()
    assert counters.rejected == 0 and counters.messages == counters.decoded + counters.ignored
    samples = sink.samples()
    assert len(samples) == 1000
    assert Counter(s.device_id for s in samples) == {d: 10 for d in devices}
    snap = state.snapshot()
    for device in devices:
        row = snap.row(device)
        expected = source.last[device]
        got = {name: float(getattr(snap, name)[row]) for name in expected}
        assert got == expected, device
        assert snap.availability[row] == AvailabilityCode.ONLINE
    assert all(s.ts.tzinfo is not None and s.received_at.tzinfo is not None for s in samples)


def test_bad_payloads_are_counted_per_reason_and_device_and_dropped(shared_broker, uid, caplog):
    good, bad = f"{uid}-good", f"{uid}-bad"
    state = LiveState()
    state.register(good)
    state.register(bad)
    ingest = started_ingest(shared_broker, state, [good, bad, f"{uid}-stranger"])
    sim = DeviceFleetSimulator(shared_broker, [good, bad, f"{uid}-stranger"])
    try:
        sim.start()
        kinds = ["malformed", "wrong_version", "out_of_range", "oversized", "missing_field", "extra_field"]
        for kind in kinds + kinds:
            sim.publish_bad(bad, kind)
        sim.publish_round()
        # 3 statuses (1 from the stranger) + 12 bad + 3 telemetry (1 from the stranger)
        assert ingest.wait_until(lambda c: c.messages >= 18, 20), ingest.counters.snapshot()
        assert ingest.degraded_devices() == frozenset()  # bad's telemetry arrived after its rejects
    finally:
        sim.stop()
        ingest.stop()
    counters = ingest.counters.snapshot()
    assert dict(counters.rejects_by_reason) == {
        RejectReason.MALFORMED: 2, RejectReason.UNSUPPORTED_VERSION: 2, RejectReason.OUT_OF_RANGE: 2,
        RejectReason.OVERSIZED: 2, RejectReason.INVALID: 4, RejectReason.UNKNOWN_DEVICE: 2,
    }
    assert counters.rejects_by_device[bad] == 12 and good not in counters.rejects_by_device
    snap = state.snapshot()
    assert snap.availability[snap.row(good)] == AvailabilityCode.ONLINE
    assert 0 <= snap.soh_pct[snap.row(bad)] <= 100  # only the good reading landed
    assert f"{uid}-stranger" not in state.device_ids
    degraded_logs = [r for r in caplog.records if "degraded" in r.getMessage() and bad in r.getMessage()]
    assert len(degraded_logs) == 1  # logged once per device, not per message


def test_a_last_will_flips_the_device_offline_and_reconnect_brings_it_back(shared_broker, uid):
    device = f"{uid}-solo"
    state = LiveState()
    state.register(device)
    ingest = started_ingest(shared_broker, state, [device])
    sim = DeviceFleetSimulator(shared_broker, [SimDevice(device, packs=2, cells=8)])
    state.register_battery_system(device, packs=2, cells=8)
    assert sim.per_device_wills
    try:
        sim.start()
        sim.publish_round()
        assert ingest.wait_until(lambda c: c.decoded >= 4, 10)  # status, telemetry, 2 cell packs
        assert state.snapshot().availability[0] == AvailabilityCode.ONLINE
        battery = state.battery_snapshot(device)
        assert not (battery.voltage_v != battery.voltage_v).any()  # every cell of both packs reported
        assert battery.pack_imbalance_v.shape == (2,) and (battery.pack_imbalance_v > 0).all()
        sim.drop_connection(device)  # no DISCONNECT: the broker publishes the will
        assert ingest.wait_until(lambda c: c.decoded >= 5, 10)
        assert state.snapshot().availability[0] == AvailabilityCode.OFFLINE
        assert state.offline_reason(device) == LAST_WILL_REASON
        # paho reconnects by itself and the simulator announces the device again
        assert ingest.wait_until(lambda c: c.decoded >= 6, 10)
        assert state.snapshot().availability[0] == AvailabilityCode.ONLINE
    finally:
        sim.stop()
        ingest.stop()


def test_take_offline_and_auto_registration(shared_broker, uid):
    devices = [f"{uid}-a", f"{uid}-b"]
    state = LiveState()
    ingest = started_ingest(shared_broker, state, devices, auto_register=True)
    sim = DeviceFleetSimulator(shared_broker, devices)
    try:
        sim.start()
        sim.take_offline(devices[1], reason="maintenance window")
        assert sim.publish_round() == 1
        assert ingest.wait_until(lambda c: c.decoded >= 4, 10)  # 2 online, 1 offline, 1 telemetry
    finally:
        sim.stop()
        ingest.stop()
    assert set(state.device_ids) == set(devices)
    snap = state.snapshot()
    assert snap.availability[snap.row(devices[0])] == AvailabilityCode.ONLINE
    assert snap.availability[snap.row(devices[1])] == AvailabilityCode.OFFLINE
    assert state.offline_reason(devices[1]) == "maintenance window"


def test_a_failing_sink_is_counted_and_live_state_still_updates(shared_broker, uid):
    device = f"{uid}-x"
    state = LiveState()
    state.register(device)

    def broken_sink(batch):
        raise RuntimeError("database is down")

    ingest = started_ingest(shared_broker, state, [device], sink=broken_sink)
    publisher = shared_broker.make_client(f"{uid}-pub")
    publisher.connect(shared_broker.host, shared_broker.port)
    publisher.loop_start()
    try:
        values = {"soc_pct": 42.0, "power_kw": 1.0, "voltage_v": 800.0, "current_a": 1.25, "temp_c": 20.0,
                  "soh_pct": 99.0, "mode": 1}
        for _ in range(3):
            publisher.publish(telemetry_topic(device), telemetry_json(datetime.now(timezone.utc), values), qos=1)
        assert ingest.wait_until(lambda c: c.decoded >= 3, 10)
    finally:
        publisher.publish(status_topic(device), b"", qos=1, retain=True).wait_for_publish(5)
        publisher.disconnect()
        publisher.loop_stop()
        ingest.stop()
    assert ingest.counters.snapshot().sink_errors >= 1
    assert state.snapshot().soc_pct[0] == 42.0


def test_an_empty_retained_status_is_ignored_not_rejected(shared_broker, uid):
    device = f"{uid}-gone"
    state = LiveState()
    state.register(device)
    ingest = started_ingest(shared_broker, state, [device])
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{uid}-pub")
    publisher.connect(shared_broker.host, shared_broker.port)
    publisher.loop_start()
    try:
        publisher.publish(status_topic(device), status_json(True), qos=1, retain=True).wait_for_publish(5)
        publisher.publish(status_topic(device), b"", qos=1, retain=True).wait_for_publish(5)
        assert ingest.wait_until(lambda c: c.messages >= 2, 10)
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        ingest.stop()
    counters = ingest.counters.snapshot()
    assert (counters.decoded, counters.ignored, counters.rejected) == (1, 1, 0)
