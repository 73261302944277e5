"""Audit trail report data for a report request (the existing loader, fed the request's period)."""

from __future__ import annotations

from core.audit.trail import AuditFilter
from core.auth.principal import Principal
from core.services import CoreServices
from reports.audit_report import AuditReportData, audit_report_data
from reports.loaders.request import ReportRequest


def load_audit(services: CoreServices, actor: Principal, request: ReportRequest) -> AuditReportData:
    flt = AuditFilter(since=request.period.start, until=request.period.end)
    return audit_report_data(services, actor, flt, local_zone=request.local_zone)
