"""Storing TimeSeries as UTC points and reading them back, with the duplicate rule in one place.

Duplicate rule: UPSERT. A point for a (series, interval start) that is already stored is replaced when the
new value differs and left alone when it is the same; the counts say which happened, so a second import
of the same file reports "0 inserted, N unchanged" and stores nothing twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import ensure_utc
from core.market.series import TimeSeries, datetime64_to_utc
from core.market.tables import MarketPointRow

DUPLICATE_RULE = "upsert: a point already stored for the same series and interval is replaced when its value differs"
_CHUNK = 2000  # bounded IN-lists / batches on both backends


@dataclass(frozen=True)
class StoreCounts:
    inserted: int = 0
    replaced: int = 0
    unchanged: int = 0
    skipped_missing: int = 0  # NaN values (gaps kept open by a reported rule) are not stored


def save_series(session: Session, series_key: str, series: TimeSeries, source: str,
                import_run_id: int | None) -> StoreCounts:
    """Upsert every non-missing interval of `series` under `series_key` in the caller's transaction."""
    starts = [datetime64_to_utc(s) for s in series.start_utc]
    values = [float(v) for v in series.values]
    inserted = replaced = unchanged = skipped = 0
    for first in range(0, len(starts), _CHUNK):
        chunk_starts = starts[first:first + _CHUNK]
        existing = {row.start_utc: row for row in session.execute(
            select(MarketPointRow).where(MarketPointRow.series == series_key,
                                         MarketPointRow.start_utc.in_(chunk_starts))).scalars()}
        for start, value in zip(chunk_starts, values[first:first + _CHUNK]):
            if math.isnan(value):
                skipped += 1
                continue
            row = existing.get(start)
            if row is None:
                session.add(MarketPointRow(series=series_key, start_utc=start, step_seconds=series.step_seconds,
                                           value=value, unit=series.unit, source=source, import_run_id=import_run_id))
                inserted += 1
            elif row.value == value and row.unit == series.unit and row.step_seconds == series.step_seconds:
                unchanged += 1
            else:
                row.value, row.unit, row.step_seconds = value, series.unit, series.step_seconds
                row.source, row.import_run_id = source, import_run_id
                replaced += 1
        session.flush()
    return StoreCounts(inserted, replaced, unchanged, skipped)


def load_series(session: Session, series_key: str, start: datetime, end: datetime, *, step: timedelta,
                unit: str) -> TimeSeries:
    """Stored points of `series_key` with start in [start, end) on the `step` grid from `start`, in `unit`.

    Intervals with no stored point are NaN (callers decide what a gap means). Points stored at another
    step are refused rather than silently mixed.
    """
    start, end = ensure_utc(start, "start"), ensure_utc(end, "end")
    step_s = int(step.total_seconds())
    n = max(0, int((end - start).total_seconds()) // step_s)
    values = np.full(n, np.nan)
    rows = session.execute(select(MarketPointRow).where(
        MarketPointRow.series == series_key, MarketPointRow.start_utc >= start, MarketPointRow.start_utc < end)
    ).scalars().all()
    units = {r.unit for r in rows}
    for row in rows:
        if row.step_seconds != step_s:
            raise ValueError(f"series {series_key!r} is stored at {row.step_seconds} s steps, not {step_s} s")
        offset = int((row.start_utc - start).total_seconds())
        if offset % step_s == 0:
            values[offset // step_s] = row.value
    stored_unit = units.pop() if len(units) == 1 else unit
    if units:
        raise ValueError(f"series {series_key!r} holds several units in this window")
    starts = np.datetime64(int(start.timestamp()), "s") + np.arange(n) * np.timedelta64(step_s, "s")
    series = TimeSeries(series_key, stored_unit, step, starts, values)
    return series.to_unit(unit)


def last_stored_start(session: Session, series_key: str) -> datetime | None:
    """Start of the newest stored interval of `series_key`, None when nothing is stored."""
    return session.execute(select(MarketPointRow.start_utc).where(MarketPointRow.series == series_key)
                           .order_by(MarketPointRow.start_utc.desc()).limit(1)).scalar_one_or_none()
