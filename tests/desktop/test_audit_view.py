"""Audit trail view: filters narrow the rows, exports match them, verification reports the chain."""

from __future__ import annotations

import csv
import json
from datetime import timedelta

import pytest
from PySide6.QtCore import QDateTime

from core.auth.roles import Role
from desktop.views.audit_view import AuditView
from tests.desktop.conftest import TEMP, make_user

pytestmark = pytest.mark.asyncio


@pytest.fixture
def history(sqlite_services, admin, clock):
    """Two hours of account activity: logins at t0, user admin an hour later."""
    make_user(sqlite_services, admin, "otto", Role.OPERATOR)
    t_admin = clock.now() + timedelta(hours=1)
    clock.advance(timedelta(hours=1))
    sqlite_services.users.create_user(admin, "vera", Role.VIEWER, TEMP)
    sqlite_services.users.create_user(admin, "tess", Role.TRADER, TEMP)
    sqlite_services.users.deactivate(admin, "tess")
    clock.advance(timedelta(minutes=5))
    return t_admin


async def _view(qtbot, services, principal) -> AuditView:
    view = AuditView(services, principal)
    qtbot.addWidget(view)
    await view.refresh()
    return view


async def test_filters_narrow_the_rows_newest_first(qtbot, sqlite_services, admin, history):
    view = await _view(qtbot, sqlite_services, admin)
    everything = view.model.entries()
    assert len(everything) >= 8
    assert [e.id for e in everything] == sorted((e.id for e in everything), reverse=True)

    view.set_filter_choice(view.user_filter, "otto")
    await view.tasks.idle()
    assert view.model.rowCount() and {e.username for e in view.model.entries()} == {"otto"}
    view.user_filter.setCurrentIndex(0)

    view.set_filter_choice(view.action_filter, "user.*")
    await view.tasks.idle()
    assert {e.action for e in view.model.entries()} == {"user.create", "user.change_password", "user.deactivate"}

    view.resource_filter.setText("user:tess")
    await view.refresh()
    assert [e.action for e in view.model.entries()] == ["user.deactivate", "user.create"]
    view.resource_filter.clear()
    view.action_filter.setCurrentIndex(0)

    view.since_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(history.timestamp())))
    view.since_enabled.setChecked(True)
    await view.tasks.idle()
    assert [e.resource for e in view.model.entries()] == ["user:tess", "user:tess", "user:vera"]
    assert len(view.model.entries()) < len(everything)
    assert view.model.index(0, 0).data() == view.model.entries()[0].at.astimezone().strftime("%Y-%m-%d %H:%M:%S")


async def test_csv_and_json_exports_hold_the_filtered_rows_and_are_audited(qtbot, sqlite_services, admin, history, tmp_path):
    view = await _view(qtbot, sqlite_services, admin)
    view.set_filter_choice(view.action_filter, "user.*")
    await view.tasks.idle()
    shown = [e.id for e in view.model.entries()]

    assert await view.export(tmp_path / "audit.csv", "csv") == len(shown)
    with (tmp_path / "audit.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["id"]) for r in rows] == shown
    assert {r["action"] for r in rows} <= {"user.create", "user.change_password", "user.deactivate"}
    assert all(r["timestamp"] and r["user"] and r["result"] for r in rows)

    assert await view.export(tmp_path / "audit.json", "json") == len(shown)
    document = json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))
    assert [r["id"] for r in document["entries"]] == shown and document["count"] == len(shown)

    view.set_filter_choice(view.action_filter, "audit.export")
    await view.tasks.idle()
    exports = view.model.entries()
    assert [e.detail["format"] for e in exports] == ["json", "csv"]
    assert exports[0].detail["rows"] == len(shown)


async def test_verify_chain_reports_intact(qtbot, sqlite_services, admin, history):
    view = await _view(qtbot, sqlite_services, admin)
    before = view.model.rowCount()
    report = await view.verify()
    assert report.intact
    assert view.chain_label.text().startswith(f"Chain intact: {report.rows_checked} entries checked")
    assert view.model.rowCount() == before + 1  # the verification is audited and shown
    assert view.model.entries()[0].action == "audit.verify"
