"""Fleet health report: every device's SoC, SoH, status and active alarms, and per battery system the weakest
and hottest cells and the cell imbalance, with a SoH distribution and a SoC-by-site chart.

Thresholds colour only what needs attention: SoH below the warning/alarm limits, low SoC, stale or offline
devices, devices with active alarms.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer

from core.batteries.battery_system import BatterySystem
from reports.exports import write_json_document, write_records_csv
from reports.meta import ReportMeta
from reports.pdf.charts import bar_chart
from reports.pdf.document import content_width, heading, no_data, render_pdf, subheading
from reports.pdf.tables import Column, Figure, Level, data_table, figures_table, format_number

TITLE = "Fleet health"
DEVICE_COLUMNS = ("device_id", "name", "site", "soc_pct", "soh_pct", "status", "active_alarms")
SOH_BINS_PCT = (0, 70, 75, 80, 85, 90, 95, 100.0001)


@dataclass(frozen=True)
class DeviceHealthRow:
    device_id: str
    name: str
    site: str
    soc_pct: float | None  # None when the device has never reported
    soh_pct: float | None
    status: str  # online | stale | offline
    active_alarms: int


@dataclass(frozen=True)
class CellHealthRow:
    pack: int  # from 0, as core.batteries numbers them
    cell: int
    soh_pct: float
    capacity_ah: float
    temp_c: float
    voltage_v: float


@dataclass(frozen=True)
class BatterySystemHealth:
    system_id: str
    name: str
    soc_pct: float
    soh_pct: float
    imbalance_mv: float  # max - min cell voltage over the whole system
    max_temp_c: float
    weakest_cells: tuple[CellHealthRow, ...]  # lowest usable capacity first
    hottest_cells: tuple[CellHealthRow, ...]  # hottest first


@dataclass(frozen=True)
class FleetHealthReportData:
    meta: ReportMeta
    devices: tuple[DeviceHealthRow, ...]
    systems: tuple[BatterySystemHealth, ...] = ()
    soh_warn_pct: float = 80.0  # a common end-of-first-life mark
    soh_alarm_pct: float = 70.0
    soc_low_pct: float = 10.0
    imbalance_warn_mv: float = 50.0


def battery_system_health(system_id: str, name: str, system: BatterySystem, top_n: int = 5) -> BatterySystemHealth:
    """Summarize a core BatterySystem: system SoC/SoH/imbalance and its `top_n` weakest and hottest cells."""
    capacity = system.cell_capacity_ah
    soh, temp, volt = system.cell_soh_pct, system.cell_temp_c, system.cell_voltage_v

    def cells(flat_order: np.ndarray) -> tuple[CellHealthRow, ...]:
        out = []
        for flat in flat_order[:top_n]:
            p, c = np.unravel_index(int(flat), capacity.shape)
            out.append(CellHealthRow(int(p), int(c), float(soh[p, c]), float(capacity[p, c]), float(temp[p, c]),
                                     float(volt[p, c])))
        return tuple(out)

    return BatterySystemHealth(
        system_id=system_id, name=name, soc_pct=system.system_soc_pct, soh_pct=system.system_soh_pct,
        imbalance_mv=1000.0 * system.system_imbalance_v, max_temp_c=float(temp.max()),
        weakest_cells=cells(np.argsort(capacity, axis=None, kind="stable")),
        hottest_cells=cells(np.argsort(-temp, axis=None, kind="stable")),
    )


def device_records(data: FleetHealthReportData) -> list[dict[str, Any]]:
    """One record per device: the PDF device table, the CSV and the JSON share these."""
    return [{"device_id": d.device_id, "name": d.name, "site": d.site, "soc_pct": d.soc_pct, "soh_pct": d.soh_pct,
             "status": d.status, "active_alarms": d.active_alarms} for d in data.devices]


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def summary(data: FleetHealthReportData) -> dict[str, Any]:
    """Fleet totals: device counts by status, mean SoC/SoH, devices below the SoH limit, active alarms."""
    devices = data.devices
    return {
        "devices": len(devices),
        "online": sum(d.status == "online" for d in devices),
        "stale": sum(d.status == "stale" for d in devices),
        "offline": sum(d.status == "offline" for d in devices),
        "mean_soc_pct": _mean([d.soc_pct for d in devices]),
        "mean_soh_pct": _mean([d.soh_pct for d in devices]),
        "below_soh_warn": sum(d.soh_pct is not None and d.soh_pct < data.soh_warn_pct for d in devices),
        "active_alarms": sum(d.active_alarms for d in devices),
    }


def _soh_level(value: float | None, data: FleetHealthReportData) -> Level:
    if value is None:
        return None
    return "alarm" if value < data.soh_alarm_pct else "warn" if value < data.soh_warn_pct else None


def _device_level(data: FleetHealthReportData):
    def level(row: Mapping[str, Any], column: Column) -> Level:
        key = column.key
        if key == "soh_pct":
            return _soh_level(row[key], data)
        if key == "soc_pct":
            return "warn" if row[key] is not None and row[key] < data.soc_low_pct else None
        if key == "status":
            return {"offline": "alarm", "stale": "warn"}.get(row[key])
        if key == "active_alarms":
            return "warn" if row[key] else None
        return None
    return level


def _charts(data: FleetHealthReportData) -> list:
    soh = np.array([d.soh_pct for d in data.devices if d.soh_pct is not None], dtype=float)
    counts, _ = np.histogram(soh, bins=SOH_BINS_PCT)
    labels = ["< 70"] + [f"{lo:.0f}-{hi:.0f}" for lo, hi in zip(SOH_BINS_PCT[1:-1], (75, 80, 85, 90, 95, 100))]
    soh_chart = bar_chart(labels, counts.tolist(), title="State of health distribution", value_label="devices",
                          highlight=[hi <= data.soh_warn_pct for hi in SOH_BINS_PCT[1:]], height_mm=55)
    by_site: dict[str, list[float]] = defaultdict(list)
    for d in data.devices:
        if d.soc_pct is not None:
            by_site[d.site].append(d.soc_pct)
    sites = sorted(by_site)
    means = [sum(by_site[s]) / len(by_site[s]) for s in sites]
    soc_chart = bar_chart(sites, means, title="Mean state of charge by site", value_label="SoC (%)",
                          highlight=[m < data.soc_low_pct for m in means], height_mm=60)
    return [soh_chart, soc_chart]


_CELL_COLUMNS = [
    Column("pack", "Pack", 16, decimals=0), Column("cell", "Cell", 16, decimals=0),
    Column("soh_pct", "SoH", 22, unit="%", decimals=1), Column("capacity_ah", "Capacity", 26, unit="Ah", decimals=2),
    Column("temp_c", "Temp.", 22, unit="°C", decimals=1), Column("voltage_v", "Voltage", 24, unit="V", decimals=3),
]


def _system_section(system: BatterySystemHealth, data: FleetHealthReportData) -> list:
    width = content_width()
    imbalance_level: Level = "warn" if system.imbalance_mv > data.imbalance_warn_mv else None
    story: list = [
        heading(f"Battery system {system.system_id} ({system.name})"),
        figures_table([
            Figure("System SoC", format_number(system.soc_pct, 1, "%")),
            Figure("System SoH", format_number(system.soh_pct, 1, "%"), _soh_level(system.soh_pct, data)),
            Figure("Cell voltage imbalance", format_number(system.imbalance_mv, 1, "mV"), imbalance_level,
                   f"limit {data.imbalance_warn_mv:.0f} mV"),
            Figure("Hottest cell", format_number(system.max_temp_c, 1, "°C")),
        ], width),
    ]
    for title, cells in (("Weakest cells (lowest usable capacity)", system.weakest_cells),
                         ("Hottest cells", system.hottest_cells)):
        story.append(subheading(title))
        rows = [vars(c) for c in cells]
        story.append(data_table(_CELL_COLUMNS, rows, lambda r, c: _soh_level(r[c.key], data)
                                if c.key == "soh_pct" else None) if rows else no_data())
    return [KeepTogether(story)]  # a system's figures and its two small tables read as one block


def build_pdf(data: FleetHealthReportData, path: str | Path) -> Path:
    """Render the fleet health report to `path`."""
    totals = summary(data)
    story: list = [heading("Summary")]
    if not data.devices and not data.systems:
        return render_pdf(path, TITLE, data.meta, story + [no_data()], subtitle="Devices and battery systems")
    warn = data.soh_warn_pct
    story.append(figures_table([
        Figure("Devices", f"{totals['devices']:,}"),
        Figure("Online", f"{totals['online']:,}"),
        Figure("Stale", f"{totals['stale']:,}", "warn" if totals["stale"] else None),
        Figure("Offline", f"{totals['offline']:,}", "alarm" if totals["offline"] else None),
        Figure("Mean state of charge", format_number(totals["mean_soc_pct"], 1, "%")),
        Figure("Mean state of health", format_number(totals["mean_soh_pct"], 1, "%")),
        Figure(f"Devices with SoH below {warn:.0f} %", f"{totals['below_soh_warn']:,}",
               "warn" if totals["below_soh_warn"] else None),
        Figure("Active alarms", f"{totals['active_alarms']:,}", "warn" if totals["active_alarms"] else None),
    ], content_width()))
    if data.devices:
        story += [Spacer(1, 4 * mm), *_charts(data)]
    for system in data.systems:
        story += _system_section(system, data)
    story.append(heading("Devices"))
    columns = [
        Column("device_id", "Device", 30), Column("name", "Name", 48), Column("site", "Site", 32),
        Column("soc_pct", "SoC", 18, unit="%", decimals=1), Column("soh_pct", "SoH", 18, unit="%", decimals=1),
        Column("status", "Status", 18), Column("active_alarms", "Alarms", 16, decimals=0),
    ]
    rows = device_records(data)
    story.append(data_table(columns, rows, _device_level(data)) if rows else no_data())
    return render_pdf(path, TITLE, data.meta, story, subtitle="Devices and battery systems")


def write_csv(data: FleetHealthReportData, path: str | Path) -> int:
    """The device table as CSV (battery-system cell tables are in the JSON); returns the row count."""
    return write_records_csv(path, DEVICE_COLUMNS, device_records(data))


def write_json(data: FleetHealthReportData, path: str | Path) -> Path:
    """Summary, devices and battery systems (with their cell tables) as JSON."""
    systems = [{**{k: v for k, v in vars(s).items() if k not in ("weakest_cells", "hottest_cells")},
                "weakest_cells": [vars(c) for c in s.weakest_cells],
                "hottest_cells": [vars(c) for c in s.hottest_cells]} for s in data.systems]
    return write_json_document(path, {"report": "fleet_health", "meta": data.meta.to_record(),
                                      "summary": summary(data), "devices": device_records(data),
                                      "battery_systems": systems})
