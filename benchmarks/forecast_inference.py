"""Benchmark: P10/P50/P90 price forecasts for 1,000 devices x 96 quarter-hours with the shipped ONNX model.

Writes benchmarks/results/forecast_inference.json. Run: .venv/bin/python benchmarks/forecast_inference.py
Each device gets its own (synthetic, price-like) history so feature building is measured per device too.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.forecasting.default_model import load_default_price_model  # noqa: E402
from core.forecasting.features import build_features  # noqa: E402
from core.market.series import TimeSeries  # noqa: E402

DEVICES = 1000
ROWS = 96
REPEATS = 5


def main() -> None:
    model = load_default_price_model()
    schema = model.schema
    rng = np.random.default_rng(0)
    step = timedelta(seconds=schema.step_seconds)
    history_start = datetime(2024, 7, 1, tzinfo=timezone.utc)
    history_len = 8 * 24 * 3600 // schema.step_seconds
    starts = np.arange(history_len, dtype=np.int64) * schema.step_seconds + int(history_start.timestamp())
    # The shipped model is hourly; 96 rows = four days ahead at 1 h, or one day of quarter-hours served by repeat.
    target = starts[-1] + schema.step_seconds + np.arange(ROWS, dtype=np.int64) * (schema.step_seconds // 4)
    target = (target // schema.step_seconds * schema.step_seconds).astype("datetime64[s]")
    histories = [TimeSeries("p", "EUR/MWh", step, starts.astype("datetime64[s]"),
                            80 + 30 * np.sin(np.arange(history_len) / 24 * 2 * np.pi) + rng.normal(0, 10, history_len))
                 for _ in range(DEVICES)]
    load_t0 = time.perf_counter()
    load_default_price_model()
    load_s = time.perf_counter() - load_t0

    features_s, per_device_s, batched_s = [], [], []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        blocks = [build_features(schema, target, h) for h in histories]
        features_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for block in blocks:
            model.predict(block)
        per_device_s.append(time.perf_counter() - t0)
        stacked = np.vstack(blocks)
        t0 = time.perf_counter()
        forecast = model.predict(stacked)
        batched_s.append(time.perf_counter() - t0)
    assert forecast.p50.shape == (DEVICES * ROWS,) and np.all(forecast.p10 <= forecast.p90)
    result = {
        "what": f"{DEVICES} devices x {ROWS} rows x {len(schema.names)} features, P10/P50/P90 in one ONNX graph",
        "model_file_bytes": sum(p.stat().st_size for p in (Path(__file__).resolve().parents[1] / "resources" / "models").glob("*.onnx")),
        "model_load_s": round(load_s, 4),
        "feature_build_s_median": round(statistics.median(features_s), 4),
        "inference_per_device_calls_s_median": round(statistics.median(per_device_s), 4),
        "inference_one_batched_call_s_median": round(statistics.median(batched_s), 4),
        "rows_reordered_for_quantile_order": forecast.reordered_rows,
        "repeats": REPEATS,
        "onnxruntime_threads": 1,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    out = Path(__file__).resolve().parent / "results" / "forecast_inference.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
