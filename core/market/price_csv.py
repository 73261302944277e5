"""Import day-ahead prices from a CSV file: UTC timestamps, or local wall time plus a zone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from core.market.assembly import GapPolicy, assemble
from core.market.columns import find_column, find_time_column, read_points, resolve_unit
from core.market.csv_table import read_csv_text, read_text_file
from core.market.errors import TimeSeriesImportError, note
from core.market.series import TimeSeries
from core.market.units import convert


def import_price_csv(
    path: Path | str, *, zone: str | None = None, unit: str | None = None, value_column: str | None = None,
    step: timedelta | None = None, gaps: GapPolicy = GapPolicy(), output_unit: str = "EUR/MWh",
    name: str = "day-ahead price",
) -> TimeSeries:
    """Import prices from exactly the file at `path`. See parse_price_csv for the rules."""
    text, source = read_text_file(path)
    return parse_price_csv(text, source=source, zone=zone, unit=unit, value_column=value_column, step=step,
                           gaps=gaps, output_unit=output_unit, name=name)


def parse_price_csv(
    text: str, *, source: str = "<text>", zone: str | None = None, unit: str | None = None,
    value_column: str | None = None, step: timedelta | None = None, gaps: GapPolicy = GapPolicy(),
    output_unit: str = "EUR/MWh", name: str = "day-ahead price",
) -> TimeSeries:
    """Parse price CSV text into a TimeSeries in `output_unit`; raise TimeSeriesImportError on bad input.

    - Columns: the time column is the first header naming time (else the first column); the price column
      is `value_column`, else the first header naming a price, else the only other column.
    - Unit: from the header ('price_eur_per_mwh', 'Price [EUR/MWh]') or `unit`; never guessed from values.
    - Time: timestamps with 'Z'/offset are used as they are; naive ones are local time in `zone`, or UTC
      when the header says so. A repeated autumn hour is read by order (first summer, second winter);
      an empty row at a nonexistent spring hour is dropped; each case is reported in the notes.
    - Identical duplicates are dropped (noted); conflicting ones are rejected naming both lines.
    - Gaps follow `gaps` (reject by default).
    """
    table = read_csv_text(text, source)
    time_column = find_time_column(table)
    column = find_column(table, value_column, ("price", "eur", "ct/", "ct_"), (), time_column, "price")
    if column is None:
        others = [i for i in range(len(table.header) or len(table.rows[0].cells)) if i != time_column]
        if len(others) != 1:
            raise TimeSeriesImportError(source, table.header_line, "price column",
                                        f"cannot tell the price column among {list(table.header)}; pass value_column=")
        column = others[0]
    source_unit = resolve_unit(table, column, unit)
    notes: list[str] = []
    points = read_points(table, time_column, column, zone, notes)
    series = assemble(points, name=name, unit=source_unit.symbol, source=source, step=step, gaps=gaps, notes=notes)
    if series.unit != output_unit:
        converted = TimeSeries(name, output_unit, series.step, series.start_utc,
                               convert(series.values, series.unit, output_unit), series.notes)
        return converted.with_notes(note(None, f"converted {series.unit} to {converted.unit}", "output unit"))
    return series
