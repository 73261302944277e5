"""Database growth for a day of telemetry (DESIGN.md target: 1,000 cells at 2 s for 24 h <= 300 MB).

Simulates, on a ManualClock (faster than real time):
- one battery system of 100 packs x 10 cells publishing every pack every 2 s (43,200 samples x 100 packs);
- 200 devices' telemetry every 5 s (17,280 samples x 200 devices);
written through TelemetryWriter into a fresh SQLite file, then rolled up. Values carry Gaussian sensor
noise (core/batteries/measurement.SensorNoise figures) around a per-cell spread (10 mV, 1.5 C), so the
stored codes are as varied as real readings. File size is measured after a WAL checkpoint (TRUNCATE),
after each phase. Cells and device telemetry are reported separately; ``per_day`` figures scale a shorter
run linearly to 24 h (use --hours 2 while iterating, the full day for the recorded result).

Cell storage (core/telemetry/cell_codec.py, cell_rows.py): one row per pack per sample; voltage 1 mV,
temperature 0.1 C in every row, SoC/SoH 0.01 % about once a minute; frame-of-reference packed.

    .venv/bin/python benchmarks/db_growth.py [--hours 24] [--out benchmarks/results/db_growth.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.clock import ManualClock  # noqa: E402
from core.fleet.samples import PackCellSample, TelemetrySample  # noqa: E402
from core.storage.database import Database  # noqa: E402
from core.telemetry import Rollups, TelemetryWriter  # noqa: E402

PACKS, CELLS = 100, 10
CELL_PERIOD_S, DEVICE_PERIOD_S = 2, 5
DEVICES = 200
TARGET_BYTES = 300 * 1024 * 1024  # read as MiB, the stricter reading would be 300e6 (also reported)
QUEUE_LIMIT = 200_000  # producer waits (on the writer's condition, not a sleep) above this many queued rows


def file_bytes(db: Database, path: Path) -> int:
    # Outside SQLAlchemy: its connections open every transaction with BEGIN IMMEDIATE, and a checkpoint
    # cannot run inside a transaction.
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def table_bytes(path: Path) -> dict[str, int]:
    """Bytes per table/index from SQLite's dbstat, when this SQLite build has it."""
    try:
        with sqlite3.connect(path) as conn:
            return {name: int(size) for name, size in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC")}
    except sqlite3.Error:
        return {}


def backpressure(writer: TelemetryWriter) -> None:
    if writer.stats().queued_rows > QUEUE_LIMIT:
        writer.wait_for_stats(lambda s: s.queued_rows < QUEUE_LIMIT // 2, timeout=600)


def run(hours: float) -> dict:
    seconds = int(hours * 3600)
    start = datetime(2026, 3, 2, tzinfo=timezone.utc)
    clock = ManualClock(start)
    rng = np.random.default_rng(2026)
    folder = Path(tempfile.mkdtemp(prefix="gridroom-dbgrowth-"))
    path = folder / "growth.sqlite3"
    db = Database.open(f"sqlite:///{path}")
    size_empty = file_bytes(db, path)
    writer = TelemetryWriter(db, max_batch=20_000, flush_interval_s=0.5)

    # Cells: a slowly moving base per cell plus sensor noise, as float32.
    base_v = rng.normal(3.70, 0.01, (PACKS, CELLS))
    base_t = rng.normal(28.0, 1.5, (PACKS, CELLS))
    base_soc = rng.normal(60.0, 1.0, (PACKS, CELLS))
    base_soh = rng.normal(96.0, 0.5, (PACKS, CELLS))
    t0 = time.perf_counter()
    cell_rows = 0
    for step in range(0, seconds, CELL_PERIOD_S):
        clock.advance(0 if step == 0 else CELL_PERIOD_S)
        now = clock.now()
        drift = 0.02 * np.sin(step / 3600.0)
        v = (base_v + drift + rng.normal(0, 0.001, base_v.shape)).astype(np.float32).tolist()
        t = (base_t + 10 * drift + rng.normal(0, 0.1, base_t.shape)).astype(np.float32).tolist()
        soc = (base_soc + 100 * drift + rng.normal(0, 0.2, base_soc.shape)).astype(np.float32).tolist()
        soh = (base_soh + rng.normal(0, 0.1, base_soh.shape)).astype(np.float32).tolist()
        current = rng.normal(50.0, 5.0, PACKS).tolist()
        writer.submit_cells(
            [
                PackCellSample("bs-0001", p, now, now, tuple(v[p]), tuple(t[p]), tuple(soc[p]), tuple(soh[p]), current[p])
                for p in range(PACKS)
            ]
        )
        cell_rows += PACKS
        backpressure(writer)
    assert writer.flush(timeout=600), writer.stats()
    cells_s = time.perf_counter() - t0
    size_cells = file_bytes(db, path)

    clock = ManualClock(start)
    ids = [f"bess-{i:04d}" for i in range(DEVICES)]
    soc0 = rng.uniform(20, 80, DEVICES)
    t0 = time.perf_counter()
    device_rows = 0
    for step in range(0, seconds, DEVICE_PERIOD_S):
        clock.advance(0 if step == 0 else DEVICE_PERIOD_S)
        now = clock.now()
        power = (500 * np.sin(step / 7200.0 + soc0 / 10) + rng.normal(0, 2, DEVICES)).tolist()
        soc = (soc0 + 10 * np.sin(step / 7200.0) + rng.normal(0, 0.2, DEVICES)).tolist()
        volt = rng.normal(800, 2, DEVICES).tolist()
        temp = rng.normal(30, 0.3, DEVICES).tolist()
        writer.submit_samples(
            [
                TelemetrySample(ids[i], now, now, soc[i], power[i], volt[i], power[i] * 1000 / volt[i], temp[i], 96.0, 1 if power[i] > 0 else 2)
                for i in range(DEVICES)
            ]
        )
        device_rows += DEVICES
        backpressure(writer)
    assert writer.flush(timeout=600), writer.stats()
    devices_s = time.perf_counter() - t0
    size_devices = file_bytes(db, path)
    stats = writer.stats()
    writer.stop(timeout=60)

    t0 = time.perf_counter()
    report = Rollups(db).run(now=start + timedelta(seconds=seconds) + timedelta(minutes=5))
    rollup_s = time.perf_counter() - t0
    size_rollups = file_bytes(db, path)
    tables = table_bytes(path)
    db.dispose()
    for f in folder.iterdir():
        f.unlink()
    folder.rmdir()

    cell_samples = cell_rows * CELLS
    cells_bytes = size_cells - size_empty
    device_bytes = size_devices - size_cells
    total = size_rollups - size_empty
    per_day = 24.0 / hours
    return {
        "benchmark": "db_growth",
        "hours": hours,
        "machine": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "cpus": os.cpu_count()},
        "cells": {
            "packs": PACKS, "cells_per_pack": CELLS, "period_s": CELL_PERIOD_S, "rows": cell_rows,
            "cell_samples": cell_samples, "growth_bytes": cells_bytes,
            "bytes_per_row": round(cells_bytes / cell_rows, 1),
            "bytes_per_cell_sample": round(cells_bytes / cell_samples, 2),
            "mb_per_day": round(cells_bytes * per_day / 1e6, 1),
            "mib_per_day": round(cells_bytes * per_day / 2**20, 1),
            "write_s": round(cells_s, 1), "rows_per_s": round(cell_rows / cells_s),
            "encoding": {
                "row": "one per pack per sample; key (device_key int, ts_ms, pack); SQLite WITHOUT ROWID",
                "voltage_v": "every row; uint16 codes of 1 mV (0..65.532 V); frame of reference (1 B/cell) when the pack spans <= 254 mV",
                "temp_c": "every row; uint16 codes of 0.1 C, bias 32768 (-3276.8..3276.4 C); frame of reference when the pack spans <= 25.4 C",
                "soc_pct_soh_pct": "0.01 % codes, stored every 60 s or on a 1 % move, NULL otherwise; queries carry them forward",
                "current": "integer, 10 mA steps",
                "missing": "NaN stored as a sentinel code, out-of-range as +-inf",
            },
        },
        "device_telemetry": {
            "devices": DEVICES, "period_s": DEVICE_PERIOD_S, "rows": device_rows,
            "growth_bytes": device_bytes,
            "bytes_per_row": round(device_bytes / device_rows, 1),
            "mb_per_day": round(device_bytes * per_day / 1e6, 1),
            "mib_per_day": round(device_bytes * per_day / 2**20, 1),
            "write_s": round(devices_s, 1), "rows_per_s": round(device_rows / devices_s),
        },
        "rollups": {
            "growth_bytes": size_rollups - size_devices, "minute_buckets": report.minute_buckets,
            "quarter_buckets": report.quarter_buckets, "run_s": round(rollup_s, 1),
        },
        "writer": {"commits": stats.commits, "failed_commits": stats.failed_commits, "max_queued_rows": stats.max_queued_rows},
        "table_bytes": tables,
        "total_growth_bytes": total,
        "total_growth_mb": round(total / 2**20, 1),
        "cells_growth_mb": round(cells_bytes / 2**20, 1),
        "target_mb": TARGET_BYTES // 2**20,
        "cells_per_day_mib": round(cells_bytes * per_day / 2**20, 1),
        "cells_meet_target": cells_bytes * per_day <= TARGET_BYTES,
        "cells_meet_target_decimal_mb": cells_bytes * per_day <= 300e6,
        "total_per_day_mib": round(total * per_day / 2**20, 1),
        "total_meets_target": total * per_day <= TARGET_BYTES,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results") / "db_growth.json")
    args = parser.parse_args()
    result = run(args.hours)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
