"""Reports by name, so `gridroom report NAME --from --to --out` can find them, and run_report() that writes
PDF, CSV or JSON by the output file's suffix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from reports import alarm_load, analytics, audit_report, demo_data, fleet_health, schedule_execution
from reports.meta import ReportError

FORMATS = (".pdf", ".csv", ".json")


@dataclass(frozen=True)
class ReportSpec:
    """One report: its input type, its three writers, and seeded demo data (for demos and screenshots)."""

    name: str
    title: str
    data_type: type
    build_pdf: Callable[[Any, Path], Any]
    write_csv: Callable[[Any, Path], Any]
    write_json: Callable[[Any, Path], Any]
    demo: Callable[[], Any]

    def writer(self, suffix: str) -> Callable[[Any, Path], Any]:
        """The writer for a file suffix ('.pdf', '.csv', '.json'); ReportError for anything else."""
        table = {".pdf": self.build_pdf, ".csv": self.write_csv, ".json": self.write_json}
        try:
            return table[suffix.lower()]
        except KeyError:
            raise ReportError(f"report {self.name!r} cannot write {suffix or 'a file without suffix'!r}: "
                              f"use {', '.join(FORMATS)}") from None


def _spec(name: str, module: Any, data_type: type, demo: Callable[[], Any]) -> ReportSpec:
    return ReportSpec(name, module.TITLE, data_type, module.build_pdf, module.write_csv, module.write_json, demo)


REPORTS = MappingProxyType({spec.name: spec for spec in (
    _spec("audit", audit_report, audit_report.AuditReportData, demo_data.demo_audit),
    _spec("fleet_health", fleet_health, fleet_health.FleetHealthReportData, demo_data.demo_fleet_health),
    _spec("alarm_load", alarm_load, alarm_load.AlarmLoadReportData, demo_data.demo_alarm_load),
    _spec("schedule_execution", schedule_execution, schedule_execution.ScheduleExecutionReportData,
          demo_data.demo_schedule_execution),
    _spec("analytics", analytics, analytics.AnalyticsReportData, demo_data.demo_analytics),
)})


def report_names() -> list[str]:
    """Every registered report name, sorted."""
    return sorted(REPORTS)


def get_report(name: str) -> ReportSpec:
    """The report called `name`; ReportError naming the known ones otherwise."""
    try:
        return REPORTS[name]
    except KeyError:
        raise ReportError(f"unknown report {name!r}; known reports: {', '.join(report_names())}") from None


def run_report(name: str, data: Any, out_path: str | Path) -> Path:
    """Write report `name` from `data` to `out_path` as PDF, CSV or JSON by its suffix; returns the path."""
    spec = get_report(name)
    if not isinstance(data, spec.data_type):
        raise ReportError(f"report {name!r} needs {spec.data_type.__name__}, got {type(data).__name__}")
    out_path = Path(out_path)
    spec.writer(out_path.suffix)(data, out_path)
    return out_path
