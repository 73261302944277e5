"""1-minute and 15-minute rollups of raw telemetry, computed in SQL.

How buckets are computed (the same on SQLite and PostgreSQL): time is stored as integer epoch
milliseconds, so a bucket start is the integer expression ``ts_ms - ts_ms % width_ms``. No date functions
(strftime / extract) are involved, and the result is exact.

What a bucket holds:
- n, and min / avg / max of soc_pct, power_kw, voltage_v, temp_c over the samples whose timestamp lies in
  [bucket_start, bucket_start + width). avg is the plain mean of the samples, not time-weighted.
- energy_discharged_kwh / energy_charged_kwh: power integrated by sample-and-hold. Each sample's power
  (positive = discharging) holds until the device's next sample, but for at most ``max_hold_s``; a sample
  with no successor holds for max_hold_s as well, so a data gap adds a bounded amount. Each sample's whole
  interval counts in the sample's own bucket (an interval straddling a boundary is not split).
- 15-minute buckets are derived from the 1-minute ones (min of mins, max of maxes, n-weighted mean, sums of
  energy), which gives exactly what a computation from raw rows would.

Rollups are incremental: ``run()`` rolls from the stored mark up to ``now - lateness`` (whole minutes),
then moves the mark; samples arriving later than ``lateness`` need ``rollup_window()``. Every write is
delete-then-insert of the affected buckets inside one transaction, so re-running a window is idempotent.
Queries run per device so each one is a range on the (device_id, ts_ms) primary key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, func, insert, select
from sqlalchemy.engine import Connection

from core.clock import Clock, SystemClock
from core.storage.database import Database
from core.telemetry.keys import distinct_device_ids
from core.telemetry.tables import ROLLUP_METRICS, rollup_marks, telemetry_1m, telemetry_15m, telemetry_raw
from core.telemetry.timecodes import MINUTE_MS, QUARTER_HOUR_MS, floor_ms, from_epoch_ms, to_epoch_ms

MARK_1M = "1m"
MARK_15M = "15m"
_MS_PER_HOUR = 3_600_000.0
_ROLLUP_COLUMNS = (
    ["device_id", "bucket_start_ms", "n"]
    + [f"{m}_{agg}" for m in ROLLUP_METRICS for agg in ("min", "avg", "max")]
    + ["energy_charged_kwh", "energy_discharged_kwh"]
)


@dataclass(frozen=True)
class RollupReport:
    devices: int
    minute_buckets: int  # 1-minute buckets (re)written
    quarter_buckets: int  # 15-minute buckets (re)written
    rolled_until: datetime | None  # raw rows before this are in the 1-minute rollup


def read_mark(conn: Connection, name: str) -> int | None:
    """Epoch ms up to which the named rollup is complete, or None before the first run."""
    return conn.execute(select(rollup_marks.c.done_until_ms).where(rollup_marks.c.name == name)).scalar()


def _write_mark(conn: Connection, name: str, done_until_ms: int) -> None:
    conn.execute(delete(rollup_marks).where(rollup_marks.c.name == name))
    conn.execute(insert(rollup_marks).values(name=name, done_until_ms=done_until_ms))


class Rollups:
    """Maintains telemetry_1m and telemetry_15m from telemetry_raw."""

    def __init__(
        self,
        db: Database,
        clock: Clock | None = None,
        lateness: timedelta = timedelta(minutes=2),
        max_hold_s: float = 60.0,
    ) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.lateness_ms = int(lateness.total_seconds() * 1000)
        self.max_hold_ms = int(max_hold_s * 1000)

    def run(self, now: datetime | None = None) -> RollupReport:
        """Roll up everything complete since the last run; one transaction."""
        target = floor_ms(to_epoch_ms(now or self.clock.now()) - self.lateness_ms, MINUTE_MS)
        with self.db.engine.begin() as conn:
            devices = distinct_device_ids(conn, telemetry_raw)
            start = read_mark(conn, MARK_1M)
            if start is None:
                start = self._first_raw_minute(conn, devices)
            minutes = 0
            if start is not None and start < target:
                minutes = sum(self._roll_minutes(conn, d, start, target) for d in devices)
                _write_mark(conn, MARK_1M, target)
            done_1m = read_mark(conn, MARK_1M)
            quarters = 0
            if done_1m is not None:
                q_start = read_mark(conn, MARK_15M)
                if q_start is None:
                    q_start = floor_ms(start if start is not None else done_1m, QUARTER_HOUR_MS)
                q_target = floor_ms(done_1m, QUARTER_HOUR_MS)
                if q_start < q_target:
                    quarter_devices = distinct_device_ids(conn, telemetry_1m)
                    quarters = sum(self._roll_quarters(conn, d, q_start, q_target) for d in quarter_devices)
                    _write_mark(conn, MARK_15M, q_target)
            return RollupReport(len(devices), minutes, quarters, from_epoch_ms(done_1m) if done_1m is not None else None)

    def rollup_window(self, start: datetime, end: datetime) -> RollupReport:
        """Recompute both rollups for [start, end), widened to whole quarter hours. Idempotent; marks untouched."""
        s = floor_ms(to_epoch_ms(start), QUARTER_HOUR_MS)
        e = -floor_ms(-to_epoch_ms(end), QUARTER_HOUR_MS)  # ceiling
        with self.db.engine.begin() as conn:
            devices = distinct_device_ids(conn, telemetry_raw)
            minutes = sum(self._roll_minutes(conn, d, s, e) for d in devices)
            quarters = sum(self._roll_quarters(conn, d, s, e) for d in distinct_device_ids(conn, telemetry_1m))
            mark = read_mark(conn, MARK_1M)
        return RollupReport(len(devices), minutes, quarters, from_epoch_ms(mark) if mark is not None else None)

    def rolled_until(self) -> datetime | None:
        with self.db.engine.connect() as conn:
            mark = read_mark(conn, MARK_1M)
        return from_epoch_ms(mark) if mark is not None else None

    # -- SQL -----------------------------------------------------------------------------------
    @staticmethod
    def _first_raw_minute(conn: Connection, devices: list[str]) -> int | None:
        firsts = [
            conn.execute(select(func.min(telemetry_raw.c.ts_ms)).where(telemetry_raw.c.device_id == d)).scalar()
            for d in devices
        ]
        firsts = [f for f in firsts if f is not None]
        return floor_ms(min(firsts), MINUTE_MS) if firsts else None

    def _roll_minutes(self, conn: Connection, device_id: str, start_ms: int, end_ms: int) -> int:
        r = telemetry_raw
        # The next sample may lie past the window's end: read up to max_hold beyond it.
        samples = (
            select(
                r.c.device_id,
                r.c.ts_ms,
                *(r.c[m] for m in ROLLUP_METRICS),
                func.lead(r.c.ts_ms).over(order_by=r.c.ts_ms).label("next_ts_ms"),
            )
            .where(r.c.device_id == device_id, r.c.ts_ms >= start_ms, r.c.ts_ms < end_ms + self.max_hold_ms)
            .subquery()
        )
        gap_ms = samples.c.next_ts_ms - samples.c.ts_ms
        hold_ms = case(
            (samples.c.next_ts_ms.is_(None), self.max_hold_ms),
            (gap_ms > self.max_hold_ms, self.max_hold_ms),
            else_=gap_ms,
        )
        power = samples.c.power_kw
        bucket = (samples.c.ts_ms - samples.c.ts_ms % MINUTE_MS).label("bucket_start_ms")
        aggregates = []
        for m in ROLLUP_METRICS:
            col = samples.c[m]
            aggregates += [func.min(col), func.avg(col), func.max(col)]
        rollup = (
            select(
                samples.c.device_id,
                bucket,
                func.count(),
                *aggregates,
                func.sum(case((power < 0, -power * hold_ms), else_=0.0)) / _MS_PER_HOUR,
                func.sum(case((power > 0, power * hold_ms), else_=0.0)) / _MS_PER_HOUR,
            )
            .where(samples.c.ts_ms < end_ms)
            .group_by(samples.c.device_id, bucket)
        )
        return self._replace(conn, telemetry_1m, device_id, start_ms, end_ms, rollup)

    def _roll_quarters(self, conn: Connection, device_id: str, start_ms: int, end_ms: int) -> int:
        m1 = telemetry_1m
        bucket = (m1.c.bucket_start_ms - m1.c.bucket_start_ms % QUARTER_HOUR_MS).label("bucket_start_ms")
        total = func.sum(m1.c.n)
        aggregates = []
        for m in ROLLUP_METRICS:
            aggregates += [func.min(m1.c[f"{m}_min"]), func.sum(m1.c[f"{m}_avg"] * m1.c.n) / total, func.max(m1.c[f"{m}_max"])]
        rollup = (
            select(
                m1.c.device_id,
                bucket,
                total,
                *aggregates,
                func.sum(m1.c.energy_charged_kwh),
                func.sum(m1.c.energy_discharged_kwh),
            )
            .where(m1.c.device_id == device_id, m1.c.bucket_start_ms >= start_ms, m1.c.bucket_start_ms < end_ms)
            .group_by(m1.c.device_id, bucket)
        )
        return self._replace(conn, telemetry_15m, device_id, start_ms, end_ms, rollup)

    @staticmethod
    def _replace(conn: Connection, table, device_id: str, start_ms: int, end_ms: int, rollup) -> int:
        """Delete the device's buckets in [start, end) and insert the recomputed ones (same transaction)."""
        in_window = and_(table.c.device_id == device_id, table.c.bucket_start_ms >= start_ms, table.c.bucket_start_ms < end_ms)
        conn.execute(delete(table).where(in_window))
        conn.execute(insert(table).from_select(_ROLLUP_COLUMNS, rollup))
        # Counted rather than read from rowcount: psycopg reports -1 for SQLAlchemy's INSERT ... SELECT.
        return conn.execute(select(func.count()).select_from(table).where(in_window)).scalar_one()
