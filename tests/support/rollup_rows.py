"""A 15-minute rollup row for tests that seed telemetry_15m directly (power only; other metrics unknown)."""

from __future__ import annotations

from datetime import datetime

from core.telemetry.tables import ROLLUP_METRICS


def bucket(device_id: str, at: datetime, power_kw: float, n: int = 180) -> dict:
    row = {"device_id": device_id, "bucket_start_ms": int(at.timestamp() * 1000), "n": n,
           "energy_charged_kwh": 0.0, "energy_discharged_kwh": 0.0}
    row.update({f"{m}_{agg}": None for m in ROLLUP_METRICS for agg in ("min", "avg", "max")})
    row["power_kw_avg"] = power_kw
    return row
