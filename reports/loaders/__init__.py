"""Report data from the database, for every report in reports.registry, and the audited export that writes
it. The CLI (`gridroom report NAME`), scheduled reports and the desktop's export buttons all go through
export_report, so a report reads the same wherever it is made."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from core.audit.trail import AuditFilter, AuditResult
from core.auth.principal import Principal
from core.services import CoreServices
from reports.loaders.alarm_load import load_alarm_load
from reports.loaders.analytics import load_analytics
from reports.loaders.audit import load_audit
from reports.loaders.fleet_health import load_fleet_health
from reports.loaders.request import ReportRequest, analytics_service
from reports.loaders.schedule_execution import load_schedule_execution
from reports.registry import get_report, report_names, run_report

Loader = Callable[[CoreServices, Principal, ReportRequest], Any]

LOADERS: MappingProxyType[str, Loader] = MappingProxyType({
    "audit": load_audit,
    "fleet_health": load_fleet_health,
    "alarm_load": load_alarm_load,
    "schedule_execution": load_schedule_execution,
    "analytics": load_analytics,
})
assert sorted(LOADERS) == report_names(), "every registered report needs a loader"


@dataclass(frozen=True)
class ExportedReport:
    name: str
    path: Path
    data: Any
    rows: int  # the report's main rows (devices, entries, bad actors...): 0 means an empty report


def row_count(data: Any) -> int:
    """How many rows a report's data holds; its empty state is 0."""
    for attribute in ("rows", "devices"):
        if hasattr(data, attribute):
            return len(getattr(data, attribute))
    load = getattr(data, "load", None)
    return int(load.new_alarms) if load is not None else 0


def load_report(services: CoreServices, actor: Principal, name: str, request: ReportRequest) -> Any:
    """The data of report `name` for `request` (permissions checked in core; ReportError for unknown names)."""
    get_report(name)
    return LOADERS[name](services, actor, request)


def export_report(services: CoreServices, actor: Principal, name: str, request: ReportRequest,
                  out_path: str | Path) -> ExportedReport:
    """Load report `name`, write it as PDF/CSV/JSON by `out_path`'s suffix, and audit the export."""
    out_path = Path(out_path)
    spec = get_report(name)
    spec.writer(out_path.suffix)  # a wrong suffix fails before any query runs
    data = load_report(services, actor, name, request)
    fmt = out_path.suffix.lower().lstrip(".")
    try:
        run_report(name, data, out_path)
    except OSError as exc:
        _audit(services, actor, name, request, out_path, fmt, 0, AuditResult.FAILURE, str(exc))
        raise
    rows = row_count(data)
    _audit(services, actor, name, request, out_path, fmt, rows, AuditResult.SUCCESS, "")
    return ExportedReport(name, out_path, data, rows)


def _audit(services: CoreServices, actor: Principal, name: str, request: ReportRequest, path: Path, fmt: str,
           rows: int, result: AuditResult, error: str) -> None:
    if name == "audit" and result is AuditResult.SUCCESS:
        # Audit-trail exports keep their own audit action, as `gridroom audit export` records them.
        services.audit_log.record_export(actor, AuditFilter(since=request.period.start, until=request.period.end),
                                         fmt, rows, str(path))
        return
    analytics_service(services).record_export(actor, name, str(path), fmt, request.period, rows, result, error)


__all__ = ["LOADERS", "ExportedReport", "ReportRequest", "export_report", "load_report", "row_count"]
