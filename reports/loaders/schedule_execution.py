"""Schedule execution report data from the database: planned entries against the devices' acknowledgements."""

from __future__ import annotations

from core.auth.principal import Principal
from core.services import CoreServices
from reports.loaders.request import ReportRequest, analytics_service
from reports.meta import ReportMeta
from reports.schedule_execution import ExecutionRow, ScheduleExecutionReportData


def load_schedule_execution(services: CoreServices, actor: Principal,
                            request: ReportRequest) -> ScheduleExecutionReportData:
    """Every entry starting in the period; entries still running or to come are left out (nothing to judge)."""
    entries = analytics_service(services).executed_entries(actor, request.analytics_request())
    meta = ReportMeta(request.period.start, request.period.end, services.clock.now(), actor.username, request.local_zone)
    rows = tuple(ExecutionRow(e.device_id, e.start, e.end, e.planned_kw, e.actual_kw, e.status)
                 for e in entries if e.status != "pending")
    return ScheduleExecutionReportData(meta, rows)
