"""Fleet health report: every device's SoC, SoH, status and active alarms, and per battery system its packs'
SoC/SoH, the cell imbalance, the lowest-SoH, lowest-voltage and hottest cells (by pack/cell id) and its active
alarms, with a SoH distribution and a SoC-by-site chart.

Thresholds colour only what needs attention: SoH below the warning/alarm limits, low SoC, stale or offline
devices, devices with active alarms.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer

from core.batteries.battery_system import BatterySystem
from reports.exports import write_json_document, write_records_csv
from reports.meta import ReportMeta, format_local
from reports.pdf.charts import bar_chart
from reports.pdf.document import content_width, heading, no_data, render_pdf, subheading
from reports.pdf.tables import Column, Figure, Level, data_table, figures_table, format_number

TITLE = "Fleet health"
DEVICE_COLUMNS = ("device_id", "name", "site", "soc_pct", "soh_pct", "status", "active_alarms")
# Filled only for devices that are battery systems (cell ids are space-separated, weakest first).
SYSTEM_COLUMNS = ("imbalance_mv", "weakest_cells", "lowest_voltage_cells")
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
    cell_id: str  # "pack03/cell07": numbered from 1 as on the rack labels and in alarm source ids
    pack: int  # from 0, as core.batteries and the cell tables number them
    cell: int
    soh_pct: float | None
    capacity_ah: float | None  # None from stored readings (they carry no capacity)
    temp_c: float | None
    voltage_v: float | None


@dataclass(frozen=True)
class PackHealthRow:
    pack_id: str  # "pack03"
    pack: int
    soc_pct: float | None  # mean of its cells
    soh_pct: float | None  # its weakest cell's: a series string is limited by it
    imbalance_mv: float | None  # max - min cell voltage in the pack
    min_voltage_v: float | None
    max_temp_c: float | None


@dataclass(frozen=True)
class SystemAlarmRow:
    source_id: str  # the system, "<system>/packNN" or "<system>/packNN/cellMM"
    rule_id: str
    priority: str
    state: str
    since: datetime


@dataclass(frozen=True)
class BatterySystemHealth:
    system_id: str
    name: str
    soc_pct: float | None
    soh_pct: float | None
    imbalance_mv: float | None  # max - min cell voltage over the whole system
    max_temp_c: float | None
    weakest_cells: tuple[CellHealthRow, ...]  # lowest SoH first
    hottest_cells: tuple[CellHealthRow, ...]  # hottest first
    lowest_voltage_cells: tuple[CellHealthRow, ...] = ()  # lowest voltage first
    packs: tuple[PackHealthRow, ...] = ()
    alarms: tuple[SystemAlarmRow, ...] = ()
    reading_at: datetime | None = None  # when its newest cell reading was taken (None: a live model)


@dataclass(frozen=True)
class FleetHealthReportData:
    meta: ReportMeta
    devices: tuple[DeviceHealthRow, ...]
    systems: tuple[BatterySystemHealth, ...] = ()
    soh_warn_pct: float = 80.0  # a common end-of-first-life mark
    soh_alarm_pct: float = 70.0
    soc_low_pct: float = 10.0
    imbalance_warn_mv: float = 50.0


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _label_width(count: int) -> int:
    return max(2, len(str(count)))  # as core/alarms/layout.py pads source ids, so they sort


def cells_health(system_id: str, name: str, pack_numbers: Sequence[int], voltage_v: np.ndarray, temp_c: np.ndarray,
                 soc_pct: np.ndarray, soh_pct: np.ndarray, *, capacity_ah: np.ndarray | None = None,
                 system_soc_pct: float | None = None, system_soh_pct: float | None = None,
                 alarms: Sequence[SystemAlarmRow] = (), reading_at: datetime | None = None,
                 top_n: int = 5) -> BatterySystemHealth:
    """Summarize one system's cells, given as (packs x cells) arrays with NaN for a missing reading: per-pack
    SoC/SoH/imbalance, and its `top_n` lowest-SoH, lowest-voltage and hottest cells (missing readings are
    never ranked). The system's SoC/SoH default to the mean of its packs'."""
    pack_numbers = [int(p) for p in pack_numbers]
    volt, temp, soc, soh = (np.asarray(a, dtype=np.float64) for a in (voltage_v, temp_c, soc_pct, soh_pct))
    pw = _label_width(max(pack_numbers, default=0) + 1)
    cw = _label_width(volt.shape[1] if volt.ndim == 2 else 0)

    def cell_rows(values: np.ndarray, descending: bool = False) -> tuple[CellHealthRow, ...]:
        flat = values.ravel()
        order = [int(i) for i in np.argsort(-flat if descending else flat, kind="stable") if np.isfinite(flat[i])]
        out = []
        for i in order[:top_n]:
            row, c = np.unravel_index(i, values.shape)
            p = pack_numbers[row]
            out.append(CellHealthRow(f"pack{p + 1:0{pw}d}/cell{c + 1:0{cw}d}", p, int(c), _finite(soh[row, c]),
                                     None if capacity_ah is None else float(capacity_ah[row, c]),
                                     _finite(temp[row, c]), _finite(volt[row, c])))
        return tuple(out)

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN pack gives NaN, shown as a gap
        pack_soc, pack_soh = np.nanmean(soc, axis=1), np.nanmin(soh, axis=1)
        pack_spread = np.nanmax(volt, axis=1) - np.nanmin(volt, axis=1)
        pack_vmin, pack_tmax = np.nanmin(volt, axis=1), np.nanmax(temp, axis=1)
        soc_all = system_soc_pct if system_soc_pct is not None else _finite(np.nanmean(pack_soc))
        soh_all = system_soh_pct if system_soh_pct is not None else _finite(np.nanmean(pack_soh))
        spread = _finite(np.nanmax(volt) - np.nanmin(volt))
        max_temp = _finite(np.nanmax(temp))
    packs = tuple(PackHealthRow(f"pack{p + 1:0{pw}d}", p, _finite(pack_soc[i]), _finite(pack_soh[i]),
                                None if not np.isfinite(pack_spread[i]) else 1000.0 * float(pack_spread[i]),
                                _finite(pack_vmin[i]), _finite(pack_tmax[i]))
                  for i, p in enumerate(pack_numbers))
    return BatterySystemHealth(
        system_id=system_id, name=name, soc_pct=soc_all, soh_pct=soh_all,
        imbalance_mv=None if spread is None else 1000.0 * spread, max_temp_c=max_temp,
        weakest_cells=cell_rows(soh), hottest_cells=cell_rows(temp, descending=True),
        lowest_voltage_cells=cell_rows(volt), packs=packs, alarms=tuple(alarms), reading_at=reading_at,
    )


def battery_system_health(system_id: str, name: str, system: BatterySystem, top_n: int = 5) -> BatterySystemHealth:
    """Summarize a core BatterySystem (a live model: demos and benchmarks) like a stored one."""
    return cells_health(system_id, name, range(system.cell_capacity_ah.shape[0]), system.cell_voltage_v,
                        system.cell_temp_c, system.cell_soc_pct, system.cell_soh_pct,
                        capacity_ah=system.cell_capacity_ah, system_soc_pct=system.system_soc_pct,
                        system_soh_pct=system.system_soh_pct, top_n=top_n)


def cell_ids(cells: Sequence[CellHealthRow]) -> str:
    """'pack03/cell07 pack01/cell02': a ranked cell list in one CSV field."""
    return " ".join(c.cell_id for c in cells)


def device_records(data: FleetHealthReportData) -> list[dict[str, Any]]:
    """One record per device: the PDF device table, the CSV and the JSON share these. A device that is a
    battery system also carries its imbalance and ranked weakest (lowest SoH) and lowest-voltage cell ids."""
    systems = {s.system_id: s for s in data.systems}
    records = []
    for d in data.devices:
        record = {"device_id": d.device_id, "name": d.name, "site": d.site, "soc_pct": d.soc_pct,
                  "soh_pct": d.soh_pct, "status": d.status, "active_alarms": d.active_alarms}
        system = systems.get(d.device_id)
        if system is not None:
            record |= {"imbalance_mv": None if system.imbalance_mv is None else round(system.imbalance_mv, 1),
                       "weakest_cells": cell_ids(system.weakest_cells),
                       "lowest_voltage_cells": cell_ids(system.lowest_voltage_cells)}
        records.append(record)
    return records


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


_PACK_COLUMNS = [
    Column("pack_id", "Pack", 22), Column("soc_pct", "SoC", 20, unit="%", decimals=1),
    Column("soh_pct", "SoH", 20, unit="%", decimals=1), Column("imbalance_mv", "Imbalance", 28, unit="mV", decimals=1),
    Column("min_voltage_v", "Lowest cell", 28, unit="V", decimals=3),
    Column("max_temp_c", "Hottest cell", 28, unit="°C", decimals=1),
]
_ALARM_COLUMNS = [Column("source_id", "Source", 56), Column("rule_id", "Rule", 44), Column("priority", "Priority", 22),
                  Column("state", "State", 16), Column("since", "Since", 36)]


def _cell_columns(with_capacity: bool) -> list[Column]:
    columns = [Column("cell_id", "Cell", 34), Column("soh_pct", "SoH", 22, unit="%", decimals=1)]
    if with_capacity:
        columns.append(Column("capacity_ah", "Capacity", 26, unit="Ah", decimals=2))
    return columns + [Column("temp_c", "Temp.", 22, unit="°C", decimals=1),
                      Column("voltage_v", "Voltage", 24, unit="V", decimals=3)]


def _system_section(system: BatterySystemHealth, data: FleetHealthReportData) -> list:
    width = content_width()
    imbalance_level: Level = ("warn" if system.imbalance_mv is not None and system.imbalance_mv > data.imbalance_warn_mv
                              else None)
    soh_level = lambda r, c: _soh_level(r[c.key], data) if c.key == "soh_pct" else None  # noqa: E731
    figures = [
        Figure("System SoC", format_number(system.soc_pct, 1, "%")),
        Figure("System SoH", format_number(system.soh_pct, 1, "%"), _soh_level(system.soh_pct, data)),
        Figure("Cell voltage imbalance", format_number(system.imbalance_mv, 1, "mV"), imbalance_level,
               f"limit {data.imbalance_warn_mv:.0f} mV"),
        Figure("Hottest cell", format_number(system.max_temp_c, 1, "°C")),
        Figure("Active alarms", f"{len(system.alarms):,}", "warn" if system.alarms else None),
    ]
    if system.reading_at is not None:
        figures.append(Figure("Cell readings from", format_local(system.reading_at, data.meta.local_zone)))
    head: list = [heading(f"Battery system {system.system_id} ({system.name})"), figures_table(figures, width)]
    with_capacity = any(c.capacity_ah is not None for c in system.weakest_cells)
    cells: list = []
    for title, ranked in (("Weakest cells (lowest state of health)", system.weakest_cells),
                          ("Lowest cell voltages", system.lowest_voltage_cells),
                          ("Hottest cells", system.hottest_cells)):
        cells.append(subheading(title))
        rows = [vars(c) for c in ranked]
        cells.append(data_table(_cell_columns(with_capacity), rows, soh_level) if rows else no_data())
    # The figures and the small cell tables read as one block; the pack table (one row per pack) may split.
    story: list = [KeepTogether(head + cells)]
    story.append(subheading("Active alarms"))
    alarm_rows = [{**vars(a), "since": format_local(a.since, data.meta.local_zone)} for a in system.alarms]
    story.append(data_table(_ALARM_COLUMNS, alarm_rows) if alarm_rows else no_data("No active alarms."))
    if system.packs:
        story.append(subheading("Packs"))
        story.append(data_table(_PACK_COLUMNS, [vars(p) for p in system.packs], soh_level))
    return story


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
    """The device table as CSV, battery systems' imbalance and weakest cell ids on their device's row (the full
    cell, pack and alarm tables are in the JSON); returns the row count."""
    return write_records_csv(path, DEVICE_COLUMNS + SYSTEM_COLUMNS, device_records(data))


def write_json(data: FleetHealthReportData, path: str | Path) -> Path:
    """Summary, devices and battery systems (with their cell tables) as JSON."""
    tables = ("weakest_cells", "hottest_cells", "lowest_voltage_cells", "packs", "alarms")
    systems = [{**{k: v for k, v in vars(s).items() if k not in tables},
                **{t: [vars(row) for row in getattr(s, t)] for t in tables}} for s in data.systems]
    return write_json_document(path, {"report": "fleet_health", "meta": data.meta.to_record(),
                                      "summary": summary(data), "devices": device_records(data),
                                      "battery_systems": systems})
