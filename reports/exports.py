"""CSV and JSON writing shared by the reports: same records as the PDF tables, UTC ISO 8601 times, UTF-8."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any


def plain(value: Any) -> Any:
    """A value as JSON/CSV carries it: ISO 8601 for times, enum values, None for NaN."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def write_records_csv(path: str | Path, columns: Sequence[str], records: Iterable[Mapping[str, Any]]) -> int:
    """One header row of `columns`, then one row per record; returns the number of data rows."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for record in records:
            writer.writerow(["" if record.get(c) is None else plain(record.get(c)) for c in columns])
            count += 1
    return count


def write_json_document(path: str | Path, document: Mapping[str, Any]) -> Path:
    """`document` as indented JSON (times as ISO 8601 UTC)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plain(document), indent=2, ensure_ascii=False), encoding="utf-8")
    return path
