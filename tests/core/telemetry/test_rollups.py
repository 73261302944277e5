"""Rollups, retention and history on SQLite and PostgreSQL, checked by hand on a small scripted series."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.telemetry import Retention, Rollups, TelemetryQueries, TelemetryQueryError, TelemetryWriter
from tests.core.telemetry.support import T0, cells, count, rows, sample

# (seconds after T0, power_kw); soc, voltage and temp climb by 1 per sample from 50 %, 800 V, 20 C.
SERIES = [(0, 10.0), (15, -20.0), (30, 30.0), (45, 40.0), (60, 0.0), (75, 100.0), (275, 5.0)]
HOLD_S = 30.0


def _write(db, clock, samples, cell_samples=()) -> None:
    writer = TelemetryWriter(db, clock=clock, flush_interval_s=3600)
    writer.submit_samples(samples)
    writer.submit_cells(list(cell_samples))
    assert writer.stop(timeout=30)


def _series():
    out = [
        sample("d1", at, power_kw=p, soc_pct=50.0 + i, voltage_v=800.0 + i, temp_c=20.0 + i)
        for i, (at, p) in enumerate(SERIES)
    ]
    return out + [sample("d2", 30, power_kw=-60.0, soc_pct=70.0)]


@pytest.fixture
def loaded(services, clock):
    _write(services.db, clock, _series(), [cells("d1", 0, 0, [3.7]), cells("d1", 0, 200, [3.8])])
    return services.db


def _by_bucket(db, table):
    return {(r["device_id"], (r["bucket_start_ms"] - int(T0.timestamp() * 1000)) // 1000): r for r in rows(db, table, ("device_id", "bucket_start_ms"))}


def test_minute_and_quarter_buckets_by_hand(loaded):
    report = Rollups(loaded, lateness=timedelta(minutes=2), max_hold_s=HOLD_S).run(now=T0 + timedelta(minutes=20))
    assert report.rolled_until == T0 + timedelta(minutes=18) and report.devices == 2
    m = _by_bucket(loaded, "telemetry_1m")
    assert sorted(m) == [("d1", 0), ("d1", 60), ("d1", 240), ("d2", 0)]
    b0 = m[("d1", 0)]
    assert b0["n"] == 4
    assert (b0["soc_pct_min"], b0["soc_pct_avg"], b0["soc_pct_max"]) == (50.0, 51.5, 53.0)
    assert (b0["power_kw_min"], b0["power_kw_avg"], b0["power_kw_max"]) == (-20.0, 15.0, 40.0)
    assert (b0["voltage_v_min"], b0["voltage_v_max"], b0["temp_c_avg"]) == (800.0, 803.0, 21.5)
    # Sample-and-hold: each sample's power until the next one, 15 s apart here.
    assert b0["energy_discharged_kwh"] == pytest.approx((10 + 30 + 40) * 15 / 3600)
    assert b0["energy_charged_kwh"] == pytest.approx(20 * 15 / 3600)
    b1 = m[("d1", 60)]
    assert (b1["n"], b1["power_kw_avg"]) == (2, 50.0)
    # 100 kW is followed by a 200 s gap: held for max_hold (30 s) only.
    assert b1["energy_discharged_kwh"] == pytest.approx(100 * HOLD_S / 3600)
    assert m[("d1", 240)]["energy_discharged_kwh"] == pytest.approx(5 * HOLD_S / 3600)  # last sample: max_hold
    assert m[("d2", 0)]["energy_charged_kwh"] == pytest.approx(60 * HOLD_S / 3600)
    q = _by_bucket(loaded, "telemetry_15m")
    assert sorted(q) == [("d1", 0), ("d2", 0)]
    q0 = q[("d1", 0)]
    assert q0["n"] == 7 and (q0["soc_pct_min"], q0["soc_pct_max"]) == (50.0, 56.0)
    assert q0["soc_pct_avg"] == pytest.approx(53.0)
    assert q0["power_kw_avg"] == pytest.approx(sum(p for _, p in SERIES) / 7)
    assert q0["energy_discharged_kwh"] == pytest.approx((1200 + 3000 + 150) / 3600)
    assert q0["energy_charged_kwh"] == pytest.approx(300 / 3600)


def test_incremental_runs_equal_one_run_and_reruns_change_nothing(loaded, services):
    rollups = Rollups(loaded, lateness=timedelta(0), max_hold_s=HOLD_S)
    first = rollups.run(now=T0 + timedelta(minutes=1))
    assert first.minute_buckets == 2 and first.quarter_buckets == 0  # minute 0 of d1 and d2 only
    rollups.run(now=T0 + timedelta(minutes=20))
    incremental = (rows(loaded, "telemetry_1m", ("device_id", "bucket_start_ms")), rows(loaded, "telemetry_15m", ("device_id",)))
    assert rollups.run(now=T0 + timedelta(minutes=20)).minute_buckets == 0
    rollups.rollup_window(T0, T0 + timedelta(minutes=20))
    rollups.rollup_window(T0, T0 + timedelta(minutes=20))
    again = (rows(loaded, "telemetry_1m", ("device_id", "bucket_start_ms")), rows(loaded, "telemetry_15m", ("device_id",)))
    assert again == incremental
    assert len(incremental[0]) == 4 and len(incremental[1]) == 2
    # Reference: one run over everything, with the same rules, in a fresh rollup.
    rollups_ref = Rollups(loaded, lateness=timedelta(0), max_hold_s=HOLD_S)
    with loaded.engine.begin() as conn:
        from core.telemetry.tables import rollup_marks, telemetry_1m, telemetry_15m

        for table in (telemetry_1m, telemetry_15m, rollup_marks):
            conn.execute(table.delete())
    rollups_ref.run(now=T0 + timedelta(minutes=20))
    assert rows(loaded, "telemetry_1m", ("device_id", "bucket_start_ms")) == incremental[0]


def test_a_late_sample_needs_rollup_window(loaded, clock):
    rollups = Rollups(loaded, lateness=timedelta(minutes=2), max_hold_s=HOLD_S)
    rollups.run(now=T0 + timedelta(minutes=20))
    _write(loaded, clock, [sample("d1", 90, power_kw=0.0, soc_pct=99.0)])
    rollups.run(now=T0 + timedelta(minutes=21))
    assert _by_bucket(loaded, "telemetry_1m")[("d1", 60)]["n"] == 2  # past the mark: not picked up
    rollups.rollup_window(T0, T0 + timedelta(minutes=5))
    late = _by_bucket(loaded, "telemetry_1m")[("d1", 60)]
    assert late["n"] == 3 and late["soc_pct_max"] == 99.0
    assert late["energy_discharged_kwh"] == pytest.approx(100 * 15 / 3600)  # 100 kW now held until t=90
    assert _by_bucket(loaded, "telemetry_15m")[("d1", 0)]["n"] == 8


def test_retention_waits_for_rollups_and_keeps_them(loaded):
    retention = Retention(loaded, raw_window=timedelta(days=7))
    nothing = retention.purge(now=T0 + timedelta(days=30))
    assert (nothing.cutoff, nothing.raw_rows, nothing.cell_rows) == (None, 0, 0)
    assert count(loaded, "telemetry_raw") == 8
    Rollups(loaded, lateness=timedelta(minutes=2), max_hold_s=HOLD_S).run(now=T0 + timedelta(minutes=20))
    kept_1m, kept_15m = rows(loaded, "telemetry_1m"), rows(loaded, "telemetry_15m")
    report = retention.purge(now=T0 + timedelta(days=7, minutes=3))
    assert report.cutoff == T0 + timedelta(minutes=3)
    assert (report.raw_rows, report.cell_rows) == (7, 1)
    assert [r["ts_ms"] for r in rows(loaded, "telemetry_raw")] == [int(T0.timestamp() * 1000) + 275_000]
    report = retention.purge(now=T0 + timedelta(days=30))
    assert report.cutoff == T0 + timedelta(minutes=18)  # never past what the rollup has covered
    assert count(loaded, "telemetry_raw") == 0 and count(loaded, "cell_samples") == 0
    assert rows(loaded, "telemetry_1m") == kept_1m and rows(loaded, "telemetry_15m") == kept_15m


def test_history_picks_resolution_and_returns_arrays(loaded):
    Rollups(loaded, lateness=timedelta(minutes=2), max_hold_s=HOLD_S).run(now=T0 + timedelta(minutes=20))
    queries = TelemetryQueries(loaded)
    raw = queries.history("d1", "soc_pct", T0, T0 + timedelta(minutes=10))
    assert raw.resolution == "raw" and len(raw) == 7
    assert list(raw.t_s - T0.timestamp()) == [at for at, _ in SERIES]
    assert list(raw.avg) == [50.0 + i for i in range(7)] and list(raw.min) == list(raw.max) == list(raw.avg)
    minute = queries.history("d1", "power_kw", T0, T0 + timedelta(minutes=10), resolution="1m")
    assert list(minute.t_s - T0.timestamp()) == [0, 60, 240]
    assert list(minute.max) == [40.0, 100.0, 5.0] and list(minute.min) == [-20.0, 0.0, 5.0]
    day = queries.history("d1", "temp_c", T0, T0 + timedelta(days=1))
    assert day.resolution == "1m"
    month = queries.history("d1", "temp_c", T0, T0 + timedelta(days=30))
    assert month.resolution == "15m" and len(month) == 1 and month.max[0] == 26.0
    Retention(loaded).purge(now=T0 + timedelta(days=30))
    assert queries.history("d1", "soc_pct", T0, T0 + timedelta(minutes=10)).resolution == "1m"  # raw is gone
    assert len(queries.history("ghost", "soc_pct", T0, T0 + timedelta(hours=1))) == 0
    with pytest.raises(TelemetryQueryError, match="current_a"):
        queries.history("d1", "current_a", T0, T0 + timedelta(days=2), resolution="1m")
    with pytest.raises(TelemetryQueryError, match="end after"):
        queries.history("d1", "soc_pct", T0, T0)
