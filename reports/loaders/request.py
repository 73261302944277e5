"""What a report is loaded for: a period (with the zone its pages show), which devices, and the few
report-specific inputs (operator positions for alarm load, prices for cost and revenue: explicit ones, else
the stored day-ahead series `price_series` or the one the settings name)."""

from __future__ import annotations

from dataclasses import dataclass

from core.analytics import AnalyticsRequest, AnalyticsService, Period, PriceSeries
from core.services import CoreServices
from core.settings import analytics_price_series


@dataclass(frozen=True)
class ReportRequest:
    period: Period
    device_ids: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    operators: int = 1  # operator positions sharing the alarm load
    buy_prices: PriceSeries | None = None
    sell_prices: PriceSeries | None = None
    price_series: str | None = None  # which stored price series (bidding zone); None: the only or configured one

    @property
    def local_zone(self) -> str:
        return self.period.zone

    def analytics_request(self) -> AnalyticsRequest:
        return AnalyticsRequest(self.period, self.device_ids, self.groups, self.buy_prices, self.sell_prices,
                                self.price_series)


def analytics_service(services: CoreServices) -> AnalyticsService:
    """The analytics service over the shared core services (stateless, so one per call is fine), with the
    price series the settings name for when several zones are stored."""
    return AnalyticsService(services.db, services.audit, services.authorizer, services.clock,
                            analytics_price_series())
