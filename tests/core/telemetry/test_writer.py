"""The storage writer on SQLite and PostgreSQL: exactly-once rows, flush, failures counted and survived."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import text

from core.fleet.counters import IngestCounters
from core.fleet.samples import StatusChange
from core.telemetry import TelemetryQueries, TelemetryQueryError, TelemetryWriter, WriterStopped
from core.telemetry.tables import telemetry_raw
from tests.core.telemetry.support import T0, cells, count, rows, sample

LONG = 3600.0  # a flush interval no test waits for: only flush()/stop() can make these writers write


@pytest.fixture
def db(services):
    return services.db


def test_two_threads_each_sample_lands_exactly_once(db, clock):
    counters = IngestCounters()
    writer = TelemetryWriter(db, counters=counters, clock=clock, flush_interval_s=LONG, max_batch=500)
    start = threading.Barrier(2)

    def produce(offset: int) -> None:
        start.wait(timeout=10)
        for i in range(0, 2000, 50):
            # Both threads send devices d0..d9, overlapping on half the timestamps: re-delivered duplicates.
            writer.submit_samples([sample(f"d{k % 10}", offset + i + k // 10, soc_pct=float(k)) for k in range(50)])

    threads = [threading.Thread(target=produce, args=(offset,)) for offset in (0, 1000)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert writer.flush(timeout=60)
    stats = writer.stats()
    assert stats.submitted_rows == 4000 and stats.committed_rows == 4000 and stats.queued_rows == 0
    assert stats.commits >= 8  # max_batch 500 forced batches while the producers ran
    stored = rows(db, "telemetry_raw", ("device_id", "ts_ms"))
    assert len(stored) == len({(r["device_id"], r["ts_ms"]) for r in stored}) == 3000  # 300 distinct timestamps x 10 devices
    assert counters.snapshot().last_write_latency_s >= 0.0
    assert writer.stop(timeout=10)


def test_flush_writes_now_and_waits_for_the_commit(db, clock):
    writer = TelemetryWriter(db, clock=clock, flush_interval_s=LONG)
    assert writer.flush(timeout=5)  # nothing submitted: true at once
    writer.submit_samples([sample("bess-1", 0, power_kw=12.5), sample("bess-1", 5, power_kw=-3.25)])
    assert count(db, "telemetry_raw") == 0  # not yet due
    assert writer.flush(timeout=30)
    stored = rows(db, "telemetry_raw", ("ts_ms",))
    assert [r["power_kw"] for r in stored] == [12.5, -3.25]
    assert stored[0]["ts_ms"] == int(T0.timestamp() * 1000)
    writer.submit_samples([sample("bess-1", 0, power_kw=99.0)])  # a re-delivery: ignored, not overwritten
    assert writer.flush(timeout=30)
    assert [r["power_kw"] for r in rows(db, "telemetry_raw", ("ts_ms",))] == [12.5, -3.25]
    assert writer.stop(timeout=10)


def test_stop_drains_the_queue_then_refuses_more(db, clock):
    writer = TelemetryWriter(db, clock=clock, flush_interval_s=LONG)
    writer.submit_samples([sample("bess-1", i) for i in range(100)])
    writer.submit_status([StatusChange("bess-1", False, "will", T0)])
    assert writer.stop(timeout=30)
    assert count(db, "telemetry_raw") == 100
    assert rows(db, "status_changes")[0]["reason"] == "will"
    with pytest.raises(WriterStopped):
        writer.submit_samples([sample("bess-1", 500)])


def test_invalid_rows_are_rejected_and_counted_not_fatal(db, clock):
    writer = TelemetryWriter(db, clock=clock, flush_interval_s=LONG)
    naive = sample("bess-1", 1)
    naive = type(naive)(**{**{f: getattr(naive, f) for f in naive.__slots__}, "ts": datetime(2026, 1, 1)})
    writer.submit_samples([
        sample("bess-1", 0), naive, sample("bess-1", 2, power_kw=float("inf")),
        sample("bess-1", 3, temp_c=float("nan")),  # no temperature sensor: stored with NULL, not refused
    ])
    assert writer.flush(timeout=30)
    stats = writer.stats()
    assert (stats.committed_rows, stats.rejected_rows) == (2, 2)
    assert count(db, "telemetry_raw") == 2
    with db.engine.connect() as conn:
        temps = conn.execute(text("SELECT temp_c FROM telemetry_raw ORDER BY ts_ms")).scalars().all()
    assert temps[1] is None
    assert writer.stop(timeout=10)


def _drop_raw(db) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE telemetry_raw"))


def _recreate_raw(db) -> None:
    telemetry_raw.create(db.engine)


def test_a_failing_database_is_counted_retried_and_nothing_is_lost(db, clock):
    counters = IngestCounters()
    writer = TelemetryWriter(db, counters=counters, clock=clock, flush_interval_s=LONG, max_attempts=1000, retry_backoff_s=(0.01, 0.05))
    writer.submit_samples([sample("bess-1", i) for i in range(10)])
    assert writer.flush(timeout=30)
    _drop_raw(db)
    writer.submit_samples([sample("bess-1", i) for i in range(10, 30)])
    writer.flush(timeout=0)  # ask for the write now, without waiting
    assert writer.wait_for_stats(lambda s: s.failed_commits >= 2, timeout=30)
    assert writer.alive and writer.stats().queued_rows == 20  # the failing batch is still held
    assert "telemetry_raw" in (writer.stats().last_error or "")
    _recreate_raw(db)
    assert writer.flush(timeout=30)
    assert count(db, "telemetry_raw") == 20  # the 10 before the drop went with the table; the 20 after all landed
    assert counters.snapshot().sink_errors == writer.stats().failed_commits >= 2
    assert writer.stop(timeout=10)


def test_after_max_attempts_rows_are_parked_counted_and_can_be_requeued(db, clock):
    writer = TelemetryWriter(db, clock=clock, flush_interval_s=LONG, max_attempts=2, retry_backoff_s=(0.01, 0.01))
    _drop_raw(db)
    writer.submit_samples([sample("bess-1", i) for i in range(25)])
    writer.submit_cells([cells("bs-1", 0, 0, [3.7, 3.71])])
    assert not writer.flush(timeout=30)  # resolved, but parked: not committed
    stats = writer.stats()
    assert (stats.parked_rows, stats.committed_rows, stats.failed_commits) == (26, 0, 2)
    writer.submit_cells([cells("bs-1", 0, 2, [3.7, 3.72])])  # newer data keeps flowing meanwhile
    assert not writer.flush(timeout=30)
    assert count(db, "cell_samples") == 1
    _recreate_raw(db)
    assert writer.requeue_parked() == 26
    assert writer.flush(timeout=30)
    assert count(db, "telemetry_raw") == 25 and count(db, "cell_samples") == 2
    assert writer.stats().parked_rows == 0
    assert writer.stop(timeout=10)


def _within(have: np.ndarray, want, step: float) -> bool:
    want = np.asarray(want, dtype=np.float64)
    have = have.astype(np.float64)
    same_special = np.array_equal(np.isnan(have), np.isnan(want)) and np.array_equal(np.isinf(have), np.isinf(want))
    ok = np.isfinite(want)
    return same_special and bool((np.abs(have[ok] - want[ok]) <= step / 2 + np.abs(want[ok]) * 2.0**-23).all())


def test_cell_arrays_round_trip_within_the_stored_resolution(db, clock):
    rng = np.random.default_rng(7)
    writer = TelemetryWriter(db, clock=clock, flush_interval_s=LONG)
    sent = {}
    for pack in range(5):
        arrays = [rng.normal(loc, sd, size=12) for loc, sd in ((3.7, 0.05), (25.0, 3.0), (55.0, 0.5), (97.0, 0.5))]
        if pack == 4:  # sensor faults survive as what they are, not as plausible numbers
            arrays[0][0], arrays[1][3] = np.inf, np.nan
        sent[pack] = arrays
        older = cells("bs-1", pack, 0, [0.0] * 12)
        newest = cells("bs-1", pack, 2, *[a.tolist() for a in arrays], current_a=-12.5 + pack)
        writer.submit_cells([older, newest])
    assert writer.flush(timeout=30)
    latest = TelemetryQueries(db).latest_cells("bs-1")
    assert sorted(latest) == list(range(5))
    for pack, arrays in sent.items():
        got = latest[pack]
        assert got.current_a == pytest.approx(-12.5 + pack) and got.ts.timestamp() == T0.timestamp() + 2
        have = (got.voltage_v, got.temp_c, got.soc_pct, got.soh_pct)
        assert all(h.dtype == np.dtype("<f4") and h.shape == (12,) for h in have)
        # 1 mV, 0.1 C, 0.01 %: SoC/SoH moved by ~5 % since t=0, so this row carries them too
        for want, h, step in zip(arrays, have, (0.001, 0.1, 0.01, 0.01)):
            assert _within(h, want, step), (pack, want, h)
    assert TelemetryQueries(db).latest_cells("nobody") == {}
    assert writer.stop(timeout=10)


def test_soc_and_soh_stored_once_a_minute_are_filled_in_by_the_queries(db, clock):
    writer = TelemetryWriter(db, clock=clock, flush_interval_s=LONG)
    # SoC creeps by 0.01 % per 2 s sample: below the change threshold, so only the minute marks store it.
    writer.submit_cells(
        [cells("bs-1", p, t, [3.7, 3.8], soc_pct=[60.0 + t / 200] * 2, soh_pct=[95.0, 96.0]) for t in range(0, 90, 2) for p in range(2)]
    )
    assert writer.flush(timeout=30)
    stored = rows(db, "cell_samples", ("ts_ms", "pack"))
    assert len(stored) == 90 and sum(r["soc_pct"] is not None for r in stored) == 4  # t = 0 and 60, two packs
    queries = TelemetryQueries(db)
    latest = queries.latest_cells("bs-1")
    assert latest[1].ts == T0 + timedelta(seconds=88)
    assert latest[1].soc_pct.tolist() == pytest.approx([60.3, 60.3])  # stored at t = 60
    assert latest[1].soh_pct.tolist() == pytest.approx([95.0, 96.0])
    history = queries.pack_history("bs-1", 1, T0 + timedelta(seconds=50), T0 + timedelta(seconds=70))
    assert list(history.t_s - T0.timestamp()) == list(range(50, 70, 2))
    assert history.voltage_v.shape == (10, 2) and history.voltage_v.tolist()[0] == pytest.approx([3.7, 3.8])
    # carried from t = 0 (before the range) until the row at t = 60
    assert history.soc_pct[:, 0].tolist() == pytest.approx([60.0] * 5 + [60.3] * 5)
    assert history.current_a.tolist() == pytest.approx([1.5] * 10)
    assert len(queries.pack_history("bs-1", 7, T0, T0 + timedelta(minutes=5))) == 0
    assert len(queries.pack_history("nobody", 0, T0, T0 + timedelta(minutes=5))) == 0
    with pytest.raises(TelemetryQueryError, match="end after"):
        queries.pack_history("bs-1", 0, T0, T0)
    assert writer.stop(timeout=10)


def test_device_keys_are_assigned_once_and_reused_by_a_new_writer(db, clock):
    first = TelemetryWriter(db, clock=clock, flush_interval_s=LONG)
    first.submit_cells([cells("bs-1", 0, 0, [3.7]), cells("bs-2", 0, 0, [3.6])])
    assert first.stop(timeout=30)
    second = TelemetryWriter(db, clock=clock, flush_interval_s=LONG)  # empty key cache
    second.submit_cells([cells("bs-2", 0, 2, [3.5]), cells("bs-3", 0, 2, [3.4])])
    assert second.stop(timeout=30)
    keys = {r["device_id"]: r["device_key"] for r in rows(db, "telemetry_device_keys")}
    assert sorted(keys) == ["bs-1", "bs-2", "bs-3"] and len(set(keys.values())) == 3
    assert [r["device_key"] for r in rows(db, "cell_samples", ("device_key", "ts_ms"))].count(keys["bs-2"]) == 2
    latest = TelemetryQueries(db).latest_cells("bs-2")
    assert latest[0].voltage_v.tolist() == pytest.approx([3.5]) and latest[0].ts == T0 + timedelta(seconds=2)
