"""What an analytics run is asked for and what it answers: per-device totals, per-device-day figures,
anomalies and summary statistics. Plain frozen values; the SQL lives in the query modules."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from core.analytics.period import Period
from core.errors import GridRoomError

UNREGISTERED_GROUP = "(unregistered)"
PRICE_STEP = timedelta(minutes=15)  # the 15-minute rollup is the finest step a price can apply to


class AnalyticsError(GridRoomError, ValueError):
    """An analytics request that cannot be answered as asked (bad price series, unknown device)."""


@dataclass(frozen=True)
class PriceSeries:
    """Energy prices per kWh at a fixed step from `start` (e.g. day-ahead hourly prices).

    Callers pass a series they hold, or core.analytics.stored_prices builds one from the stored day-ahead
    prices. Energy in 15-minute buckets outside the series, or in a step whose price is None (no price
    stored for that hour), has no price: it is counted as unpriced, never priced at 0.
    """

    start: datetime
    step: timedelta
    prices_per_kwh: tuple[float | None, ...]
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if not isinstance(self.start, datetime) or self.start.utcoffset() is None:
            raise AnalyticsError(f"price series start must be a timezone-aware datetime, got {self.start!r}")
        object.__setattr__(self, "start", self.start.astimezone(timezone.utc))
        if self.step < PRICE_STEP or self.step % PRICE_STEP:
            raise AnalyticsError(f"price series step must be a whole multiple of 15 minutes, got {self.step}")
        prices = tuple(None if p is None else float(p) for p in self.prices_per_kwh)
        for i, p in enumerate(prices):
            if p is not None and not math.isfinite(p):
                raise AnalyticsError(f"price series value {i} is not a finite number: {p!r}")
        object.__setattr__(self, "prices_per_kwh", prices)

    @property
    def end(self) -> datetime:
        return self.start + self.step * len(self.prices_per_kwh)

    @classmethod
    def flat(cls, period: Period, price_per_kwh: float, currency: str = "EUR") -> PriceSeries:
        """One price for the whole period (a fixed tariff)."""
        steps = math.ceil((period.end - period.start) / PRICE_STEP)
        return cls(period.start, PRICE_STEP, (price_per_kwh,) * steps, currency)


@dataclass(frozen=True)
class AnalyticsRequest:
    """The period, which devices (by id or by group = site name; both empty = the whole fleet), and the prices
    charging is paid at and discharging earns (sell defaults to buy).

    Without explicit prices, the stored day-ahead price series is used (`stored_prices`): `price_series`
    names which one when several bidding zones are stored (None: the only one, or the configured default).
    """

    period: Period
    device_ids: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    buy_prices: PriceSeries | None = None
    sell_prices: PriceSeries | None = None
    price_series: str | None = None
    stored_prices: bool = True

    @property
    def revenue_prices(self) -> PriceSeries | None:
        return self.sell_prices or self.buy_prices


@dataclass(frozen=True)
class DeviceTotals:
    device_id: str
    group: str
    charged_kwh: float
    discharged_kwh: float
    cost: float | None  # None without a price series
    revenue: float | None
    availability_pct: float  # minutes with at least one sample / minutes of the period so far
    soc_min_pct: float | None
    soc_avg_pct: float | None
    soc_max_pct: float | None
    soh_first_pct: float | None  # average SoH of the first and last day with a reading
    soh_last_pct: float | None
    schedule_entries: int  # acknowledged schedule entries that started in the period
    schedule_entries_ok: int
    alarm_activations: int

    @property
    def throughput_kwh(self) -> float:
        return self.charged_kwh + self.discharged_kwh

    @property
    def adherence_pct(self) -> float | None:
        """Share of acknowledged entries the device executed without error (None: no entries)."""
        return 100.0 * self.schedule_entries_ok / self.schedule_entries if self.schedule_entries else None


@dataclass(frozen=True)
class DeviceDay:
    device_id: str
    day: date  # local calendar day of the period's zone
    charged_kwh: float
    discharged_kwh: float
    soc_min_pct: float | None
    soc_avg_pct: float | None
    soc_max_pct: float | None
    soh_avg_pct: float | None

    @property
    def throughput_kwh(self) -> float:
        return self.charged_kwh + self.discharged_kwh


@dataclass(frozen=True)
class Anomaly:
    device_id: str
    day: date
    metric: str  # e.g. "throughput_kwh"
    value: float
    reference: float  # the median it was compared with
    robust_z: float
    reason: str


@dataclass(frozen=True)
class SummaryStatistic:
    metric: str
    unit: str
    devices: int
    total: float | None  # None where a sum means nothing (percentages)
    mean: float
    median: float
    minimum: float
    maximum: float


@dataclass(frozen=True)
class FleetAnalytics:
    request: AnalyticsRequest
    generated_at: datetime
    devices: tuple[DeviceTotals, ...]
    days: tuple[DeviceDay, ...]
    anomalies: tuple[Anomaly, ...] = ()
    statistics: tuple[SummaryStatistic, ...] = ()
    currency: str = "EUR"
    unpriced_kwh: float = 0.0  # energy in buckets the price series does not cover
    notes: tuple[str, ...] = field(default_factory=tuple)
    priced: bool = False  # cost and revenue were computed (explicit or stored prices)
    price_series: str | None = None  # the stored price series used, None for explicit or no prices

    @property
    def period(self) -> Period:
        return self.request.period

    @property
    def has_data(self) -> bool:
        """False when no device moved energy or reported in the period (an empty report, not an error)."""
        return any(d.availability_pct > 0 or d.throughput_kwh > 0 for d in self.devices)

    def fleet_daily(self) -> list[tuple[date, float, float]]:
        """(day, charged kWh, discharged kWh) summed over the devices, for every day of the period."""
        sums: dict[date, list[float]] = {day: [0.0, 0.0] for day, _, _ in self.period.days()}
        for d in self.days:
            s = sums.setdefault(d.day, [0.0, 0.0])
            s[0] += d.charged_kwh
            s[1] += d.discharged_kwh
        return [(day, c, dis) for day, (c, dis) in sorted(sums.items())]
