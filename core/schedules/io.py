"""Schedule import and export as JSON and CSV.

CSV: a header naming the columns start,end,mode,rate_kw (any order), then one entry per line. Times are
ISO 8601 with an offset ("Z" or "+01:00"), converted to UTC; a naive time is refused. Mode is 1/2 or the
words discharge/charge. JSON: {"format": "gridroom-schedule", "format_version": 1, "entries": [{...}]}
with the same four fields per entry (a bare list of entries is accepted too).

Import is all or nothing: parse_* collect every problem (each bad line with its number and reason, then
the structural validation rules such as overlaps) and return no entries if there is any; load_* raise
ScheduleImportError with that list. Nothing else is ever raised for bad input.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from core.schedules.errors import ImportProblem, ScheduleError, ScheduleImportError
from core.schedules.model import Mode, ScheduleEntry
from core.schedules.validation import structural_errors

COLUMNS = ("start", "end", "mode", "rate_kw")
JSON_FORMAT = "gridroom-schedule"
JSON_FORMAT_VERSION = 1
_MODE_WORDS = {"1": Mode.DISCHARGE, "2": Mode.CHARGE, "discharge": Mode.DISCHARGE, "charge": Mode.CHARGE}
# A plain decimal number: float() alone would also take "1_000", "nan" and "infinity".
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


class ScheduleExportError(ScheduleError, ValueError):
    """Entries that cannot be written faithfully (a naive time, a rate that is not a finite number)."""


@dataclass(frozen=True)
class ImportResult:
    """The imported entries, or no entries and every problem found. Never a partial import."""

    entries: tuple[ScheduleEntry, ...]
    problems: tuple[ImportProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def parse_csv(text: str) -> ImportResult:
    """Parse schedule CSV text; never raises for bad input (see the module docstring for the format)."""
    if not isinstance(text, str):
        return _refused([ImportProblem("", f"expected text, got {type(text).__name__}")])
    problems: list[ImportProblem] = []
    entries: list[ScheduleEntry] = []
    lines: list[int] = []
    header: list[str] | None = None
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a field over the csv module's size limit: the rest is unreadable
            problems.append(_at_line(reader.line_num, f"unreadable CSV ({exc})"))
            break
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in row]
            header_problems = _header_problems(header, line)
            if header_problems:
                return _refused(header_problems)
            continue
        if len(row) != len(header):
            problems.append(_at_line(line, f"expected {len(header)} fields ({','.join(header)}), found {len(row)}"))
            continue
        entry, row_problems = _entry_from_fields(dict(zip(header, row)), line, in_csv=True)
        problems.extend(row_problems)
        if entry is not None:
            entries.append(entry)
            lines.append(line)
    if header is None:
        return _refused([ImportProblem("", f"the file is empty; expected a header {','.join(COLUMNS)}")])
    return _finish(entries, lines, problems, lambda line: _at_line(line, ""))


def parse_json(text: str) -> ImportResult:
    """Parse schedule JSON text; never raises for bad input. Problems are located as 'entry N' (1-based)."""
    if not isinstance(text, str):
        return _refused([ImportProblem("", f"expected text, got {type(text).__name__}")])
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        return _refused([ImportProblem("", f"not valid JSON ({exc})")])
    if isinstance(document, dict):
        unknown = sorted(set(document) - {"format", "format_version", "entries"})
        problems = [ImportProblem("", f"unknown key(s) {', '.join(map(repr, unknown))}")] if unknown else []
        if document.get("format", JSON_FORMAT) != JSON_FORMAT:
            problems.append(ImportProblem("", f"format {document['format']!r} is not {JSON_FORMAT!r}"))
        version = document.get("format_version", JSON_FORMAT_VERSION)
        if isinstance(version, bool) or version != JSON_FORMAT_VERSION:
            problems.append(ImportProblem("", f"format_version {version!r} is not supported "
                                              f"(this GridRoom reads {JSON_FORMAT_VERSION})"))
        if "entries" not in document:
            problems.append(ImportProblem("", "missing key 'entries'"))
        if problems:
            return _refused(problems)
        items = document["entries"]
    else:
        items = document
    if not isinstance(items, list):
        return _refused([ImportProblem("", f"'entries' must be a list, got {type(items).__name__}")])
    entries: list[ScheduleEntry] = []
    numbers: list[int] = []
    problems = []
    for number, item in enumerate(items, start=1):
        where = f"entry {number}"
        if not isinstance(item, dict):
            problems.append(ImportProblem(where, f"must be an object with {', '.join(COLUMNS)}"))
            continue
        missing = [c for c in COLUMNS if c not in item]
        unknown = sorted(set(item) - set(COLUMNS))
        if missing or unknown:
            if missing:
                problems.append(ImportProblem(where, f"missing field(s) {', '.join(missing)}"))
            if unknown:
                problems.append(ImportProblem(where, f"unknown field(s) {', '.join(map(repr, unknown))}"))
            continue
        entry, item_problems = _entry_from_fields(item, number, in_csv=False)
        problems.extend(item_problems)
        if entry is not None:
            entries.append(entry)
            numbers.append(number)
    return _finish(entries, numbers, problems, lambda number: ImportProblem(f"entry {number}", ""))


def load_csv(text: str, source: str = "CSV") -> tuple[ScheduleEntry, ...]:
    """The entries of schedule CSV text; raises ScheduleImportError listing every problem."""
    return _entries_or_raise(parse_csv(text), source)


def load_json(text: str, source: str = "JSON") -> tuple[ScheduleEntry, ...]:
    """The entries of schedule JSON text; raises ScheduleImportError listing every problem."""
    return _entries_or_raise(parse_json(text), source)


def to_csv(entries: Sequence[ScheduleEntry], *, mode_words: bool = False) -> str:
    """CSV text that parse_csv reads back exactly (UTC times with 'Z', rates as shortest exact floats)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for index, entry in enumerate(entries, start=1):
        start, end, rate = _exportable(index, entry)
        mode = str(Mode(entry.mode)) if mode_words and entry.mode in (1, 2) else str(int(entry.mode))
        writer.writerow((start, end, mode, rate))
    return out.getvalue()


def to_json(entries: Sequence[ScheduleEntry]) -> str:
    """JSON text that parse_json reads back exactly."""
    items = []
    for index, entry in enumerate(entries, start=1):
        start, end, _ = _exportable(index, entry)
        items.append({"start": start, "end": end, "mode": int(entry.mode), "rate_kw": entry.rate_kw})
    document = {"format": JSON_FORMAT, "format_version": JSON_FORMAT_VERSION, "entries": items}
    return json.dumps(document, indent=2, allow_nan=False) + "\n"


def _exportable(index: int, entry: ScheduleEntry) -> tuple[str, str, str]:
    times = []
    for name in ("start", "end"):
        value = getattr(entry, name)
        if value.tzinfo is None or value.utcoffset() is None:
            raise ScheduleExportError(f"entry {index}: {name} {value.isoformat()} has no time zone")
        # isoformat keeps microseconds when there are any, so the text round-trips exactly.
        times.append(value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"))
    if not math.isfinite(entry.rate_kw):
        raise ScheduleExportError(f"entry {index}: rate {entry.rate_kw} kW is not a finite number")
    return times[0], times[1], repr(entry.rate_kw)


def _header_problems(header: list[str], line: int) -> list[ImportProblem]:
    problems = []
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        problems.append(_at_line(line, f"missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}"))
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        problems.append(_at_line(line, f"unknown column(s) {', '.join(map(repr, unknown))}"))
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        problems.append(_at_line(line, f"column(s) {', '.join(duplicated)} appear more than once"))
    return problems


def _entry_from_fields(fields: dict, where: int, *, in_csv: bool) -> tuple[ScheduleEntry | None, list[ImportProblem]]:
    locate = _at_line if in_csv else (lambda n, message: ImportProblem(f"entry {n}", message))
    problems: list[ImportProblem] = []
    times = {}
    for name in ("start", "end"):
        value, problem = _parse_time(name, fields[name])
        if problem:
            problems.append(locate(where, problem))
        times[name] = value
    mode, problem = _parse_mode(fields["mode"], text_numbers=in_csv)
    if problem:
        problems.append(locate(where, problem))
    rate_kw, problem = _parse_rate(fields["rate_kw"], text_numbers=in_csv)
    if problem:
        problems.append(locate(where, problem))
    if problems:
        return None, problems
    return ScheduleEntry(times["start"], times["end"], mode, rate_kw), []


def _parse_time(name: str, raw: object) -> tuple[datetime | None, str | None]:
    if not isinstance(raw, str):
        return None, f"{name} must be an ISO 8601 text, got {raw!r}"
    text = raw.strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None, f"{name} {raw!r} is not an ISO 8601 time"
    if value.tzinfo is None or value.utcoffset() is None:
        return None, f"{name} {raw!r} has no UTC offset"
    try:
        return value.astimezone(timezone.utc), None
    except OverflowError:  # e.g. 0001-01-01T00:00+14:00 is before the first representable UTC time
        return None, f"{name} {raw!r} is outside the representable time range"


# In CSV everything is text; in JSON a number must be a JSON number ("5" is a string, not a rate).
def _parse_mode(raw: object, *, text_numbers: bool) -> tuple[Mode | None, str | None]:
    if isinstance(raw, int) and not isinstance(raw, bool) and raw in (1, 2):
        return Mode(raw), None
    if isinstance(raw, str) and (text_numbers or not raw.strip().isdigit()) and raw.strip().lower() in _MODE_WORDS:
        return _MODE_WORDS[raw.strip().lower()], None
    return None, f"mode {raw!r} is not 1 (discharge) or 2 (charge)"


def _parse_rate(raw: object, *, text_numbers: bool) -> tuple[float | None, str | None]:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        value = float(raw)
    elif text_numbers and isinstance(raw, str) and _NUMBER.fullmatch(raw.strip()):
        value = float(raw.strip())
    else:
        return None, f"rate_kw {raw!r} is not a number"
    if not math.isfinite(value):
        return None, f"rate_kw {raw!r} is not a finite number"
    return value, None


def _finish(entries, places, problems, locate) -> ImportResult:
    # Structural rules (overlaps, order, rate > 0) make sense only on a complete list of entries, so they
    # run once every line has parsed; their messages then say which line.
    if not problems:
        for issue in structural_errors(entries):
            place = places[issue.entry_index - 1]
            base = locate(place)
            problems.append(ImportProblem(base.location, str(issue), base.line))
    return _refused(problems) if problems else ImportResult(tuple(entries), ())


def _refused(problems: Sequence[ImportProblem]) -> ImportResult:
    return ImportResult((), tuple(problems))


def _at_line(line: int, message: str) -> ImportProblem:
    return ImportProblem(f"line {line}", message, line)


def _entries_or_raise(result: ImportResult, source: str) -> tuple[ScheduleEntry, ...]:
    if result.problems:
        raise ScheduleImportError(source, result.problems)
    return result.entries


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number GridRoom accepts")
