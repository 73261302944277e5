"""Benchmark: the default alarm rules over 10,000 devices and 1,000 cells at 1 Hz for 300 ticks.

Readings carry realistic noise (sensor noise, slow drift, a few devices going offline, a few hot cells
and low-SoC devices crossing thresholds) so the engine does real work: timers run, alarms raise and clear.
CPU time per evaluate() (time.process_time) -> benchmarks/results/alarm_engine.json.

Run: .venv/bin/python benchmarks/alarm_engine.py
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np

from core.alarms import AlarmEngine, BatterySystemSnapshot, FleetSnapshot, InMemoryAlarmStore, default_rules
from core.clock import ManualClock

DEVICES, PACKS, CELLS_PER_PACK, TICKS = 10_000, 100, 10, 300


def main() -> dict:
    rng = np.random.default_rng(2026)
    clock, store = ManualClock(), InMemoryAlarmStore()
    engine = AlarmEngine(default_rules(), clock, store)
    device_ids = tuple(f"dev{i:05d}" for i in range(DEVICES))
    soc = rng.uniform(8.0, 95.0, DEVICES)  # some start near the 10 % limit
    soc_rate = rng.normal(0.0, 0.02, DEVICES)  # % per s: charge/discharge drift
    dev_temp = rng.normal(30.0, 5.0, DEVICES)
    cell_v = rng.normal(3.30, 0.01, (PACKS, CELLS_PER_PACK))
    cell_t = rng.normal(30.0, 2.0, (PACKS, CELLS_PER_PACK))
    cell_t[3, 4] = 44.0  # a cell warming past 45 C during the run
    cell_v[7, 2] = 3.25  # a weak cell: pack 8 imbalance above 50 mV
    availability = np.zeros(DEVICES)
    flaky = rng.choice(DEVICES, 50, replace=False)  # devices whose link drops now and then

    cpu, wall = [], []
    transitions = 0
    for tick in range(TICKS):
        soc = np.clip(soc + soc_rate + rng.normal(0, 0.05, DEVICES), 0, 100)
        temps = dev_temp + rng.normal(0, 0.3, DEVICES)
        availability[:] = 0
        availability[flaky[rng.random(flaky.size) < 0.3]] = 2
        if tick > 100:
            cell_t[3, 4] += 0.02
        snapshot = FleetSnapshot(
            device_ids, soc, temps, availability,
            (BatterySystemSnapshot("bs1", cell_v + rng.normal(0, 0.002, cell_v.shape),
                                   cell_t + rng.normal(0, 0.3, cell_t.shape)),),
        )
        c0, w0 = time.process_time(), time.perf_counter()
        transitions += len(engine.evaluate(snapshot))
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        clock.advance(1.0)

    # Worst case: every device drops below the SoC limit at once (10,000 transitions in one tick).
    clock.advance(120.0)
    flood = FleetSnapshot(device_ids, np.zeros(DEVICES), dev_temp, np.zeros(DEVICES),
                          (BatterySystemSnapshot("bs1", cell_v, cell_t),))
    engine.evaluate(flood)  # starts the 60 s on-delay
    clock.advance(60.0)
    w0 = time.perf_counter()
    flood_transitions = len(engine.evaluate(flood))
    flood_ms = (time.perf_counter() - w0) * 1e3

    cpu_ms, wall_ms = np.array(cpu[1:]) * 1e3, np.array(wall[1:]) * 1e3  # tick 0 builds the layout
    result = {
        "benchmark": "alarm_engine.evaluate, default rules (15), 10,000 devices + 1,000 cells (100x10), 1 Hz",
        "ticks": TICKS,
        "first_tick_ms_wall": round(wall[0] * 1e3, 2),
        "cpu_ms_median": round(float(np.median(cpu_ms)), 3),
        "cpu_ms_p95": round(float(np.percentile(cpu_ms, 95)), 3),
        "wall_ms_median": round(float(np.median(wall_ms)), 3),
        "wall_ms_p95": round(float(np.percentile(wall_ms, 95)), 3),
        "wall_ms_max": round(float(wall_ms.max()), 3),
        "transitions_emitted": transitions,
        "flood_tick_transitions": flood_transitions,
        "flood_tick_ms_wall": round(flood_ms, 1),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "note": "process_time has ~1 ms granularity on some kernels; wall time measured alongside",
    }
    out = Path(__file__).parent / "results" / "alarm_engine.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
