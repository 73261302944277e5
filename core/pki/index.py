"""The CA's record of every certificate it issued: ``index.jsonl`` in the CA folder, one JSON object a line.

Fields: serial (hex string, so JSON readers without big integers keep it exact), kind (device, control,
server), device_id (the certificate's CN), issued_at, not_after, revoked_at and reason (null until revoked).
Times are ISO 8601 UTC. Revoking rewrites the file through a temporary file and an atomic rename, so a crash
leaves either the old or the new index, never half of one.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from core.pki.errors import CAFolderCorrupt

INDEX_FILE = "index.jsonl"


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One issued certificate as the CA remembers it. Times are aware UTC."""

    serial: int
    kind: str
    device_id: str
    issued_at: datetime
    not_after: datetime
    revoked_at: datetime | None = None
    reason: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def revoke(self, when: datetime, reason: str) -> IndexEntry:
        return replace(self, revoked_at=when, reason=reason)

    def to_json(self) -> str:
        row = asdict(self)
        row["serial"] = format(self.serial, "X")
        for key in ("issued_at", "not_after", "revoked_at"):
            row[key] = _iso(row[key])
        return json.dumps(row, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> IndexEntry:
        row = json.loads(line)
        return cls(
            serial=int(row["serial"], 16),
            kind=str(row["kind"]),
            device_id=str(row["device_id"]),
            issued_at=_parse(row["issued_at"]),
            not_after=_parse(row["not_after"]),
            revoked_at=_parse(row["revoked_at"]) if row.get("revoked_at") else None,
            reason=row.get("reason"),
        )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(timezone.utc).isoformat()


def _parse(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"naive time {text!r}")
    return value.astimezone(timezone.utc)


def read_index(folder: Path) -> list[IndexEntry]:
    """All entries, oldest first; raise CAFolderCorrupt naming the first bad line."""
    path = folder / INDEX_FILE
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(IndexEntry.from_json(line))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CAFolderCorrupt(f"{path} line {number} is not a certificate record: {exc}") from exc
    return entries


def append_entry(folder: Path, entry: IndexEntry) -> None:
    """Add one issued certificate to the index (fsynced: an issued certificate must never go unrecorded)."""
    path = folder / INDEX_FILE
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(entry.to_json() + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def write_index(folder: Path, entries: list[IndexEntry]) -> None:
    """Replace the whole index atomically."""
    path = folder / INDEX_FILE
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.writelines(entry.to_json() + "\n" for entry in entries)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
