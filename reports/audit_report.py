"""Audit trail report (brief use case 11): who did what, to which resource, with what result, from which host.

Denied and failed entries are marked (red / amber, bold, upper case). Rows run oldest first, as an auditor
reads a log; the CSV and JSON carry the same rows with UTC ISO 8601 timestamps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from core.audit.trail import AuditEntry, AuditFilter
from core.auth.principal import Principal
from core.services import CoreServices
from reports.exports import write_json_document, write_records_csv
from reports.meta import ReportError, ReportMeta, format_local, require_utc
from reports.pdf.document import content_width, heading, no_data, paragraph, render_pdf
from reports.pdf.tables import Column, Figure, Level, data_table, figures_table

TITLE = "Audit trail"
CSV_COLUMNS = ("id", "timestamp", "user", "action", "resource", "result", "host")


@dataclass(frozen=True)
class AuditReportRow:
    id: int
    at: datetime  # aware UTC
    user: str
    action: str
    resource: str
    result: str  # success | failure | denied
    host: str


@dataclass(frozen=True)
class AuditReportData:
    """The entries to report, oldest first, and a plain description of the filter that chose them."""

    meta: ReportMeta
    rows: tuple[AuditReportRow, ...]
    filter_text: str = "all entries"


def rows_from_entries(entries: Iterable[AuditEntry]) -> tuple[AuditReportRow, ...]:
    """Report rows from core audit entries, oldest first."""
    rows = [AuditReportRow(e.id, require_utc(e.at, "audit entry time"), e.username, e.action, e.resource, e.result,
                           e.host) for e in entries]
    return tuple(sorted(rows, key=lambda r: r.id))


def describe_filter(flt: AuditFilter) -> str:
    """'user = alice, action = user.*, result = denied' (or 'all entries')."""
    parts = [f"{name} = {value}" for name, value in (
        ("user", flt.username), ("action", flt.action), ("resource contains", flt.resource), ("result", flt.result),
    ) if value]
    if flt.limit:
        parts.append(f"newest {flt.limit} entries")
    return ", ".join(parts) or "all entries"


def audit_report_data(
    services: CoreServices,
    actor: Principal,
    flt: AuditFilter = AuditFilter(),
    *,
    local_zone: str = "UTC",
) -> AuditReportData:
    """Query the trail through AuditLog (VIEW_AUDIT is checked and a refusal audited in core).

    The period is the filter's [since, until); an open end is closed by the entries found, or by now.
    """
    entries = services.audit_log.query(actor, flt)
    rows = rows_from_entries(entries)
    now = services.clock.now()
    start = flt.since or (rows[0].at if rows else now)
    end = flt.until or (rows[-1].at + timedelta(microseconds=1) if rows else now)
    meta = ReportMeta(start, max(start, end), now, actor.username, local_zone)
    return AuditReportData(meta=meta, rows=rows, filter_text=describe_filter(flt))


def records(data: AuditReportData) -> list[dict[str, Any]]:
    """One record per row, shared by the PDF table, the CSV and the JSON."""
    return [{"id": r.id, "timestamp": r.at, "user": r.user, "action": r.action, "resource": r.resource,
             "result": r.result, "host": r.host} for r in data.rows]


def _level(row: Mapping[str, Any], column: Column) -> Level:
    if column.key not in ("id", "result"):
        return None
    return {"denied": "alarm", "failure": "warn"}.get(row["result"])


def build_pdf(data: AuditReportData, path: str | Path) -> Path:
    """Render the audit report to `path`."""
    zone = data.meta.local_zone
    rows = records(data)
    counts = {k: sum(1 for r in data.rows if r.result == k) for k in ("success", "failure", "denied")}
    story: list = [
        paragraph(f"Filter: {data.filter_text}"),
        heading("Summary"),
        figures_table([
            Figure("Entries", f"{len(rows):,}"),
            Figure("Users", f"{len({r.user for r in data.rows}):,}"),
            Figure("Successful", f"{counts['success']:,}"),
            Figure("Failed", f"{counts['failure']:,}", "warn" if counts["failure"] else None,
                   "marked FAILURE in amber below" if counts["failure"] else ""),
            Figure("Denied", f"{counts['denied']:,}", "alarm" if counts["denied"] else None,
                   "marked DENIED in red below" if counts["denied"] else ""),
        ], content_width()),
        heading("Entries"),
    ]
    if not rows:
        story.append(no_data())
    else:
        columns = [
            Column("id", "#", 10, decimals=0),
            Column("timestamp", f"Time ({zone})", 42, formatter=lambda at: format_local(at, zone, seconds=True)),
            Column("user", "User", 20, wrap=True),
            Column("action", "Action", 26, wrap=True),
            Column("resource", "Resource", 46, wrap=True),
            Column("result", "Result", 16, formatter=lambda v: v if v == "success" else v.upper()),
            Column("host", "Host", 20, wrap=True),
        ]
        story.append(data_table(columns, rows, _level))
        story.append(paragraph("Times are local with their UTC offset; exports carry UTC.", small=True))
    return render_pdf(path, TITLE, data.meta, story, subtitle="Authentication events, administration and data changes")


def write_csv(data: AuditReportData, path: str | Path) -> int:
    """The rows as CSV (UTC ISO 8601 timestamps); returns the row count."""
    return write_records_csv(path, CSV_COLUMNS, records(data))


def write_json(data: AuditReportData, path: str | Path) -> Path:
    """{"report", "meta", "filter", "entries"} as JSON."""
    return write_json_document(path, {"report": "audit", "meta": data.meta.to_record(), "filter": data.filter_text,
                                      "count": len(data.rows), "entries": records(data)})


_WRITERS = {".pdf": build_pdf, ".csv": write_csv, ".json": write_json}


def export_audit(
    services: CoreServices, actor: Principal, flt: AuditFilter, out_path: str | Path, *, local_zone: str = "UTC"
) -> AuditReportData:
    """Load, write (PDF/CSV/JSON by suffix) and record the export in the audit trail, as exports are audited."""
    out_path = Path(out_path)
    writer = _WRITERS.get(out_path.suffix.lower())
    if writer is None:
        raise ReportError(f"cannot write {out_path.name!r}: use .pdf, .csv or .json")
    data = audit_report_data(services, actor, flt, local_zone=local_zone)
    writer(data, out_path)
    services.audit_log.record_export(actor, flt, out_path.suffix.lower().lstrip("."), len(data.rows), str(out_path))
    return data
