"""Energy analytics report: energy charged and discharged, cost and revenue, and availability per device and
per group over a period, with a line chart of daily energy."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from reports.exports import write_json_document, write_records_csv
from reports.meta import ReportMeta
from reports.pdf.charts import line_chart
from reports.pdf.document import content_width, heading, no_data, paragraph, render_pdf
from reports.pdf.tables import Column, Figure, Level, data_table, figures_table, format_number

TITLE = "Energy and availability"
DEVICE_COLUMNS = ("device_id", "group", "charged_kwh", "discharged_kwh", "cost", "revenue", "net",
                  "availability_pct")


@dataclass(frozen=True)
class DeviceEnergyRow:
    device_id: str
    group: str
    charged_kwh: float
    discharged_kwh: float
    cost: float  # paid for charging energy, in the report's currency
    revenue: float  # earned from discharging
    availability_pct: float  # share of the period the device was online and dispatchable


@dataclass(frozen=True)
class DailyEnergy:
    day: date  # local calendar day of the report's zone
    charged_kwh: float
    discharged_kwh: float


@dataclass(frozen=True)
class ReportAnomaly:
    device_id: str
    day: date
    value_kwh: float  # the day's throughput (charged + discharged)
    reference_kwh: float  # the median it was compared with
    robust_z: float
    reason: str


@dataclass(frozen=True)
class AnalyticsReportData:
    meta: ReportMeta
    devices: tuple[DeviceEnergyRow, ...]
    daily: tuple[DailyEnergy, ...] = ()
    currency: str = "EUR"
    availability_warn_pct: float = 95.0
    anomalies: tuple[ReportAnomaly, ...] = ()
    priced: bool = True  # False: no prices were given, so cost and revenue are left out (not shown as 0)
    notes: tuple[str, ...] = ()


ANOMALY_COLUMNS = ("device_id", "day", "value_kwh", "reference_kwh", "robust_z", "reason")


def anomaly_records(data: AnalyticsReportData) -> list[dict[str, Any]]:
    return [{"device_id": a.device_id, "day": a.day, "value_kwh": a.value_kwh, "reference_kwh": a.reference_kwh,
             "robust_z": a.robust_z, "reason": a.reason} for a in data.anomalies]


def device_records(data: AnalyticsReportData) -> list[dict[str, Any]]:
    """One record per device, with net = revenue - cost (PDF table, CSV and JSON)."""
    return [{"device_id": d.device_id, "group": d.group, "charged_kwh": d.charged_kwh,
             "discharged_kwh": d.discharged_kwh, "cost": d.cost, "revenue": d.revenue,
             "net": round(d.revenue - d.cost, 2), "availability_pct": d.availability_pct} for d in data.devices]


def group_records(data: AnalyticsReportData) -> list[dict[str, Any]]:
    """Totals per group; availability is the mean over the group's devices."""
    groups: dict[str, list[DeviceEnergyRow]] = defaultdict(list)
    for d in data.devices:
        groups[d.group].append(d)
    out = []
    for name, rows in sorted(groups.items()):
        out.append({"group": name, "devices": len(rows),
                    "charged_kwh": sum(r.charged_kwh for r in rows),
                    "discharged_kwh": sum(r.discharged_kwh for r in rows),
                    "cost": sum(r.cost for r in rows), "revenue": sum(r.revenue for r in rows),
                    "net": sum(r.revenue - r.cost for r in rows),
                    "availability_pct": sum(r.availability_pct for r in rows) / len(rows)})
    return out


def totals(data: AnalyticsReportData) -> dict[str, float]:
    """Fleet totals over the period."""
    charged = sum(d.charged_kwh for d in data.devices)
    discharged = sum(d.discharged_kwh for d in data.devices)
    cost, revenue = sum(d.cost for d in data.devices), sum(d.revenue for d in data.devices)
    return {"charged_kwh": charged, "discharged_kwh": discharged, "cost": cost, "revenue": revenue,
            "net": revenue - cost, "round_trip_pct": 100.0 * discharged / charged if charged else float("nan")}


def build_pdf(data: AnalyticsReportData, path: str | Path) -> Path:
    """Render the analytics report to `path`."""
    cur = data.currency
    notes = [paragraph(f"Note: {n}.", small=True) for n in data.notes]
    if not data.devices:
        return render_pdf(path, TITLE, data.meta, [heading("Summary"), no_data(), *notes], subtitle="Per device and group")
    t = totals(data)
    low = sum(d.availability_pct < data.availability_warn_pct for d in data.devices)
    # Fleets move MWh; a small site moves kWh that would print as 0.00 MWh.
    e_scale, e_unit, e_dec = (1000.0, "MWh", 2) if max(t["charged_kwh"], t["discharged_kwh"]) >= 10_000 else (1.0, "kWh", 1)
    money_figures = [
        Figure("Cost of charging", format_number(t["cost"], 2, cur)),
        Figure("Revenue from discharging", format_number(t["revenue"], 2, cur)),
        Figure("Net", format_number(t["net"], 2, cur), "warn" if t["net"] < 0 else None),
    ] if data.priced else []
    story: list = [heading("Summary"), figures_table([
        Figure("Energy charged", format_number(t["charged_kwh"] / e_scale, e_dec, e_unit)),
        Figure("Energy discharged", format_number(t["discharged_kwh"] / e_scale, e_dec, e_unit)),
        Figure("Round trip (discharged / charged)", format_number(t["round_trip_pct"], 1, "%")),
        *money_figures,
        Figure(f"Devices below {data.availability_warn_pct:g} % availability", f"{low:,}", "warn" if low else None),
        Figure("Anomalies flagged", f"{len(data.anomalies):,}", "warn" if data.anomalies else None),
    ], content_width()), *notes]
    if data.daily:
        # MWh keeps axis labels short for fleets; a single device's kWh would read as 0.0x, so switch by size.
        peak = max(max(d.charged_kwh, d.discharged_kwh) for d in data.daily)
        scale, unit = (1000.0, "MWh") if peak >= 10_000 else (1.0, "kWh")
        story.append(Spacer(1, 4 * mm))
        story.append(line_chart(
            [d.day.strftime("%d %b") for d in data.daily],
            [("charged", [d.charged_kwh / scale for d in data.daily]),
             ("discharged", [d.discharged_kwh / scale for d in data.daily])],
            title="Daily energy", value_label=f"energy ({unit})"))
    money = [Column("cost", "Cost", 24, unit=cur, decimals=2), Column("revenue", "Revenue", 24, unit=cur, decimals=2),
             Column("net", "Net", 22, unit=cur, decimals=2)] if data.priced else []

    def level(row: dict, column: Column) -> Level:
        if column.key == "availability_pct" and row[column.key] < data.availability_warn_pct:
            return "warn"
        return "warn" if column.key == "net" and row["net"] < 0 else None

    story += [heading("Per group"), data_table([
        Column("group", "Group", 32, wrap=True), Column("devices", "Devices", 14, decimals=0),
        Column("charged_kwh", "Charged", 22, unit="kWh", decimals=0),
        Column("discharged_kwh", "Discharged", 24, unit="kWh", decimals=0), *money,
        Column("availability_pct", "Avail.", 18, unit="%", decimals=1),
    ], group_records(data), level)]
    story += [heading("Per device"), data_table([
        Column("device_id", "Device", 26), Column("group", "Group", 26),
        Column("charged_kwh", "Charged", 20, unit="kWh", decimals=0),
        Column("discharged_kwh", "Discharged", 20, unit="kWh", decimals=0), *money,
        Column("availability_pct", "Avail.", 18, unit="%", decimals=1),
    ], device_records(data), level)]
    if data.anomalies:
        story += [heading("Anomalies"), data_table([
            Column("device_id", "Device", 26), Column("day", "Day", 24, formatter=lambda d: d.isoformat()),
            Column("value_kwh", "Throughput", 26, unit="kWh", decimals=1),
            Column("robust_z", "Robust z", 18, decimals=1), Column("reason", "Reason", 86, wrap=True),
        ], anomaly_records(data), lambda r, c: "warn" if c.key == "robust_z" else None)]
    return render_pdf(path, TITLE, data.meta, story, subtitle="Per device and group")


def write_csv(data: AnalyticsReportData, path: str | Path) -> int:
    """The per-device table as CSV; returns the row count."""
    return write_records_csv(path, DEVICE_COLUMNS, device_records(data))


def write_json(data: AnalyticsReportData, path: str | Path) -> Path:
    """Totals, groups, devices and daily energy as JSON."""
    return write_json_document(path, {
        "report": "analytics", "meta": data.meta.to_record(), "currency": data.currency, "totals": totals(data),
        "groups": group_records(data), "devices": device_records(data),
        "daily": [{"day": d.day, "charged_kwh": d.charged_kwh, "discharged_kwh": d.discharged_kwh}
                  for d in data.daily],
        "anomalies": anomaly_records(data), "priced": data.priced, "notes": list(data.notes),
    })
