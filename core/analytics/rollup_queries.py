"""Energy, state of charge and availability aggregated in SQL from the telemetry rollups.

Every query is one GROUP BY over a primary-key range of a rollup table and returns a few rows per device
(one per day, or one per price step): raw rows never travel to Python. The same SQL runs on SQLite and
PostgreSQL: times are integer epoch ms, and a row's local day is found with a CASE over the day bounds
(exact across DST changes, where adding a fixed offset would be an hour off).

- Energy and SoC come from the 15-minute rollup (what is kept long). A quarter hour that is not rolled up
  yet is not counted.
- Availability is sample coverage from the 1-minute rollup: a device counts as available in a minute when
  it delivered at least one sample in it. This is what the data proves; an online flag without samples
  (status_changes) would count a device that reports "online" but sends nothing as available.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection

from core.analytics.devices import epoch_bounds, in_scope
from core.analytics.model import PriceSeries
from core.analytics.period import Period
from core.telemetry.tables import telemetry_1m, telemetry_15m
from core.telemetry.timecodes import MINUTE_MS, from_epoch_ms, to_epoch_ms


def day_index(column, period: Period):
    """SQL: the index into period.days() of the local day holding `column` (epoch ms within the period)."""
    whens = [(column < to_epoch_ms(hi), i) for i, (_day, _lo, hi) in enumerate(period.days())]
    return case(*whens, else_=None)


def daily_energy_and_soc(conn: Connection, period: Period, device_ids: list[str]) -> dict[tuple[str, date], dict]:
    """(device, local day) -> charged_kwh, discharged_kwh, soc min / sample-weighted avg / max."""
    if not device_ids:
        return {}
    t = telemetry_15m
    lo, hi = epoch_bounds(period.start, period.end)
    idx = day_index(t.c.bucket_start_ms, period).label("day_idx")
    soc_n = case((t.c.soc_pct_avg.is_not(None), t.c.n), else_=0)
    rows = conn.execute(
        select(t.c.device_id, idx,
               func.sum(t.c.energy_charged_kwh), func.sum(t.c.energy_discharged_kwh),
               func.min(t.c.soc_pct_min), func.sum(t.c.soc_pct_avg * soc_n), func.sum(soc_n), func.max(t.c.soc_pct_max))
        .where(in_scope(t.c.device_id, device_ids), t.c.bucket_start_ms >= lo, t.c.bucket_start_ms < hi)
        .group_by(t.c.device_id, idx)
    ).all()
    days = period.days()
    out = {}
    for device_id, i, charged, discharged, soc_min, soc_weighted, soc_samples, soc_max in rows:
        out[(device_id, days[int(i)][0])] = {
            "charged_kwh": float(charged or 0.0), "discharged_kwh": float(discharged or 0.0),
            "soc_min_pct": soc_min, "soc_avg_pct": float(soc_weighted) / float(soc_samples) if soc_samples else None,
            "soc_max_pct": soc_max,
        }
    return out


def available_minutes(conn: Connection, period: Period, device_ids: list[str], until: datetime) -> dict[str, int]:
    """device -> minutes of [period.start, min(period.end, until)) in which it delivered a sample."""
    if not device_ids:
        return {}
    t = telemetry_1m
    lo, hi = epoch_bounds(period.start, min(period.end, until))
    rows = conn.execute(
        select(t.c.device_id, func.count())
        .where(in_scope(t.c.device_id, device_ids), t.c.bucket_start_ms >= lo, t.c.bucket_start_ms < hi, t.c.n > 0)
        .group_by(t.c.device_id)
    ).all()
    return {device_id: int(count) for device_id, count in rows}


def period_minutes(period: Period, until: datetime) -> int:
    """Whole minutes of the period that have passed by `until` (the denominator of availability)."""
    lo, hi = epoch_bounds(period.start, min(period.end, until))
    return max(0, (hi - lo) // MINUTE_MS)


def priced_energy(conn: Connection, period: Period, device_ids: list[str], prices: PriceSeries,
                  column: str) -> tuple[dict[str, float], float]:
    """device -> sum of energy (charged or discharged `column`) times the price of its step, and the energy
    that fell outside the series or in a step without a price (None). SQL sums the energy per device per price step; the multiplication by a
    handful of prices per day happens here."""
    if not device_ids:
        return {}, 0.0
    t = telemetry_15m
    lo, hi = epoch_bounds(period.start, period.end)
    p0, step = to_epoch_ms(prices.start), int(prices.step.total_seconds() * 1000)
    # The start of the price step holding the bucket: offset arithmetic on integers (no division operator,
    # whose integer semantics differ between dialects).
    step_start = (t.c.bucket_start_ms - (t.c.bucket_start_ms - p0) % step).label("step_start_ms")
    energy = t.c[column]
    in_series = (t.c.bucket_start_ms >= p0) & (t.c.bucket_start_ms < to_epoch_ms(prices.end))
    rows = conn.execute(
        select(t.c.device_id, step_start, func.sum(energy))
        .where(in_scope(t.c.device_id, device_ids), t.c.bucket_start_ms >= lo, t.c.bucket_start_ms < hi, in_series)
        .group_by(t.c.device_id, step_start)
    ).all()
    money: dict[str, float] = defaultdict(float)
    no_price = 0.0  # energy in steps of the series that hold no price (hours the store lacks)
    for device_id, start_ms, kwh in rows:
        price = prices.prices_per_kwh[(int(start_ms) - p0) // step]
        if price is None:
            no_price += float(kwh or 0.0)
        else:
            money[device_id] += float(kwh or 0.0) * price
    outside = conn.execute(
        select(func.coalesce(func.sum(energy), 0.0))
        .where(in_scope(t.c.device_id, device_ids), t.c.bucket_start_ms >= lo, t.c.bucket_start_ms < hi, ~in_series)
    ).scalar_one()
    return dict(money), float(outside) + no_price


def newest_rollup_before(conn: Connection, device_ids: list[str], before: datetime) -> dict[str, dict]:
    """device -> its newest 15-minute bucket that starts before `before` (time, soc avg), for fleet state."""
    if not device_ids:
        return {}
    t = telemetry_15m
    newest = (select(t.c.device_id, func.max(t.c.bucket_start_ms).label("ms"))
              .where(in_scope(t.c.device_id, device_ids), t.c.bucket_start_ms < to_epoch_ms(before))
              .group_by(t.c.device_id).subquery())
    rows = conn.execute(
        select(t.c.device_id, t.c.bucket_start_ms, t.c.soc_pct_avg)
        .join(newest, (newest.c.device_id == t.c.device_id) & (newest.c.ms == t.c.bucket_start_ms))
    ).all()
    return {d: {"at": from_epoch_ms(ms), "soc_pct": soc} for d, ms, soc in rows}
