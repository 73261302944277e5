"""Cost and revenue prices from the stored day-ahead price series (market_points), for analytics.

The importers store day-ahead prices under the series key "price" (core.market.service.PRICE_SERIES); a key
"price:<zone>" (e.g. "price:BE") holds a further bidding zone. Stored points carry their own unit: each is
converted explicitly to a price per kWh, and a unit GridRoom does not know is refused, never guessed.

The PriceSeries covers the whole period at the finest stored step; a step without a stored point has price
None, so its energy is reported as unpriced, and the hours without prices are named in a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from core.analytics.model import PRICE_STEP, AnalyticsError, PriceSeries
from core.analytics.period import Period, local_zone
from core.market.errors import UnknownUnitError
from core.market.service import PRICE_SERIES
from core.market.tables import MarketPointRow
from core.market.units import KNOWN_UNITS, parse_unit

ZONE_SEPARATOR = ":"
PER_KWH = "EUR/kWh"
# The currency each known price unit is in (ct/kWh is euro cents). A price unit missing here is refused.
CURRENCY_OF_UNIT = {"EUR/MWh": "EUR", "EUR/kWh": "EUR", "ct/kWh": "EUR"}
# A stored point may start this long before the period and still cover its first hour (longest price step).
LOOKBACK = timedelta(days=1)
MAX_LISTED_GAPS = 6


@dataclass(frozen=True)
class StoredPrices:
    """The prices of one stored series over a period, and what the store does not cover."""

    series_key: str
    prices: PriceSeries  # per kWh, None where no price is stored
    stored_units: tuple[str, ...]  # the units the points were stored in, before conversion
    missing: tuple[tuple[datetime, datetime], ...]  # UTC ranges of the period without a stored price

    @property
    def covers_nothing(self) -> bool:
        return all(p is None for p in self.prices.prices_per_kwh)


def is_price_series(key: str) -> bool:
    return key == PRICE_SERIES or key.startswith(PRICE_SERIES + ZONE_SEPARATOR)


def stored_price_series(conn: Connection, since: datetime | None = None) -> list[str]:
    """The day-ahead price series keys that hold any point (from `since` on when given), sorted."""
    m = MarketPointRow.__table__
    query = select(m.c.series).where(or_(m.c.series == PRICE_SERIES,
                                         m.c.series.startswith(PRICE_SERIES + ZONE_SEPARATOR, autoescape=True)))
    if since is not None:
        query = query.where(m.c.start_utc >= since)
    return sorted(set(conn.execute(query.distinct()).scalars()))


def choose_price_series(available: list[str], wanted: str | None, default: str | None) -> str | None:
    """Which stored series prices the period: the caller's choice, else the only one, else the configured
    default. None when nothing is stored. Raises AnalyticsError for an unknown or an ambiguous choice."""
    if wanted is not None:
        if wanted not in available:
            raise AnalyticsError(f"price series {wanted!r} is not stored; stored price series: "
                                 f"{', '.join(available) or 'none'}")
        return wanted
    if not available:
        return None
    if len(available) == 1:
        return available[0]
    if default is not None and default in available:
        return default
    configured = f" (the configured default {default!r} is not among them)" if default else ""
    raise AnalyticsError(f"several price series are stored ({', '.join(available)}){configured}: choose one "
                         f"(--price-series, or the analytics price series in the settings)")


def load_stored_prices(conn: Connection, period: Period, series_key: str) -> StoredPrices:
    """The stored prices of `series_key` over `period`, converted to per kWh at the finest stored step."""
    m = MarketPointRow.__table__
    rows = conn.execute(
        select(m.c.start_utc, m.c.step_seconds, m.c.value, m.c.unit)
        .where(m.c.series == series_key, m.c.start_utc >= period.start - LOOKBACK, m.c.start_utc < period.end)
        .order_by(m.c.start_utc)
    ).all()
    rows = [(_utc(start), step_s, value, unit) for start, step_s, value, unit in rows
            if _utc(start) + timedelta(seconds=step_s) > period.start]
    step_s = min((r[1] for r in rows), default=3600)
    step = timedelta(seconds=step_s)
    if step < PRICE_STEP or step % PRICE_STEP:
        raise AnalyticsError(f"price series {series_key!r} is stored at {step_s} s steps; analytics prices "
                             f"need a whole multiple of 15 minutes")
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    origin = period.start - (period.start - epoch) % step  # the stored grid is aligned on the epoch
    slots = -(-(period.end - origin) // step)
    prices: list[float | None] = [None] * slots
    units: set[str] = set()
    currencies: set[str] = set()
    for start, point_step_s, value, unit in rows:
        per_kwh, currency = _per_kwh(series_key, start, value, unit)
        units.add(unit)
        currencies.add(currency)
        offset = start - origin
        if offset % step or point_step_s % step_s:
            raise AnalyticsError(f"price series {series_key!r}: the point at {start.isoformat()} "
                                 f"({point_step_s} s) is off the {step_s} s grid of the other points")
        first = offset // step
        for i in range(max(first, 0), min(first + point_step_s // step_s, slots)):
            prices[i] = per_kwh
    if len(currencies) > 1:
        raise AnalyticsError(f"price series {series_key!r} mixes currencies {sorted(currencies)} in this period")
    series = PriceSeries(origin, step, tuple(prices), currencies.pop() if currencies else "EUR")
    return StoredPrices(series_key, series, tuple(sorted(units)), _missing(series, period))


def _per_kwh(series_key: str, start: datetime, value: float, unit: str) -> tuple[float, str]:
    where = f"price series {series_key!r}, point at {start.isoformat()}"
    try:
        parsed = parse_unit(unit)
    except UnknownUnitError:
        raise AnalyticsError(f"{where}: unit {unit!r} is unknown (known price units: "
                             f"{', '.join(u for u in KNOWN_UNITS if u in CURRENCY_OF_UNIT)}); "
                             f"cost and revenue are refused rather than guessed") from None
    if parsed.quantity != "price" or parsed.symbol not in CURRENCY_OF_UNIT:
        raise AnalyticsError(f"{where}: unit {unit!r} is not a price per energy; cost and revenue are refused")
    # EUR/MWh is the base of prices: factor_to_base says how many EUR/MWh one unit is.
    return value * parsed.factor_to_base / parse_unit(PER_KWH).factor_to_base, CURRENCY_OF_UNIT[parsed.symbol]


def _missing(series: PriceSeries, period: Period) -> tuple[tuple[datetime, datetime], ...]:
    """Ranges of the period (clipped to it) whose steps have no price."""
    out: list[tuple[datetime, datetime]] = []
    for i, price in enumerate(series.prices_per_kwh):
        if price is not None:
            continue
        lo = max(series.start + i * series.step, period.start)
        hi = min(series.start + (i + 1) * series.step, period.end)
        if lo >= hi:
            continue
        if out and out[-1][1] == lo:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return tuple(out)


def missing_prices_note(stored: StoredPrices, period: Period) -> str | None:
    """'no stored price in 'price' for 2026-03-03 00:00-2026-03-04 00:00 (UTC)', or None when fully covered."""
    if not stored.missing:
        return None
    z = local_zone(period.zone)

    def fmt(a: datetime, b: datetime) -> str:
        la, lb = a.astimezone(z), b.astimezone(z)
        end = lb.strftime("%H:%M") if la.date() == lb.date() else lb.strftime("%Y-%m-%d %H:%M")
        return f"{la:%Y-%m-%d %H:%M}-{end}"

    hours = sum((b - a for a, b in stored.missing), timedelta()) / timedelta(hours=1)
    listed = [fmt(a, b) for a, b in stored.missing[:MAX_LISTED_GAPS]]
    more = len(stored.missing) - len(listed)
    if more:
        listed.append(f"and {more} more range(s)")
    return (f"no stored price in {stored.series_key!r} for {hours:g} h of the period: {', '.join(listed)} "
            f"({period.zone}); energy in those hours is not priced")


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
