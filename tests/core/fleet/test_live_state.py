"""LiveState: registry, batched writes and versions, snapshots, availability, cells, thread safety."""

from __future__ import annotations

import math
import threading
from datetime import datetime, timezone

import numpy as np
import pytest

from core.fleet import AvailabilityCode, IngestCounters, LiveState, TelemetrySample, UnknownDevice

T = datetime(2026, 1, 1, tzinfo=timezone.utc)


def sample(device_id: str, soc: float, mode: int = 1) -> TelemetrySample:
    return TelemetrySample(device_id, T, T, soc, 10.0, 800.0, 12.5, 25.0, 97.0, mode)


def test_rows_are_stable_while_columns_grow_by_doubling():
    state = LiveState(initial_capacity=2)
    rows = [state.register(f"d{i}", site="north") for i in range(9)]
    assert rows == list(range(9))
    state.apply_telemetry_batch([("d0", {"soc_pct": 11.0}), (8, {"soc_pct": 88.0})], seen_at=100.0)
    for i in range(9, 40):
        state.register(f"d{i}")
    snap = state.snapshot()
    assert snap.soc_pct[0] == 11.0 and snap.soc_pct[8] == 88.0 and np.isnan(snap.soc_pct[1])
    assert state.register("d3", site="south") == 3  # re-registering keeps the row and merges metadata
    assert state.meta("d3")["site"] == "south"
    assert len(snap.device_ids) == 40 and snap.row("d8") == 8


def test_one_version_per_batch_and_changed_rows_since():
    state = LiveState()
    for i in range(5):
        state.register(f"d{i}")
    v1 = state.apply_samples([sample("d1", 10), sample("d3", 30), sample("d1", 11)], seen_at=1.0)
    assert v1 == state.version == 1
    v2 = state.apply_telemetry_batch([("d4", {"power_kw": -5.0, "mode": 2})], seen_at=2.0)
    assert v2 == 2
    assert state.changed_rows_since(0).tolist() == [1, 3, 4]
    assert state.changed_rows_since(v1).tolist() == [4]
    assert state.changed_rows_since(v2).tolist() == []
    snap = state.snapshot()
    assert snap.soc_pct[1] == 11  # later sample of the same device in one batch wins
    assert snap.mode[4] == 2 and snap.mode.dtype == np.int8
    assert snap.changed_rows_since(v1).tolist() == [4]


def test_unknown_devices_and_columns_leave_state_untouched():
    state = LiveState()
    state.register("known")
    with pytest.raises(UnknownDevice):
        state.apply_telemetry_batch([("known", {"soc_pct": 1.0}), ("stranger", {"soc_pct": 2.0})], seen_at=1.0)
    with pytest.raises(UnknownDevice):
        state.apply_samples([sample("stranger", 5)], seen_at=1.0)
    assert math.isnan(state.snapshot().soc_pct[0])
    with pytest.raises(KeyError):
        state.apply_telemetry_batch([("known", {"soc": 1.0})], seen_at=1.0)


def test_snapshot_is_a_frozen_copy():
    state = LiveState()
    state.register("a")
    state.apply_telemetry_batch([("a", {"soc_pct": 40.0})], seen_at=1.0)
    snap = state.snapshot()
    state.apply_telemetry_batch([("a", {"soc_pct": 41.0})], seen_at=2.0)
    assert snap.soc_pct[0] == 40.0 and snap.version == 1
    with pytest.raises(ValueError):
        snap.soc_pct[0] = 0.0


def test_one_reading_of_one_device_without_a_snapshot():
    state = LiveState()
    state.register("a")
    state.register("quiet")
    state.apply_telemetry_batch([("a", {"soc_pct": 40.0})], seen_at=1.0)
    assert state.reading("a", "soc_pct") == 40.0
    assert math.isnan(state.reading("quiet", "soc_pct"))  # registered, nothing measured yet
    assert math.isnan(state.reading("stranger", "soc_pct"))
    with pytest.raises(KeyError):
        state.reading("a", "soc")


def test_availability_from_age_and_explicit_offline():
    state = LiveState()
    for name in ("fresh", "old", "ancient", "never", "willed"):
        state.register(name)
    state.apply_telemetry_batch([("fresh", {"soc_pct": 1.0})], seen_at=1000.0)
    state.apply_telemetry_batch([("old", {"soc_pct": 1.0}), ("willed", {"soc_pct": 1.0})], seen_at=960.0)
    state.apply_telemetry_batch([("ancient", {"soc_pct": 1.0})], seen_at=800.0)
    state.mark_offline("willed", reason="connection lost")
    assert state.refresh_availability(now=1000.0, stale_after_s=10, offline_after_s=120) == 2  # old, ancient
    snap = state.snapshot()
    assert snap.availability.tolist() == [
        AvailabilityCode.ONLINE, AvailabilityCode.STALE, AvailabilityCode.OFFLINE,
        AvailabilityCode.OFFLINE, AvailabilityCode.OFFLINE,
    ]
    assert state.offline_reason("willed") == "connection lost"
    assert state.refresh_availability(now=1000.0, stale_after_s=10, offline_after_s=120) == 0  # idempotent
    # The device speaks again: online, reason gone.
    state.apply_telemetry_batch([("willed", {"soc_pct": 2.0})], seen_at=1001.0)
    assert state.snapshot().availability[4] == AvailabilityCode.ONLINE
    assert state.offline_reason("willed") is None
    with pytest.raises(ValueError):
        state.refresh_availability(now=0, stale_after_s=10, offline_after_s=5)


def test_battery_system_cells_and_derived_figures():
    state = LiveState()
    row = state.register_battery_system("rack-1", packs=2, cells=3)
    assert state.row_of("rack-1") == row
    state.apply_cells("rack-1", 0, voltage_v=[3.30, 3.35, 3.32], temp_c=[20, 21, 22],
                      soc_pct=[50, 52, 54], soh_pct=[99, 97, 98], current_a=-12.0, seen_at=5.0)
    battery = state.battery_snapshot("rack-1")
    assert battery.voltage_v.shape == (2, 3)
    assert battery.pack_soc_pct[0] == pytest.approx(52.0) and np.isnan(battery.pack_soc_pct[1])
    assert battery.pack_soh_pct[0] == pytest.approx(98.0)
    assert battery.pack_imbalance_v[0] == pytest.approx(0.05)
    state.apply_cells("rack-1", 1, voltage_v=[3.40, 3.41, 3.42], temp_c=[20, 20, 20],
                      soc_pct=[60, 60, 60], soh_pct=[90, 90, 90])
    battery = state.battery_snapshot("rack-1")
    assert battery.system_imbalance_v == pytest.approx(0.12)
    assert battery.system_soc_pct == pytest.approx(56.0)
    assert battery.system_soh_pct == pytest.approx(94.0)
    assert state.changed_rows_since(0).tolist() == [row]
    with pytest.raises(ValueError):
        state.apply_cells("rack-1", 0, [3.3], [20], [50], [99])
    with pytest.raises(IndexError):
        state.apply_cells("rack-1", 2, [3.3] * 3, [20] * 3, [50] * 3, [99] * 3)
    state.register_battery_system("rack-1", packs=3, cells=3)  # grows packs, keeps readings
    grown = state.battery_snapshot("rack-1")
    assert grown.voltage_v.shape == (3, 3) and grown.voltage_v[1, 2] == pytest.approx(3.42)
    with pytest.raises(ValueError):
        state.register_battery_system("rack-1", packs=3, cells=4)


def test_concurrent_writers_and_readers_see_consistent_batches():
    """Each batch writes the same value to every device, so a torn read would show two values at once."""
    state = LiveState(initial_capacity=4)
    devices = [f"d{i}" for i in range(200)]
    for device in devices:
        state.register(device)
    errors: list[str] = []
    done = threading.Event()

    def writer() -> None:
        for value in range(1, 301):
            state.apply_samples([sample(d, float(value % 100)) for d in devices], seen_at=float(value))
        done.set()

    def reader() -> None:
        while not done.is_set():
            snap = state.snapshot()
            if len(set(snap.soc_pct.tolist())) > 1:
                errors.append(f"torn snapshot at version {snap.version}")
            if snap.version and not np.all(snap.last_seen == snap.version):
                errors.append(f"last_seen does not match version {snap.version}")

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors[:3]
    assert state.version == 300


def test_counters_are_consistent_across_threads():
    counters = IngestCounters()

    def work() -> None:
        for _ in range(1000):
            counters.record_batch(3, 2, [("value out of range", "d1")], queue_depth=5)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    snap = counters.snapshot()
    assert (snap.messages, snap.decoded, snap.rejected, snap.batches) == (12000, 8000, 4000, 4000)
    assert snap.rejects_by_reason == {"value out of range": 4000}
    assert snap.rejects_by_device == {"d1": 4000}
    assert snap.max_queue_depth == 5
