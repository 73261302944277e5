"""Fleet analytics over a period: energy, cost and revenue, availability, SoC/SoH trends, schedule adherence
and alarm counts, aggregated in SQL from the rollups; anomalies flagged by robust z-score. No Qt."""

from core.analytics.model import (
    AnalyticsError,
    AnalyticsRequest,
    Anomaly,
    DeviceDay,
    DeviceTotals,
    FleetAnalytics,
    PriceSeries,
    SummaryStatistic,
)
from core.analytics.period import Period, PeriodError, PeriodKind, parse_period
from core.analytics.service import AnalyticsService

__all__ = [
    "AnalyticsError", "AnalyticsRequest", "AnalyticsService", "Anomaly", "DeviceDay", "DeviceTotals", "FleetAnalytics",
    "Period", "PeriodError", "PeriodKind", "PriceSeries", "SummaryStatistic", "parse_period",
]
