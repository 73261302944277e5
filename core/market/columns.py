"""Finding the time column, a value column and the unit in a CSV header, and reading timestamps to UTC."""

from __future__ import annotations

from datetime import datetime, timezone

from core.market.assembly import Point
from core.market.csv_table import CsvTable, parse_number
from core.market.errors import TimeSeriesImportError, UnknownUnitError, note
from core.market.timestamps import WallClockLocalizer, parse_timestamp
from core.market.units import KNOWN_UNITS, Unit, parse_unit, unit_from_column_name

_TIME_WORDS = ("time", "date", "mtu", "start", "utc", "period", "datetime")


def find_time_column(table: CsvTable) -> int:
    """Index of the time column: the first header naming time, else column 0 (also when there is no header)."""
    for i, name in enumerate(table.header):
        if any(word in name.lower() for word in _TIME_WORDS):
            return i
    return 0


def find_column(table: CsvTable, wanted: str | None, words: tuple[str, ...], exclude: tuple[str, ...],
                time_column: int, what: str) -> int | None:
    """Index of a value column: the one named `wanted`, else the first whose name holds one of `words`."""
    if wanted is not None:
        if wanted not in table.header:
            raise TimeSeriesImportError(table.source, table.header_line, "column exists",
                                        f"no column {wanted!r}; the header has {list(table.header)}")
        return table.header.index(wanted)
    for i, name in enumerate(table.header):
        lowered = name.lower()
        if i != time_column and any(w in lowered for w in words) and not any(x in lowered for x in exclude):
            return i
    return None


def resolve_unit(table: CsvTable, column: int, given: str | None) -> Unit:
    """The unit from the header, or the one the caller gave; both present must agree. Never guessed."""
    name = table.header[column] if table.header else f"column {column + 1}"
    try:
        declared = unit_from_column_name(name) if table.header else None
        chosen = parse_unit(given) if given is not None else None
    except UnknownUnitError as exc:
        raise TimeSeriesImportError(table.source, table.header_line, "known units", str(exc)) from exc
    if declared and chosen and declared != chosen:
        raise TimeSeriesImportError(table.source, table.header_line, "one unit",
                                    f"header {name!r} says {declared.symbol} but unit={given!r} was given")
    unit = declared or chosen
    if unit is None:
        raise TimeSeriesImportError(
            table.source, table.header_line, "unit required",
            f"header {name!r} names no unit; pass unit= one of {', '.join(KNOWN_UNITS)}",
        )
    return unit


def read_points(table: CsvTable, time_column: int, value_column: int, zone: str | None,
                notes: list[str]) -> list[Point]:
    """Read (line, UTC start, value) from each row; local wall times go through the DST rules."""
    source = table.source
    decimal_comma = table.delimiter == ";"
    time_name = table.header[time_column] if table.header else "column 1"
    value_name = table.header[value_column] if table.header else f"column {value_column + 1}"
    header_says_utc = "utc" in time_name.lower() or "gmt" in time_name.lower()
    localizer = WallClockLocalizer(zone) if zone else None
    saw_aware: bool | None = None
    points: list[Point] = []
    for row in table.rows:
        if len(row.cells) <= max(time_column, value_column):
            raise TimeSeriesImportError(source, row.line, "column count",
                                        f"{len(row.cells)} field(s), expected at least {max(time_column, value_column) + 1}")
        stamp = parse_timestamp(row.cells[time_column])
        if stamp is None:
            raise TimeSeriesImportError(source, row.line, "readable timestamps",
                                        f"{row.cells[time_column][:40]!r} in {time_name!r} is not a timestamp")
        if stamp.microsecond:
            raise TimeSeriesImportError(source, row.line, "whole seconds",
                                        f"timestamp {row.cells[time_column][:40]!r} has a fraction of a second")
        aware = stamp.tzinfo is not None
        if saw_aware is not None and aware != saw_aware:
            raise TimeSeriesImportError(source, row.line, "one timestamp style",
                                        "timestamps mix with-offset and without-offset forms")
        saw_aware = aware
        value = parse_number(row.cells[value_column], source=source, line=row.line, column=value_name,
                             decimal_comma=decimal_comma)
        if not header_says_utc and localizer is None and stamp.tzinfo is None:
            raise TimeSeriesImportError(
                source, row.line, "time zone required",
                f"timestamp {row.cells[time_column]!r} has no offset and header {time_name!r} does not say UTC; "
                "pass zone= (e.g. 'Europe/Brussels') or 'UTC'",
            )
        try:
            start = _to_utc(stamp, localizer, value, row.line, source, notes)
        except OverflowError:
            raise TimeSeriesImportError(source, row.line, "timestamps in range",
                                        f"{row.cells[time_column][:40]!r} is outside the representable range") from None
        if start is None:
            continue
        points.append(Point(row.line, start, value))
    return points


def _to_utc(stamp: datetime, localizer: WallClockLocalizer | None, value: float, line: int, source: str,
            notes: list[str]) -> datetime | None:
    """UTC start of a row, None for a row dropped by a reported rule."""
    if stamp.tzinfo is not None:
        return stamp.astimezone(timezone.utc)
    if localizer is not None:
        return _localize(localizer, stamp, value, line, source, notes)
    # Naive and no zone: the caller has checked that the header says UTC.
    return stamp.replace(tzinfo=timezone.utc)


def _localize(localizer: WallClockLocalizer, wall: datetime, value: float, line: int, source: str,
              notes: list[str]) -> datetime | None:
    start, problem, ambiguous = localizer.to_utc(wall)
    if problem is None:
        if ambiguous:
            notes.append(note(line, f"repeated local time {wall.isoformat()} read as {start:%Y-%m-%dT%H:%MZ}",
                              "repeated autumn hour: first = summer time, second = winter time"))
        return start
    if problem.kind == "nonexistent" and value != value:  # NaN: an empty placeholder row
        notes.append(note(line, f"empty row for {problem.message} dropped", "nonexistent local times dropped when empty"))
        return None
    raise TimeSeriesImportError(source, line, f"{problem.kind} local time", problem.message)
