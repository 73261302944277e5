"""Reading stored telemetry for charts and the device detail view: numpy arrays, epoch seconds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import Table, func, or_, select

from core.errors import GridRoomError
from core.storage.database import Database
from core.telemetry.cell_codec import decode_cells
from core.telemetry.cell_rows import CURRENT_STEP_A
from core.telemetry.keys import device_key
from core.telemetry.tables import RAW_METRICS, ROLLUP_METRICS, cell_samples, telemetry_1m, telemetry_15m, telemetry_raw
from core.telemetry.timecodes import MINUTE_MS, from_epoch_ms, to_epoch_ms

RESOLUTIONS = ("raw", "1m", "15m")
_ROLLUP_TABLES: dict[str, Table] = {"1m": telemetry_1m, "15m": telemetry_15m}
# How far back a pack's SoC/SoH are looked for (they are stored about once a minute, cell_rows.py); older
# than that they count as unknown (NaN) rather than scanning the device's whole history.
SLOW_LOOKBACK_MS = 5 * MINUTE_MS


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
    """The newest stored reading of one pack. Stored resolution (core/telemetry/cell_codec.py): 1 mV, 0.1 C,
    0.01 %, current 10 mA. soc_pct and soh_pct are the pack's newest stored ones (at most about a minute
    older than ts; NaN when none within SLOW_LOOKBACK_MS)."""

    pack: int
    ts: datetime
    current_a: float
    voltage_v: np.ndarray  # float32, one value per cell
    temp_c: np.ndarray
    soc_pct: np.ndarray
    soh_pct: np.ndarray


@dataclass(frozen=True)
class PackCellHistory:
    """One pack over time: arrays of shape (samples, cells), oldest first. SoC and SoH are carried forward
    from the newest stored row at or before each sample (NaN before the first one found)."""

    pack: int
    t_s: np.ndarray  # float64 epoch seconds
    current_a: np.ndarray  # float64
    voltage_v: np.ndarray  # float32
    temp_c: np.ndarray
    soc_pct: np.ndarray
    soh_pct: np.ndarray

    def __len__(self) -> int:
        return len(self.t_s)


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

    def latest_cells(self, device_id: str, lookback: timedelta = timedelta(seconds=60),
                     before: datetime | None = None) -> dict[int, PackCells]:
        """The newest reading of each pack, by pack index. A pack with nothing within lookback of the device's
        newest cell row is left out (it has gone quiet; the live view shows that, not stale numbers).

        `before`: only rows older than this instant count (a report's period end); None means every row."""
        c = cell_samples
        until = [] if before is None else [c.c.ts_ms < to_epoch_ms(before)]
        with self.db.engine.connect() as conn:
            key = device_key(conn, device_id)
            if key is None:
                return {}
            newest = conn.execute(select(func.max(c.c.ts_ms)).where(c.c.device_key == key, *until)).scalar()
            if newest is None:
                return {}
            since = newest - int(lookback.total_seconds() * 1000)
            # One short range of the key: the device's rows since the slow lookback; newest per pack wins.
            rows = conn.execute(
                select(c.c.pack, c.c.ts_ms, c.c.current_10ma, c.c.voltage_v, c.c.temp_c, c.c.soc_pct, c.c.soh_pct)
                .where(
                    c.c.device_key == key,
                    c.c.ts_ms >= min(since, newest - SLOW_LOOKBACK_MS),
                    *until,
                    or_(c.c.ts_ms >= since, c.c.soc_pct.is_not(None)),
                )
                .order_by(c.c.ts_ms, c.c.pack)
            ).all()
        latest: dict[int, tuple] = {}
        slow: dict[int, tuple[bytes, bytes]] = {}
        for row in rows:
            if row.soc_pct is not None:
                slow[row.pack] = (row.soc_pct, row.soh_pct)
            if row.ts_ms >= since:
                latest[row.pack] = row
        out = {}
        for pack in sorted(latest):
            row = latest[pack]
            voltage = decode_cells(row.voltage_v, "voltage_v")
            soc_blob, soh_blob = slow.get(pack, (None, None))
            out[pack] = PackCells(
                pack=pack,
                ts=from_epoch_ms(row.ts_ms),
                current_a=row.current_10ma * CURRENT_STEP_A,
                voltage_v=voltage,
                temp_c=decode_cells(row.temp_c, "temp_c"),
                soc_pct=_slow_values(soc_blob, "soc_pct", len(voltage)),
                soh_pct=_slow_values(soh_blob, "soh_pct", len(voltage)),
            )
        return out

    def pack_history(self, device_id: str, pack: int, start: datetime, end: datetime) -> PackCellHistory:
        """Every stored reading of one pack with start <= time < end, SoC/SoH carried forward.

        Reads every pack's rows of the range (the key is device, time, pack), so keep ranges to hours."""
        if end <= start:
            raise TelemetryQueryError(f"the range must end after it starts ({start.isoformat()} .. {end.isoformat()})")
        c = cell_samples
        s, e = to_epoch_ms(start), to_epoch_ms(end)
        with self.db.engine.connect() as conn:
            key = device_key(conn, device_id)
            rows = [] if key is None else conn.execute(
                select(c.c.ts_ms, c.c.current_10ma, c.c.voltage_v, c.c.temp_c, c.c.soc_pct, c.c.soh_pct)
                .where(c.c.device_key == key, c.c.pack == pack, c.c.ts_ms >= s - SLOW_LOOKBACK_MS, c.c.ts_ms < e)
                .order_by(c.c.ts_ms)
            ).all()
        width = max((len(decode_cells(r.voltage_v, "voltage_v")) for r in rows), default=0)
        t, current, arrays = [], [], {m: [] for m in ("voltage_v", "temp_c", "soc_pct", "soh_pct")}
        soc = soh = np.full(width, np.nan, dtype=np.float32)
        for r in rows:
            if r.soc_pct is not None:
                soc, soh = _slow_values(r.soc_pct, "soc_pct", width), _slow_values(r.soh_pct, "soh_pct", width)
            if r.ts_ms < s:
                continue  # read only for the SoC/SoH in force at start
            t.append(r.ts_ms / 1000.0)
            current.append(r.current_10ma * CURRENT_STEP_A)
            arrays["voltage_v"].append(_fit(decode_cells(r.voltage_v, "voltage_v"), width))
            arrays["temp_c"].append(_fit(decode_cells(r.temp_c, "temp_c"), width))
            arrays["soc_pct"].append(soc)
            arrays["soh_pct"].append(soh)
        stacked = {m: np.array(v, dtype=np.float32).reshape(len(t), width) for m, v in arrays.items()}
        return PackCellHistory(pack, np.array(t, dtype=np.float64), np.array(current, dtype=np.float64), **stacked)


def _fit(values: np.ndarray, width: int) -> np.ndarray:
    """values padded with NaN (or cut) to width cells: a pack whose cell count changed mid-range."""
    if len(values) == width:
        return values
    out = np.full(width, np.nan, dtype=np.float32)
    out[: min(width, len(values))] = values[:width]
    return out


def _slow_values(blob: bytes | None, metric: str, width: int) -> np.ndarray:
    if blob is None:
        return np.full(width, np.nan, dtype=np.float32)
    return _fit(decode_cells(blob, metric), width)
