"""Device usage history from the telemetry rollups: a device's average power per interval as a UTC TimeSeries.

The market and site data of the optimizer come from imports (prices, site load and PV); how a battery itself was
used comes from what it reported. Aggregated in SQL from the 15-minute rollup (never raw rows): per interval of
`step` the sample-weighted mean of the buckets' average power. Positive is discharge, as in telemetry.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, select

from core.clock import ensure_utc
from core.market.series import TimeSeries
from core.storage.database import Database
from core.telemetry.tables import telemetry_15m

ROLLUP_STEP = timedelta(minutes=15)


def usage_history(db: Database, device_id: str, start: datetime, end: datetime,
                  step: timedelta = timedelta(hours=1)) -> TimeSeries:
    """Mean power in kW of `device_id` per `step` in [start, end); NaN where it reported nothing."""
    start, end = ensure_utc(start, "start"), ensure_utc(end, "end")
    step_s = int(step.total_seconds())
    if step_s <= 0 or step_s % int(ROLLUP_STEP.total_seconds()):
        raise ValueError(f"usage history step must be a multiple of 15 minutes, got {step}")
    start_ms, step_ms = int(start.timestamp() * 1000), step_s * 1000
    n = max(0, int((end - start).total_seconds()) // step_s)
    t = telemetry_15m.c
    slot = (t.bucket_start_ms - start_ms) // step_ms
    weighted = func.sum(t.power_kw_avg * t.n) / func.sum(t.n)
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(slot.label("slot"), weighted.label("power_kw"))
            .where(t.device_id == device_id, t.bucket_start_ms >= start_ms, t.bucket_start_ms < start_ms + n * step_ms,
                   t.power_kw_avg.is_not(None))
            .group_by(slot)
        ).all()
    values = np.full(n, np.nan)
    for index, power in rows:
        if power is not None and 0 <= int(index) < n:
            values[int(index)] = float(power)
    starts = np.datetime64(int(start.timestamp()), "s") + np.arange(n) * np.timedelta64(step_s, "s")
    return TimeSeries(f"usage:{device_id}", "kW", step, starts, values)


def typical_day(history: TimeSeries, start: datetime, n: int) -> np.ndarray:
    """For n steps from `start`, the mean of `history` at the same time of day over the days it covers (NaN where
    it never reported at that time): what the device usually does, as a business-as-usual profile."""
    step_s = history.step_seconds
    per_day = 86_400 // step_s
    if 86_400 % step_s or len(history) == 0:
        return np.full(n, np.nan)
    first = int(history.start_utc[0].astype(np.int64))
    slot_of = ((first // step_s) % per_day + np.arange(len(history))) % per_day
    sums, counts = np.zeros(per_day), np.zeros(per_day)
    ok = ~np.isnan(history.values)
    np.add.at(sums, slot_of[ok], history.values[ok])
    np.add.at(counts, slot_of[ok], 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    wanted = ((int(ensure_utc(start, "start").timestamp()) // step_s) + np.arange(n)) % per_day
    return means[wanted]
