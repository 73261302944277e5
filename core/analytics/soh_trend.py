"""State-of-health trend per device and local day, averaged in SQL.

SoH is not in the rollups (it moves a fraction of a percent per month, so min/avg/max per minute would only
repeat one number), so this one reads telemetry_raw, still as one GROUP BY per request. Raw rows are kept
for the retention window only: older days have no SoH point (shown as a gap, never as 0).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from core.analytics.devices import epoch_bounds, in_scope
from core.analytics.period import Period
from core.analytics.rollup_queries import day_index
from core.telemetry.tables import telemetry_raw


def daily_soh(conn: Connection, period: Period, device_ids: list[str]) -> dict[tuple[str, date], float]:
    """(device, local day) -> mean SoH of the day's samples that carry one."""
    if not device_ids:
        return {}
    r = telemetry_raw
    lo, hi = epoch_bounds(period.start, period.end)
    idx = day_index(r.c.ts_ms, period).label("day_idx")
    rows = conn.execute(
        select(r.c.device_id, idx, func.avg(r.c.soh_pct))
        .where(in_scope(r.c.device_id, device_ids), r.c.ts_ms >= lo, r.c.ts_ms < hi, r.c.soh_pct.is_not(None))
        .group_by(r.c.device_id, idx)
    ).all()
    days = period.days()
    return {(device_id, days[int(i)][0]): float(avg) for device_id, i, avg in rows}
