"""Reading stored telemetry for charts and the device detail view: numpy arrays, epoch seconds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import Table, and_, func, select

from core.errors import GridRoomError
from core.storage.database import Database
from core.telemetry.cell_codec import decode_cells
from core.telemetry.tables import RAW_METRICS, ROLLUP_METRICS, cell_samples, telemetry_1m, telemetry_15m, telemetry_raw
from core.telemetry.timecodes import from_epoch_ms, to_epoch_ms

RESOLUTIONS = ("raw", "1m", "15m")
_ROLLUP_TABLES: dict[str, Table] = {"1m": telemetry_1m, "15m": telemetry_15m}


class TelemetryQueryError(GridRoomError):
    """A history request that cannot be answered as asked (unknown metric or resolution, bad range)."""


@dataclass(frozen=True)
class History:
    """One metric of one device over time. For raw rows min == avg == max == the sample value; for rollups
    t_s is each bucket's start."""

    resolution: str
    t_s: np.ndarray  # float64 epoch seconds, ascending
    min: np.ndarray
    avg: np.ndarray
    max: np.ndarray

    def __len__(self) -> int:
        return len(self.t_s)


@dataclass(frozen=True)
class PackCells:
    """The newest stored reading of one pack."""

    pack: int
    ts: datetime
    current_a: float
    voltage_v: np.ndarray  # float32, one value per cell
    temp_c: np.ndarray
    soc_pct: np.ndarray
    soh_pct: np.ndarray


class TelemetryQueries:
    """Read side; uses its own connections, never the writer's."""

    def __init__(
        self,
        db: Database,
        raw_max_span: timedelta = timedelta(hours=6),
        minute_max_span: timedelta = timedelta(days=7),
    ) -> None:
        self.db = db
        self.raw_max_span = raw_max_span
        self.minute_max_span = minute_max_span

    def pick_resolution(self, device_id: str, start: datetime, end: datetime) -> str:
        """Raw up to raw_max_span (if raw rows still reach back to start), 1m up to minute_max_span, else 15m.

        At the defaults a chart gets at most ~4,300 raw points (5 s samples), ~10,000 minutes or ~100 points per day.
        """
        span = end - start
        if span <= self.raw_max_span:
            with self.db.engine.connect() as conn:
                oldest = conn.execute(
                    select(func.min(telemetry_raw.c.ts_ms)).where(telemetry_raw.c.device_id == device_id)
                ).scalar()
            if oldest is not None and oldest <= to_epoch_ms(start):
                return "raw"
        return "1m" if span <= self.minute_max_span else "15m"

    def history(self, device_id: str, metric: str, start: datetime, end: datetime, resolution: str = "auto") -> History:
        """Samples or buckets of metric with start <= time < end, oldest first."""
        if end <= start:
            raise TelemetryQueryError(f"the range must end after it starts ({start.isoformat()} .. {end.isoformat()})")
        if resolution == "auto":
            resolution = self.pick_resolution(device_id, start, end)
        if resolution not in RESOLUTIONS:
            raise TelemetryQueryError(f"resolution must be auto, {', '.join(RESOLUTIONS)}; got {resolution!r}")
        allowed = RAW_METRICS if resolution == "raw" else ROLLUP_METRICS
        if metric not in allowed:
            raise TelemetryQueryError(f"{metric!r} at {resolution} resolution: choose one of {', '.join(allowed)}")
        s, e = to_epoch_ms(start), to_epoch_ms(end)
        if resolution == "raw":
            t = telemetry_raw
            stmt = select(t.c.ts_ms, t.c[metric], t.c[metric], t.c[metric]).where(
                t.c.device_id == device_id, t.c.ts_ms >= s, t.c.ts_ms < e
            ).order_by(t.c.ts_ms)
        else:
            t = _ROLLUP_TABLES[resolution]
            stmt = select(t.c.bucket_start_ms, t.c[f"{metric}_min"], t.c[f"{metric}_avg"], t.c[f"{metric}_max"]).where(
                t.c.device_id == device_id, t.c.bucket_start_ms >= s, t.c.bucket_start_ms < e
            ).order_by(t.c.bucket_start_ms)
        with self.db.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        data = np.array(rows, dtype=np.float64).reshape(len(rows), 4)
        return History(resolution, data[:, 0] / 1000.0, data[:, 1], data[:, 2], data[:, 3])

    def latest_cells(self, device_id: str, lookback: timedelta = timedelta(seconds=60)) -> dict[int, PackCells]:
        """The newest reading of each pack, by pack index. A pack with nothing within lookback of the device's
        newest cell row is left out (it has gone quiet; the live view shows that, not stale numbers)."""
        c = cell_samples
        with self.db.engine.connect() as conn:
            newest = conn.execute(select(func.max(c.c.ts_ms)).where(c.c.device_id == device_id)).scalar()
            if newest is None:
                return {}
            since = newest - int(lookback.total_seconds() * 1000)
            latest = (
                select(c.c.pack, func.max(c.c.ts_ms).label("ts_ms"))
                .where(c.c.device_id == device_id, c.c.ts_ms >= since)
                .group_by(c.c.pack)
                .subquery()
            )
            stmt = (
                select(c)
                .join(latest, and_(c.c.pack == latest.c.pack, c.c.ts_ms == latest.c.ts_ms))
                .where(c.c.device_id == device_id, c.c.ts_ms >= since)
                .order_by(c.c.pack)
            )
            rows = conn.execute(stmt).mappings().all()
        return {
            row["pack"]: PackCells(
                pack=row["pack"],
                ts=from_epoch_ms(row["ts_ms"]),
                current_a=row["current_a"],
                voltage_v=decode_cells(row["voltage_v"]),
                temp_c=decode_cells(row["temp_c"]),
                soc_pct=decode_cells(row["soc_pct"]),
                soh_pct=decode_cells(row["soh_pct"]),
            )
            for row in rows
        }
