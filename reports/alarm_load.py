"""Alarm load report: the EEMUA 191 figures of an AlarmLoadReport (alarms per operator per 10 min, floods,
standing and chattering alarms) and the top-10 bad actors with a bar chart.

Benchmarks used to mark figures (EEMUA 191): average <= 1 per operator per 10 min is very likely
acceptable and <= 2 manageable; a peak above 10 per 10 min is a flood; under 1 % of windows in flood;
fewer than 10 standing alarms; no chattering alarms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from core.alarms.alarm_load import AlarmLoadReport
from core.alarms.transitions import split_alarm_id
from reports.exports import write_json_document, write_records_csv
from reports.meta import ReportMeta, format_local
from reports.pdf.charts import bar_chart
from reports.pdf.document import content_width, heading, no_data, paragraph, render_pdf, subheading
from reports.pdf.tables import Column, Figure, Level, data_table, figures_table, format_number

TITLE = "Alarm load (EEMUA 191)"
BAD_ACTOR_COLUMNS = ("rank", "alarm_id", "rule_id", "source_id", "activations", "share_pct")


@dataclass(frozen=True)
class AlarmLoadReportData:
    meta: ReportMeta  # its period should be the load's period
    load: AlarmLoadReport
    position: str = "all operator positions"


def alarm_load_report_data(load: AlarmLoadReport, generated_by: str, generated_at: datetime,
                           local_zone: str = "UTC", position: str = "all operator positions") -> AlarmLoadReportData:
    """Wrap a computed AlarmLoadReport with the report meta taken from its own period."""
    meta = ReportMeta(load.period_start, load.period_end, generated_at, generated_by, local_zone)
    return AlarmLoadReportData(meta, load, position)


def bad_actor_records(data: AlarmLoadReportData) -> list[dict[str, Any]]:
    """The top alarms by activations, with rule and source split out and their share of all new alarms."""
    total = data.load.new_alarms
    out = []
    for rank, (alarm_id, count) in enumerate(data.load.top_alarms, start=1):
        try:
            rule_id, source_id = split_alarm_id(alarm_id)
        except ValueError:  # an alarm id from elsewhere: keep it whole rather than drop the row
            rule_id, source_id = alarm_id, ""
        out.append({"rank": rank, "alarm_id": alarm_id, "rule_id": rule_id, "source_id": source_id,
                    "activations": count, "share_pct": round(100.0 * count / total, 1) if total else 0.0})
    return out


def figures(load: AlarmLoadReport) -> list[Figure]:
    """The headline EEMUA 191 figures, marked where they miss the benchmarks."""
    avg, peak = load.average_per_operator_per_10min, load.peak_per_operator_per_10min
    avg_level: Level = "alarm" if avg > 2 else "warn" if avg > 1 else None
    avg_note = "over-demanding (> 2)" if avg > 2 else "manageable (1-2)" if avg > 1 else "very likely acceptable (<= 1)"
    return [
        Figure("Operators", f"{load.operators}"),
        Figure("New alarms", f"{load.new_alarms:,}"),
        Figure("10-minute windows", f"{load.windows:,}"),
        Figure("Average per operator per 10 min", format_number(avg, 2), avg_level, avg_note),
        Figure("Peak per operator per 10 min", format_number(peak, 1), "warn" if peak > 10 else None,
               "benchmark: <= 10"),
        Figure("Flood windows (> 10 alarms)", f"{len(load.flood_windows):,}",
               "warn" if load.flood_windows else None),
        Figure("Time in flood", format_number(load.percent_windows_in_flood, 1, "%"),
               "warn" if load.percent_windows_in_flood > 1 else None, "benchmark: < 1 %"),
        Figure("Standing alarms", f"{len(load.standing_alarms):,}", "warn" if len(load.standing_alarms) >= 10 else None,
               "benchmark: < 10"),
        Figure("Chattering alarms", f"{len(load.chattering_alarms):,}", "warn" if load.chattering_alarms else None,
               "benchmark: 0"),
    ]


def _id_list(title: str, ids: tuple[str, ...]) -> list:
    if not ids:
        return []
    return [subheading(f"{title} ({len(ids)})"), paragraph(", ".join(ids), small=True)]


def build_pdf(data: AlarmLoadReportData, path: str | Path) -> Path:
    """Render the alarm load report to `path`."""
    load, zone = data.load, data.meta.local_zone
    story: list = [paragraph(f"Operator position: {data.position}"), heading("EEMUA 191 figures"),
                   figures_table(figures(load), content_width())]
    if load.new_alarms == 0:
        story += [heading("Bad actors"), no_data()]
        return render_pdf(path, TITLE, data.meta, story, subtitle="Alarm rates, floods, standing and chattering alarms")
    rows = bad_actor_records(data)
    story.append(heading(f"Top {len(rows)} bad actors"))
    story.append(bar_chart([r["alarm_id"] for r in rows], [r["activations"] for r in rows],
                           title="Activations in the period", value_label="activations", horizontal=True,
                           height_mm=14 + 7 * len(rows) + 12,
                           highlight=[r["alarm_id"] in load.chattering_alarms for r in rows]))
    story.append(paragraph("Amber bars are chattering alarms.", small=True)
                 if any(r["alarm_id"] in load.chattering_alarms for r in rows) else paragraph(""))

    def level(row: Mapping[str, Any], column: Column) -> Level:
        return "warn" if column.key == "alarm_id" and row["alarm_id"] in load.chattering_alarms else None

    story.append(data_table([
        Column("rank", "#", 10, decimals=0), Column("alarm_id", "Alarm", 62, wrap=True),
        Column("rule_id", "Rule", 36, wrap=True), Column("source_id", "Source", 30, wrap=True),
        Column("activations", "Activations", 22, decimals=0), Column("share_pct", "Share", 20, unit="%", decimals=1),
    ], rows, level))
    if load.top_rules:
        story.append(subheading("Rules with the most activations"))
        story.append(data_table([Column("rule_id", "Rule", 80, wrap=True), Column("activations", "Activations", 30,
                                                                                   decimals=0)],
                                [{"rule_id": r, "activations": n} for r, n in load.top_rules]))
    if load.flood_windows:
        story.append(subheading(f"Flood windows ({len(load.flood_windows)})"))
        story.append(data_table(
            [Column("start", f"Window start ({zone})", 50, formatter=lambda at: format_local(at, zone)),
             Column("alarms", "New alarms", 30, decimals=0)],
            [{"start": at, "alarms": n} for at, n in load.flood_windows], lambda r, c: "warn" if c.key == "alarms" else None))
    story += _id_list("Standing alarms", load.standing_alarms) + _id_list("Chattering alarms", load.chattering_alarms)
    return render_pdf(path, TITLE, data.meta, story, subtitle="Alarm rates, floods, standing and chattering alarms")


def write_csv(data: AlarmLoadReportData, path: str | Path) -> int:
    """The bad-actor table as CSV (all figures are in the JSON); returns the row count."""
    return write_records_csv(path, BAD_ACTOR_COLUMNS, bad_actor_records(data))


def write_json(data: AlarmLoadReportData, path: str | Path) -> Path:
    """Every figure, the bad actors, top rules, flood windows, standing and chattering alarms as JSON."""
    load = data.load
    return write_json_document(path, {
        "report": "alarm_load", "meta": data.meta.to_record(), "position": data.position,
        "operators": load.operators, "new_alarms": load.new_alarms, "windows": load.windows,
        "average_per_operator_per_10min": load.average_per_operator_per_10min,
        "peak_per_operator_per_10min": load.peak_per_operator_per_10min,
        "percent_windows_in_flood": load.percent_windows_in_flood,
        "flood_windows": [{"start": at, "alarms": n} for at, n in load.flood_windows],
        "standing_alarms": list(load.standing_alarms), "chattering_alarms": list(load.chattering_alarms),
        "bad_actors": bad_actor_records(data),
        "top_rules": [{"rule_id": r, "activations": n} for r, n in load.top_rules],
    })
