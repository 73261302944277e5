"""Audit report from a real database: users, a failed login, a denied action, then the report and its exports."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from core.audit.trail import AuditFilter
from core.errors import GridRoomError
from reports.audit_report import audit_report_data, build_pdf, export_audit, write_csv, write_json
from reports.meta import ReportError
from tests.reports.pdf_checks import assert_pages_look_rendered, csv_rows, pdf_text, render_pages

STRONG = "Correct-Horse-42"


@pytest.fixture
def audited(sqlite_services, clock):
    users = sqlite_services.users
    users.create_first_admin("root-admin", STRONG)
    clock.advance(60)
    admin = users.authenticate("root-admin", STRONG, host="ctrl-ws-01")
    users.create_user(admin, "olga", "operator", STRONG)
    users.create_user(admin, "vic", "viewer", STRONG)
    clock.advance(60)
    with pytest.raises(GridRoomError):
        users.authenticate("olga", "wrong-Password-1", host="field-laptop-7")
    vic = users.authenticate("vic", STRONG, host="ctrl-ws-02")
    with pytest.raises(GridRoomError):
        sqlite_services.audit_log.query(vic)  # a viewer may not read the audit trail: denied and audited
    clock.advance(60)
    return sqlite_services, admin


def test_report_shows_each_entry_with_user_action_result_and_host(audited, tmp_path):
    services, admin = audited
    data = audit_report_data(services, admin, AuditFilter(), local_zone="Europe/Berlin")
    assert [r.id for r in data.rows] == sorted(r.id for r in data.rows)
    results = {r.result for r in data.rows}
    assert {"success", "failure", "denied"} <= results
    pdf = build_pdf(data, tmp_path / "audit.pdf")
    text = pdf_text(pdf)
    for expected in ("root-admin", "olga", "vic", "auth.login", "user.create", "permission.denied", "user:olga",
                     "field-laptop-7", "DENIED", "FAILURE", "Time (Europe/Berlin)"):
        assert expected in text, expected
    assert "2026-01-01 01:01:00 +01:00" in text  # the clock's 00:01 UTC login shown in local time
    assert_pages_look_rendered(render_pages(pdf, tmp_path / "png"))


def test_csv_and_json_carry_the_pdf_rows_in_utc(audited, tmp_path):
    services, admin = audited
    data = audit_report_data(services, admin, AuditFilter(action="auth.*"))
    assert data.rows and all(r.action.startswith("auth.") for r in data.rows)
    write_csv(data, tmp_path / "a.csv")
    rows = csv_rows(tmp_path / "a.csv")
    assert list(rows[0]) == ["id", "timestamp", "user", "action", "resource", "result", "host"]
    assert [int(r["id"]) for r in rows] == [r.id for r in data.rows]
    assert rows[0]["timestamp"].endswith("+00:00")
    doc = json.loads(write_json(data, tmp_path / "a.json").read_text())
    assert doc["filter"] == "action = auth.*" and doc["count"] == len(rows)
    assert [e["user"] for e in doc["entries"]] == [r["user"] for r in rows]
    text = pdf_text(build_pdf(data, tmp_path / "a.pdf"))
    assert "user.create" not in text and "auth.login" in text


def test_empty_period_gives_a_report_that_says_so(audited, tmp_path):
    services, admin = audited
    later = services.clock.now() + timedelta(days=10)
    data = audit_report_data(services, admin, AuditFilter(since=later, until=later + timedelta(days=1)))
    assert data.rows == ()
    text = pdf_text(build_pdf(data, tmp_path / "e.pdf"))
    assert "No data in this period" in text and "Entries" in text


def test_export_is_itself_audited_and_unknown_formats_are_refused(audited, tmp_path):
    services, admin = audited
    data = export_audit(services, admin, AuditFilter(), tmp_path / "out.csv")
    exports = services.audit_log.query(admin, AuditFilter(action="audit.export"))
    assert len(exports) == 1 and exports[0].detail["rows"] == len(data.rows) and exports[0].detail["format"] == "csv"
    with pytest.raises(ReportError, match="use .pdf, .csv or .json"):
        export_audit(services, admin, AuditFilter(), tmp_path / "out.xlsx")
