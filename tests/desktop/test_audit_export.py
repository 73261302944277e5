"""reports.audit_export: the files hold exactly the entries given, with the brief's columns."""

from __future__ import annotations

import csv
import json

from core.auth.roles import Role
from reports.audit_export import CSV_COLUMNS, write_audit_csv, write_audit_json
from tests.desktop.conftest import TEMP


def test_csv_and_json_round_trip_the_entries(sqlite_services, admin, tmp_path):
    sqlite_services.users.create_user(admin, "otto", Role.OPERATOR, TEMP, 'Otto "quoted", comma')
    entries = sqlite_services.audit_log.query(admin)
    assert write_audit_csv(entries, tmp_path / "a" / "audit.csv") == len(entries)
    with (tmp_path / "a" / "audit.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert tuple(reader.fieldnames) == CSV_COLUMNS
    assert [(int(r["id"]), r["user"], r["action"], r["result"], r["host"]) for r in rows] == [
        (e.id, e.username, e.action, e.result, e.host) for e in entries
    ]
    assert json.loads(rows[0]["detail"]) == entries[0].detail

    assert write_audit_json(entries, tmp_path / "audit.json") == len(entries)
    document = json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))
    assert [(r["id"], r["timestamp"], r["hash"]) for r in document["entries"]] == [
        (e.id, e.at.isoformat(), e.hash) for e in entries
    ]
