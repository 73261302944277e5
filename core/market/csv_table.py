"""Reading a delimited text file into numbered rows, with typed errors: the first step of every CSV import."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from core.market.errors import TimeSeriesImportError
from core.market.timestamps import parse_timestamp

MAX_FILE_BYTES = 200 * 1024 * 1024  # a decade of 15-min data is ~20 MB; more is not a price file


@dataclass(frozen=True)
class CsvRow:
    line: int  # 1-based line in the file where the row starts
    cells: tuple[str, ...]


@dataclass(frozen=True)
class CsvTable:
    """Header (empty tuple when the file has none) and data rows, each with its line number."""

    source: str
    header: tuple[str, ...]
    header_line: int | None
    rows: tuple[CsvRow, ...]
    delimiter: str


def read_text_file(path: Path | str) -> tuple[str, str]:
    """Read exactly the file the user picked as UTF-8 (BOM tolerated); return (text, source name)."""
    path = Path(path)
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise TimeSeriesImportError(source, None, "file size", f"file is {size} bytes, more than {MAX_FILE_BYTES}")
        raw = path.read_bytes()
    except OSError as exc:
        raise TimeSeriesImportError(source, None, "readable file", f"cannot read file: {exc.strerror or exc}") from exc
    try:
        return raw.decode("utf-8-sig"), source
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise TimeSeriesImportError(source, line, "UTF-8 text", f"byte {exc.start} is not UTF-8") from exc


def _sniff_delimiter(lines: list[str]) -> str:
    # The delimiter is the candidate that splits the first lines into the same number (>1) of fields.
    for candidate in (",", ";", "\t"):
        counts = {line.count(candidate) for line in lines if line.strip()}
        if len(counts) == 1 and counts != {0}:
            return candidate
    for candidate in (",", ";", "\t"):
        if any(candidate in line for line in lines):
            return candidate
    return ","


def read_csv_text(text: str, source: str = "<text>") -> CsvTable:
    """Split text into rows; blank lines and '#' comment lines are skipped; detect the header row.

    The header is the first row whose first cell is not a timestamp. A file without a header is allowed.
    """
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise TimeSeriesImportError(source, line, "text file", "NUL character: this is not a CSV text file")
    first_lines = [ln for ln in text.splitlines()[:20] if ln.strip() and not ln.lstrip().startswith("#")]
    if not first_lines:
        raise TimeSeriesImportError(source, None, "non-empty file", "the file holds no rows")
    delimiter = _sniff_delimiter(first_lines)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[CsvRow] = []
    header: tuple[str, ...] = ()
    header_line: int | None = None
    start_line = 1
    try:
        for cells in reader:
            line = start_line
            start_line = reader.line_num + 1
            stripped = tuple(c.strip() for c in cells)
            if not any(stripped) or stripped[0].startswith("#"):
                continue
            if header_line is None and not rows and parse_timestamp(stripped[0]) is None:
                header, header_line = stripped, line
                continue
            rows.append(CsvRow(line, stripped))
    except csv.Error as exc:
        raise TimeSeriesImportError(source, reader.line_num, "CSV syntax", str(exc)) from exc
    if not rows:
        raise TimeSeriesImportError(source, header_line, "non-empty file", "the file holds a header but no data rows")
    return CsvTable(source, header, header_line, tuple(rows), delimiter)


def parse_number(text: str, *, source: str, line: int, column: str, decimal_comma: bool) -> float:
    """Parse a value cell; empty, 'nan' and 'NA' mean missing (NaN). Junk and infinities are errors."""
    cell = text.strip()
    if cell == "" or cell.lower() in ("nan", "na", "n/a", "null"):
        return math.nan
    if decimal_comma:
        cell = cell.replace(",", ".")
    try:
        value = float(cell)
    except ValueError:
        raise TimeSeriesImportError(
            source, line, "numeric values", f"column {column!r} holds {text[:40]!r}, which is not a number"
        ) from None
    if math.isinf(value) or (math.isnan(value)):
        raise TimeSeriesImportError(source, line, "finite values", f"column {column!r} holds {text[:40]!r}")
    return value
