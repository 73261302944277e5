"""Benchmark the battery models: one BatterySystem step of 1,000 cells (target: well under 1 ms),
its measurement, and one BessFleet step of 10,000 devices. Writes benchmarks/results/battery_step.json.

Run: .venv/bin/python benchmarks/battery_step.py [--repeats 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.batteries.battery_system import BatterySystem  # noqa: E402
from core.batteries.bess import BessFleet  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "battery_step.json"


def time_calls(fn: Callable[[], object], repeats: int, warmup: int = 100) -> dict[str, float]:
    """Per-call wall time in microseconds: median, p95, max over `repeats` calls."""
    for _ in range(warmup):
        fn()
    samples = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter()
        fn()
        samples[i] = time.perf_counter() - start
    samples *= 1e6
    return {
        "median_us": round(float(np.median(samples)), 1),
        "p95_us": round(float(np.percentile(samples, 95)), 1),
        "max_us": round(float(samples.max()), 1),
        "calls": repeats,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2000)
    args = parser.parse_args()

    system = BatterySystem(n_packs=100, cells_per_pack=10, seed=1)
    # Alternate charge and discharge around mid SoC so that thousands of steps never run the cells empty.
    toggle = {"sign": 1.0}

    def system_step_current() -> None:
        toggle["sign"] = -toggle["sign"]
        system.step(1.0, current_a=toggle["sign"] * 5000.0)

    def system_step_power() -> None:
        toggle["sign"] = -toggle["sign"]
        system.step(1.0, power_kw=toggle["sign"] * 150.0)

    fleet = BessFleet(10_000, seed=1)
    fleet.set_power_kw(slice(None), np.random.default_rng(0).uniform(-80.0, 80.0, 10_000))

    results = {
        "what": "core.batteries step cost (target: 1,000-cell system step well under 1 ms)",
        "when_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "numpy": np.__version__, "cpu": platform.machine(),
                    "cores": os.cpu_count(), "load_avg_1min_at_start": round(os.getloadavg()[0], 2)},
        "battery_system_1000_cells_step_current": time_calls(system_step_current, args.repeats),
        "battery_system_1000_cells_step_power": time_calls(system_step_power, args.repeats),
        "battery_system_1000_cells_measure": time_calls(system.measure, args.repeats),
        "bess_fleet_10000_devices_step": time_calls(lambda: fleet.step(1.0), args.repeats),
        "bess_fleet_10000_devices_measure": time_calls(fleet.measure, args.repeats),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
