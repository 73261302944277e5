"""Schedule execution report: planned against actual power per device and schedule entry, with deviations
beyond tolerance and missing or failed acknowledgements flagged.

Power sign as in core.batteries: + = discharge, - = charge.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from reports.exports import write_json_document, write_records_csv
from reports.meta import ReportMeta, format_local, require_utc, zone
from reports.pdf.document import content_width, heading, no_data, paragraph, render_pdf
from reports.pdf.tables import Column, Figure, Level, data_table, figures_table, format_number

TITLE = "Schedule execution"
ENTRY_COLUMNS = ("device_id", "entry_start", "entry_end", "planned_kw", "actual_kw", "deviation_kw", "deviation_pct",
                 "ack_status", "flagged")
ACKED = "acked"


@dataclass(frozen=True)
class ExecutionRow:
    device_id: str
    entry_start: datetime  # aware UTC
    entry_end: datetime
    planned_kw: float
    actual_kw: float | None  # None: no acknowledgement carried an actual rate
    ack_status: str  # acked | missing | error | late

    def __post_init__(self) -> None:
        object.__setattr__(self, "entry_start", require_utc(self.entry_start, "entry_start"))
        object.__setattr__(self, "entry_end", require_utc(self.entry_end, "entry_end"))


@dataclass(frozen=True)
class ScheduleExecutionReportData:
    meta: ReportMeta
    rows: tuple[ExecutionRow, ...]
    tolerance_pct: float = 5.0  # of the planned rate
    tolerance_kw: float = 1.0  # floor, so near-zero setpoints are not flagged for noise


def _hours(row: ExecutionRow) -> float:
    return (row.entry_end - row.entry_start).total_seconds() / 3600.0


def entry_records(data: ScheduleExecutionReportData) -> list[dict[str, Any]]:
    """One record per entry with its deviation and whether it is flagged (PDF table, CSV and JSON)."""
    out = []
    for r in data.rows:
        deviation = None if r.actual_kw is None else r.actual_kw - r.planned_kw
        pct = None if deviation is None or r.planned_kw == 0 else 100.0 * deviation / abs(r.planned_kw)
        limit = max(data.tolerance_kw, data.tolerance_pct / 100.0 * abs(r.planned_kw))
        flagged = r.ack_status != ACKED or deviation is None or abs(deviation) > limit
        out.append({"device_id": r.device_id, "entry_start": r.entry_start, "entry_end": r.entry_end,
                    "planned_kw": r.planned_kw, "actual_kw": r.actual_kw,
                    "deviation_kw": None if deviation is None else round(deviation, 3),
                    "deviation_pct": None if pct is None else round(pct, 2),
                    "ack_status": r.ack_status, "flagged": flagged})
    return out


def device_records(data: ScheduleExecutionReportData) -> list[dict[str, Any]]:
    """Per device: entries, flagged entries, planned and delivered energy (kWh, + = discharged)."""
    per: dict[str, dict[str, Any]] = defaultdict(lambda: {"entries": 0, "flagged": 0, "planned_kwh": 0.0,
                                                         "actual_kwh": 0.0, "missing_acks": 0})
    for row, rec in zip(data.rows, entry_records(data)):
        d = per[row.device_id]
        d["entries"] += 1
        d["flagged"] += rec["flagged"]
        d["planned_kwh"] += row.planned_kw * _hours(row)
        d["actual_kwh"] += (row.actual_kw or 0.0) * _hours(row)
        d["missing_acks"] += row.ack_status != ACKED
    return [{"device_id": k, **v} for k, v in sorted(per.items())]


def build_pdf(data: ScheduleExecutionReportData, path: str | Path) -> Path:
    """Render the schedule execution report to `path`."""
    tz = data.meta.local_zone
    entries = entry_records(data)
    story: list = [paragraph(f"Tolerance: {data.tolerance_pct:g} % of the planned rate, at least "
                             f"{data.tolerance_kw:g} kW. Power + = discharge, - = charge.")]
    if not entries:
        return render_pdf(path, TITLE, data.meta, story + [no_data()], subtitle="Planned against actual power")
    flagged = sum(e["flagged"] for e in entries)
    not_acked = sum(r.ack_status != ACKED for r in data.rows)
    devices = device_records(data)
    story += [heading("Summary"), figures_table([
        Figure("Devices", f"{len(devices):,}"),
        Figure("Schedule entries", f"{len(entries):,}"),
        Figure("Entries without a good acknowledgement", f"{not_acked:,}", "alarm" if not_acked else None),
        Figure("Entries flagged", f"{flagged:,}", "warn" if flagged else None, "deviation beyond tolerance or no ack"),
        Figure("Planned energy", format_number(sum(d["planned_kwh"] for d in devices), 1, "kWh")),
        Figure("Delivered energy", format_number(sum(d["actual_kwh"] for d in devices), 1, "kWh")),
    ], content_width())]
    story += [heading("Per device"), data_table([
        Column("device_id", "Device", 34), Column("entries", "Entries", 20, decimals=0),
        Column("flagged", "Flagged", 20, decimals=0), Column("missing_acks", "Not acked", 22, decimals=0),
        Column("planned_kwh", "Planned", 30, unit="kWh", decimals=1),
        Column("actual_kwh", "Delivered", 30, unit="kWh", decimals=1),
    ], devices, lambda r, c: "warn" if c.key in ("flagged", "missing_acks") and r[c.key] else None)]

    def level(row: Mapping[str, Any], column: Column) -> Level:
        if column.key == "ack_status" and row["ack_status"] != ACKED:
            return "alarm"
        if column.key in ("deviation_kw", "deviation_pct", "flagged") and row["flagged"]:
            return "warn"
        return None

    story += [heading("Entries"), data_table([
        Column("device_id", "Device", 24),
        Column("entry_start", f"Start ({tz})", 35, formatter=lambda at: format_local(at, tz)),
        Column("entry_end", "End", 13, formatter=lambda at: at.astimezone(zone(tz)).strftime("%H:%M")),
        Column("planned_kw", "Planned", 21, unit="kW", decimals=1),
        Column("actual_kw", "Actual", 21, unit="kW", decimals=1),
        Column("deviation_kw", "Dev.", 19, unit="kW", decimals=1),
        Column("deviation_pct", "Dev.", 16, unit="%", decimals=1),
        Column("ack_status", "Ack", 17),
        Column("flagged", "Flag", 14, formatter=lambda f: "FLAG" if f else ""),
    ], entries, level)]
    return render_pdf(path, TITLE, data.meta, story, subtitle="Planned against actual power")


def write_csv(data: ScheduleExecutionReportData, path: str | Path) -> int:
    """The entry table as CSV; returns the row count."""
    return write_records_csv(path, ENTRY_COLUMNS, entry_records(data))


def write_json(data: ScheduleExecutionReportData, path: str | Path) -> Path:
    """Tolerances, per-device totals and every entry as JSON."""
    return write_json_document(path, {"report": "schedule_execution", "meta": data.meta.to_record(),
                                      "tolerance_pct": data.tolerance_pct, "tolerance_kw": data.tolerance_kw,
                                      "devices": device_records(data), "entries": entry_records(data)})
