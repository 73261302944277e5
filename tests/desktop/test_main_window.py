"""Main window: docks by role, permissions applied from the registry, layouts saved per user, runtime
state reaching the status bar through the event pump."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from core.auth.roles import Role
from core.runtime.runtime import Runtime
from desktop.main_window import MainWindow
from desktop.status_bar import KEYRING_WARNING
from tests.desktop.conftest import make_user

pytestmark = pytest.mark.asyncio


async def _window(qtbot, services, principal, settings, runtime=None) -> MainWindow:
    window = MainWindow(services, runtime or Runtime(services.clock), principal, settings=settings)
    qtbot.addWidget(window)
    window.show()
    await window.idle()
    return window


async def test_admin_gets_every_view_as_a_tabbed_dock(qtbot, sqlite_services, admin, layout_settings):
    window = await _window(qtbot, sqlite_services, admin, layout_settings)
    assert set(window.docks) == {"fleet", "device", "battery", "users", "audit", "alarms", "devices", "schedules",
                                 "schedule_status", "analytics", "optimization"}
    assert window.tabifiedDockWidgets(window.docks["fleet"])  # tabbed together
    for action_id in ("view.users", "view.audit", "users.create", "audit.verify", "audit.export_csv"):
        assert window.registry.action(action_id).isEnabled(), action_id
    shortcuts = {v: window.registry.action(f"view.{v}").shortcut().toString() for v in window.docks}
    assert shortcuts == {"fleet": "Ctrl+1", "device": "Ctrl+2", "battery": "Ctrl+3", "users": "Ctrl+4", "audit": "Ctrl+5",
                         "alarms": "Ctrl+6", "devices": "Ctrl+7", "schedules": "Ctrl+8",
                         "schedule_status": "Ctrl+Shift+8", "optimization": "Ctrl+9", "analytics": "Ctrl+0"}
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["&File", "&View", "Co&mmands", "&Schedules", "&Users", "&Devices", "&Audit", "&Help"]
    window.registry.action("view.audit").trigger()
    assert not window.docks["audit"].visibleRegion().isEmpty()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR, Role.TRADER])
async def test_non_admins_see_admin_actions_disabled(qtbot, sqlite_services, admin, layout_settings, role):
    person = make_user(sqlite_services, admin, "pat", role)
    window = await _window(qtbot, sqlite_services, person, layout_settings)
    optimizes = {"optimization"} if role in (Role.OPERATOR, Role.TRADER) else set()  # RUN_OPTIMIZATION
    # every role may view history (analytics)
    assert set(window.docks) == {"fleet", "device", "battery", "alarms", "schedules", "schedule_status",
                                 "analytics"} | optimizes
    assert not window.registry.action("view.users").isEnabled()
    assert not window.registry.action("view.audit").isEnabled()
    assert window.registry.action("view.fleet").isEnabled()
    assert window.registry.action("window.reset_layout").isEnabled()
    assert "users.create" not in window.registry.ids()  # the view (and its actions) were never built
    # No refused query was attempted (each would leave a permission.denied entry).
    denied = [e for e in sqlite_services.audit_log.query(admin) if e.action == "permission.denied"]
    assert denied == []


async def test_layout_is_saved_and_restored_per_user(qtbot, sqlite_services, admin, layout_settings):
    other_admin = make_user(sqlite_services, admin, "ada", Role.ADMIN)
    first = await _window(qtbot, sqlite_services, admin, layout_settings)
    first.docks["users"].close()
    first.removeDockWidget(first.docks["audit"])
    first.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, first.docks["audit"])
    first.docks["audit"].show()
    first.close()
    assert layout_settings.contains("layout/chief/state")

    again = await _window(qtbot, sqlite_services, admin, layout_settings)
    assert again.docks["users"].isHidden()
    assert again.dockWidgetArea(again.docks["audit"]) == Qt.DockWidgetArea.RightDockWidgetArea

    someone_else = await _window(qtbot, sqlite_services, other_admin, layout_settings)
    assert not someone_else.docks["users"].isHidden()
    assert someone_else.dockWidgetArea(someone_else.docks["audit"]) == Qt.DockWidgetArea.LeftDockWidgetArea

    again.registry.action("window.reset_layout").trigger()
    assert not again.docks["users"].isHidden()
    assert again.dockWidgetArea(again.docks["audit"]) == Qt.DockWidgetArea.LeftDockWidgetArea


async def test_status_bar_shows_database_user_and_runtime_from_drained_events(qtbot, sqlite_services, admin, layout_settings):
    runtime = Runtime(sqlite_services.clock, heartbeat_s=0.05)
    runtime.start()
    try:
        window = await _window(qtbot, sqlite_services, admin, layout_settings, runtime)
        window.pump.pump()  # whatever the pump timer has not drained yet
        status = window.status
        assert status.runtime_label.text().startswith("Runtime: running")
        assert status.database_label.text().startswith("Database: sqlite · sqlite:///")
        assert "schema current" in status.database_label.text()
        assert status.user_label.text() == "Signed in: chief (admin)"
        assert status.keyring_label.isHidden()  # the test keyring is a usable one
    finally:
        runtime.stop()
    window.pump.pump()
    assert window.status.runtime_label.text() == "Runtime: stopped"


async def test_keyring_warning_is_plain_when_no_secure_keyring(qtbot, sqlite_services, admin, layout_settings, monkeypatch):
    monkeypatch.setattr(sqlite_services.secrets, "available", lambda: (False, "No secure keyring is available"))
    window = await _window(qtbot, sqlite_services, admin, layout_settings)
    assert not window.status.keyring_label.isHidden()
    assert window.status.keyring_label.text() == KEYRING_WARNING
