"""Import a site's load and PV history (W or kW) from a CSV file, e.g. a household export at 30 min."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np

from core.market.assembly import GapPolicy, assemble
from core.market.columns import find_column, find_time_column, read_points, resolve_unit
from core.market.csv_table import read_csv_text, read_text_file
from core.market.errors import TimeSeriesImportError, note
from core.market.series import TimeSeries
from core.market.solar_position import solar_elevation_deg

NIGHT_RULE = "missing PV while the sun is below the horizon = 0"


@dataclass(frozen=True)
class SiteLocation:
    """Where the PV is: used only to tell night from day."""

    latitude_deg: float
    longitude_deg: float


@dataclass(frozen=True)
class LoadPvHistory:
    """Load and PV series of one site (either may be None when the file has no such column)."""

    load: TimeSeries | None
    pv: TimeSeries | None


def import_load_pv_csv(
    path: Path | str, *, site: SiteLocation | None = None, zone: str | None = None, unit: str | None = None,
    load_column: str | None = None, pv_column: str | None = None, step: timedelta | None = None,
    gaps: GapPolicy = GapPolicy(), output_unit: str = "kW",
) -> LoadPvHistory:
    """Import exactly the file at `path`. See parse_load_pv_csv for the rules."""
    text, source = read_text_file(path)
    return parse_load_pv_csv(text, source=source, site=site, zone=zone, unit=unit, load_column=load_column,
                             pv_column=pv_column, step=step, gaps=gaps, output_unit=output_unit)


def parse_load_pv_csv(
    text: str, *, source: str = "<text>", site: SiteLocation | None = None, zone: str | None = None,
    unit: str | None = None, load_column: str | None = None, pv_column: str | None = None,
    step: timedelta | None = None, gaps: GapPolicy = GapPolicy(), output_unit: str = "kW",
) -> LoadPvHistory:
    """Parse load/PV CSV text into power series in `output_unit` (kW by default).

    Columns: load = first header naming load/consumption/demand; PV = first naming pv/solar/production
    that is not a forecast (or pass the names). Units come from the header ('load_w', 'PV [kW]') or `unit`.
    Missing PV is a gap like any other, except at night: when `site` is given, a missing PV value whose
    interval midpoint has the sun below the horizon is set to 0, reported per run of night rows.
    Load is never zero-filled: a missing load is a gap under `gaps`.
    """
    table = read_csv_text(text, source)
    time_column = find_time_column(table)
    load_index = find_column(table, load_column, ("load", "consumption", "demand"), (), time_column, "load")
    pv_index = find_column(table, pv_column, ("pv", "solar", "production", "generation"), ("forecast",),
                           time_column, "PV")
    if load_index is None and pv_index is None:
        raise TimeSeriesImportError(source, table.header_line, "load or PV column",
                                    f"no load or PV column among {list(table.header)}; pass load_column=/pv_column=")
    load = pv = None
    if load_index is not None:
        load = _import_column(table, time_column, load_index, "load", unit, zone, step, gaps, output_unit, None)
    if pv_index is not None:
        night = _night_rule(site, table.header[pv_index]) if site is not None else None
        pv = _import_column(table, time_column, pv_index, "pv", unit, zone, step, gaps, output_unit, night)
    return LoadPvHistory(load, pv)


def _import_column(table, time_column, column, name, unit, zone, step, gaps, output_unit, before_gaps):
    source_unit = resolve_unit(table, column, unit)
    if source_unit.quantity != "power":
        raise TimeSeriesImportError(table.source, table.header_line, "power units",
                                    f"column {table.header[column]!r} is in {source_unit.symbol}; W or kW expected")
    notes: list[str] = []
    points = read_points(table, time_column, column, zone, notes)
    series = assemble(points, name=name, unit=source_unit.symbol, source=table.source, step=step, gaps=gaps,
                      notes=notes, before_gaps=before_gaps)
    if series.unit == output_unit:
        return series
    return series.to_unit(output_unit).with_notes(note(None, f"converted {series.unit} to {output_unit}", "output unit"))


def _night_rule(site: SiteLocation, column_name: str):
    def fill_night(start_seconds: np.ndarray, values: np.ndarray, lines: np.ndarray, notes: list[str]) -> np.ndarray:
        if start_seconds.size < 2:
            return values
        step = int(start_seconds[1] - start_seconds[0])
        # Judge each interval by its midpoint: a 30-min interval starting 10 min before sunrise is night.
        elevation = solar_elevation_deg(start_seconds + step / 2, site.latitude_deg, site.longitude_deg)
        night_missing = np.isnan(values) & (elevation < 0.0)
        if not night_missing.any():
            return values
        values = values.copy()
        values[night_missing] = 0.0
        edges = np.diff(np.concatenate(([0], night_missing.astype(np.int8), [0])))
        for begin, end in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]):
            run_lines = lines[begin:end][lines[begin:end] > 0]
            where = (f"lines {run_lines.min()}-{run_lines.max()}" if run_lines.size else "absent rows")
            first = np.datetime64(int(start_seconds[begin]), "s")
            notes.append(note(None, f"{where}: {end - begin} missing {column_name!r} value(s) from {first}Z "
                                    f"set to 0 at night", NIGHT_RULE))
        return values

    return fill_night
