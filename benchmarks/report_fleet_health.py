"""Benchmark: time to build the fleet-health PDF for 1,000 devices and two 1,000-cell battery systems
(median of 5 builds; data generation not included). Writes benchmarks/results/report_fleet_health.json.

Run: .venv/bin/python benchmarks/report_fleet_health.py [--devices 1000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import reportlab  # noqa: E402

from reports.demo_data import demo_fleet_health  # noqa: E402
from reports.fleet_health import build_pdf, write_csv, write_json  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "report_fleet_health.json"


def timed(fn, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    start = time.perf_counter()
    data = demo_fleet_health(args.devices)
    generate_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "fleet.pdf"
        build_pdf(data, pdf)  # warm-up: font metrics and module caches
        pdf_s = timed(lambda: build_pdf(data, pdf), args.repeats)
        csv_s = timed(lambda: write_csv(data, Path(tmp) / "fleet.csv"), args.repeats)
        json_s = timed(lambda: write_json(data, Path(tmp) / "fleet.json"), args.repeats)
        size = pdf.stat().st_size
    result = {
        "what": f"fleet-health report for {args.devices} devices + 2 battery systems of 1,000 cells",
        "when_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "reportlab": reportlab.Version, "cores": os.cpu_count(),
                    "load_avg_1min_at_start": round(load, 2)},
        "devices": args.devices,
        "repeats": args.repeats,
        "pdf_build_median_s": round(statistics.median(pdf_s), 3),
        "pdf_build_min_s": round(min(pdf_s), 3),
        "pdf_build_max_s": round(max(pdf_s), 3),
        "pdf_bytes": size,
        "csv_median_s": round(statistics.median(csv_s), 4),
        "json_median_s": round(statistics.median(json_s), 4),
        "demo_data_generation_s": round(generate_s, 3),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
