"""Time from launching `gridroom demo` to the main window on screen (offscreen), cold and warm.

`gridroom demo` also starts the embedded broker and the 216-device simulator and signs in (argon2), so this is
the whole demo start-up, an upper bound for plain `gridroom` after sign-in. Writes benchmarks/results/startup.json.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_start(data_dir: str) -> float:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "GRIDROOM_DATA_DIR": data_dir, "GRIDROOM_STARTUP_PROBE": "1"}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "gridroom", "demo"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    shown = None
    for line in proc.stdout:
        if "window shown" in line:
            shown = time.perf_counter() - started
            break
    proc.wait(60)
    if shown is None:
        raise RuntimeError("the window never came up")
    return shown


def main() -> None:
    data_dir = tempfile.mkdtemp(prefix="gridroom-bench-startup-")
    cold = one_start(data_dir)  # first run: creates and migrates the database, seeds the demo
    warm = [one_start(data_dir) for _ in range(5)]
    report = {
        "benchmark": "startup",
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_1m": round(os.getloadavg()[0], 2)},
        "what": "gridroom demo (embedded broker + simulator + demo sign-in) to main window shown, offscreen",
        "cold_s": round(cold, 3),
        "warm_s": [round(w, 3) for w in warm],
        "warm_median_s": round(statistics.median(warm), 3),
        "target_warm_s": 1.5,
    }
    out = ROOT / "benchmarks" / "results" / "startup.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
