"""Energy and availability report data from core analytics (aggregated in SQL from the rollups)."""

from __future__ import annotations

from core.analytics import FleetAnalytics
from core.auth.principal import Principal
from core.services import CoreServices
from reports.analytics import AnalyticsReportData, DailyEnergy, DeviceEnergyRow, ReportAnomaly
from reports.loaders.request import ReportRequest, analytics_service
from reports.meta import ReportMeta


def analytics_report_data(result: FleetAnalytics, generated_by: str) -> AnalyticsReportData:
    """The report's view of an analytics result. A period without any data is an empty report."""
    period = result.period
    meta = ReportMeta(period.start, period.end, result.generated_at, generated_by, period.zone)
    if not result.has_data:
        return AnalyticsReportData(meta, (), currency=result.currency, notes=result.notes)
    devices = tuple(DeviceEnergyRow(d.device_id, d.group, round(d.charged_kwh, 3), round(d.discharged_kwh, 3),
                                    round(d.cost or 0.0, 2), round(d.revenue or 0.0, 2), round(d.availability_pct, 2))
                    for d in result.devices)
    daily = tuple(DailyEnergy(day, charged, discharged) for day, charged, discharged in result.fleet_daily())
    anomalies = tuple(ReportAnomaly(a.device_id, a.day, a.value, a.reference, a.robust_z, a.reason)
                      for a in result.anomalies)
    return AnalyticsReportData(meta, devices, daily, currency=result.currency, anomalies=anomalies,
                               priced=result.priced, notes=result.notes)


def load_analytics(services: CoreServices, actor: Principal, request: ReportRequest) -> AnalyticsReportData:
    result = analytics_service(services).compute(actor, request.analytics_request())
    return analytics_report_data(result, actor.username)
