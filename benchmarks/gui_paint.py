"""GUI paint tick under load, offscreen: 10,000 devices and a 100 x 10 battery system updated at 1 Hz.

A generator thread writes one round of telemetry for every device and every pack into LiveState per
"second"; the GUI thread then runs one paint tick: fleet model refresh (one signal) + summary tiles,
battery heatmap + pack table + cell trend, device detail trends, and a synchronous repaint of the fleet
table, heatmap and charts. Rounds are handed over by events instead of waiting a wall-clock second, so the
measurement is the GUI work per data second, not idle time. Reports tick p50/p95/max and the GUI
thread's CPU time (time.thread_time) -> benchmarks/results/gui_paint.json.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_paint.py [--ticks 120] [--devices 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from core.batteries.battery_system import BatterySystem  # noqa: E402
from core.fleet.context import FleetContext  # noqa: E402
from core.fleet.live_state import LiveState  # noqa: E402
from core.fleet.samples import TelemetrySample  # noqa: E402
from core.runtime.runtime import Runtime  # noqa: E402
from desktop.theme import apply_theme  # noqa: E402
from desktop.views.battery_view import BatteryView  # noqa: E402
from desktop.views.device_detail_view import DeviceDetailView  # noqa: E402
from desktop.views.fleet_view import FleetView  # noqa: E402


class Generator(threading.Thread):
    """Writes one data second per request: every device's telemetry, then every pack's cells."""

    def __init__(self, live: LiveState, ids: list[str], system: BatterySystem) -> None:
        super().__init__(name="gui-bench-generator", daemon=True)
        self.live, self.ids, self.system = live, ids, system
        self.want, self.done, self.stop = threading.Event(), threading.Event(), False
        self.rng = np.random.default_rng(1)
        self.soc = self.rng.uniform(20, 90, len(ids))
        self.t = time.time()

    def run(self) -> None:
        while True:
            self.want.wait()
            self.want.clear()
            if self.stop:
                return
            self.t += 1.0
            self.soc = np.clip(self.soc + self.rng.normal(0, 0.2, len(self.ids)), 0, 100)
            power = self.rng.normal(0, 80, len(self.ids))
            stamp = datetime.fromtimestamp(self.t, timezone.utc)
            samples = [TelemetrySample(d, stamp, stamp, float(s), float(p), 760.0, p / 0.76, 27.0, 96.0, 1)
                       for d, s, p in zip(self.ids, self.soc, power)]
            self.live.apply_samples(samples, self.t)
            self.system.step(1.0, power_kw=250.0)
            m = self.system.measure()
            with self.live.batch() as writer:
                for pack in range(m.voltage_v.shape[0]):
                    writer.set_cells("bs-01", pack, m.voltage_v[pack], m.temp_c[pack], m.soc_pct[pack],
                                     m.soh_pct[pack], float(m.current_a[pack]), self.t)
            self.done.set()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ticks", type=int, default=120)
    parser.add_argument("--devices", type=int, default=10_000)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    apply_theme(app)
    live = LiveState(initial_capacity=args.devices + 1)
    ids = [f"bess-{i:05d}" for i in range(args.devices)]
    for i, device in enumerate(ids):
        live.register(device, name=f"Unit {i}", site=("Lille", "Arras", "Douai")[i % 3], capacity_kwh=500.0,
                      max_charge_kw=250.0, max_discharge_kw=250.0)
    live.register_battery_system("bs-01", 100, 10)
    fleet = FleetContext(live, battery_systems=("bs-01",))
    generator = Generator(live, ids, BatterySystem(100, 10, seed=2))
    generator.start()
    generator.want.set()
    generator.done.wait()
    generator.done.clear()

    settings = QSettings(str(Path(os.environ.get("TMPDIR", "/tmp")) / "gui_paint_bench.ini"), QSettings.Format.IniFormat)
    runtime = Runtime()
    fleet_view = FleetView(fleet, SimpleNamespace(username="bench"), settings, tick_ms=3_600_000)
    battery = BatteryView(fleet, tick_ms=3_600_000)
    detail = DeviceDetailView(fleet, runtime, SimpleNamespace(username="bench"), tick_ms=3_600_000)
    for widget, size in ((fleet_view, (1440, 860)), (battery, (1440, 860)), (detail, (1440, 860))):
        widget.resize(*size)
        widget.show()
    fleet_view.model.set_metadata(fleet_view.directory.describe_many(fleet_view.model.missing_metadata()))
    fleet_view.table.sortByColumn(4, Qt.SortOrder.DescendingOrder)  # by SoC, descending: the order changes every second (worst case)
    battery.select_cell(42, 7)
    detail.device_id = ids[123]  # what load_device sets, without its off-thread metadata lookup
    for chart in detail.charts.values():
        chart.timer.stop()
    battery.trend.timer.stop()

    durations, cpu = [], []
    for _ in range(args.ticks):
        generator.want.set()  # the next data second, written while the GUI is idle
        generator.done.wait()
        generator.done.clear()
        wall, thread_cpu = time.perf_counter(), time.thread_time()
        fleet_view.tick()
        battery.tick()
        detail.tick()
        for chart in (*detail.charts.values(), battery.trend):
            chart.paint()
        fleet_view.table.viewport().repaint()
        battery.heatmap.canvas.viewport().repaint()
        for chart in (*detail.charts.values(), battery.trend):
            chart.plot.viewport().repaint()
        durations.append((time.perf_counter() - wall) * 1000)
        cpu.append((time.thread_time() - thread_cpu) * 1000)
    generator.stop = True
    generator.want.set()

    d, c = np.array(durations), np.array(cpu)
    result = {
        "benchmark": "gui_paint",
        "what": "one GUI paint tick per data second: fleet model refresh + tiles, heatmap + pack table + cell "
                "trend, four device trends, synchronous repaint of table/heatmap/charts (offscreen)",
        "devices": args.devices, "cells": 1000, "ticks": args.ticks, "fleet_sorted_by": "SoC desc (re-sorted every tick)",
        "tick_ms": {"p50": round(float(np.percentile(d, 50)), 2), "p95": round(float(np.percentile(d, 95)), 2),
                    "max": round(float(d.max()), 2)},
        "gui_thread_cpu_ms_per_tick": {"p50": round(float(np.percentile(c, 50)), 2),
                                       "p95": round(float(np.percentile(c, 95)), 2), "mean": round(float(c.mean()), 2)},
        "target_p95_ms": 16.0,
        "meets_target": bool(np.percentile(d, 95) <= 16.0),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    out = Path(__file__).resolve().parent / "results" / "gui_paint.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
