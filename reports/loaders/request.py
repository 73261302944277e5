"""What a report is loaded for: a period (with the zone its pages show), which devices, and the few
report-specific inputs (operator positions for alarm load, prices for cost and revenue)."""

from __future__ import annotations

from dataclasses import dataclass

from core.analytics import AnalyticsRequest, AnalyticsService, Period, PriceSeries
from core.services import CoreServices


@dataclass(frozen=True)
class ReportRequest:
    period: Period
    device_ids: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    operators: int = 1  # operator positions sharing the alarm load
    buy_prices: PriceSeries | None = None
    sell_prices: PriceSeries | None = None

    @property
    def local_zone(self) -> str:
        return self.period.zone

    def analytics_request(self) -> AnalyticsRequest:
        return AnalyticsRequest(self.period, self.device_ids, self.groups, self.buy_prices, self.sell_prices)


def analytics_service(services: CoreServices) -> AnalyticsService:
    """The analytics service over the shared core services (stateless, so one per call is fine)."""
    return AnalyticsService(services.db, services.audit, services.authorizer, services.clock)
