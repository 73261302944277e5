"""Audit trail exports (brief use case 11): CSV and JSON with timestamp, user, action, resource, result
and host on every row. No Qt here: the CLI and scheduled reports use the same functions."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Iterable

from core.audit.trail import AuditEntry, entries_as_records

CSV_COLUMNS = ("id", "timestamp", "user", "action", "resource", "result", "host", "detail", "hash")


def write_audit_csv(entries: Iterable[AuditEntry], path: str | Path) -> int:
    """Write one row per entry (detail as compact JSON); returns the number of rows written."""
    records = entries_as_records(entries)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for record in records:
            writer.writerow({**record, "detail": json.dumps(record["detail"], sort_keys=True, separators=(",", ":"))})
    return len(records)


def write_audit_json(entries: Iterable[AuditEntry], path: str | Path) -> int:
    """Write {"entries": [...]} (one object per entry, UTC ISO 8601 timestamps); returns the count."""
    records = entries_as_records(entries)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"entries": records, "count": len(records)}, indent=2, ensure_ascii=False), encoding="utf-8")
    return len(records)
