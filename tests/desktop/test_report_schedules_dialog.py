"""The admin's scheduled-reports dialog under qtbot: add a schedule (folder picked in the file dialog), a bad
recipient refused with core's reason and nothing stored, remove it again, both audited; viewers and operators
get no enabled action. The dialog calls the same ReportScheduleStore as `gridroom report schedule`."""

from __future__ import annotations


import pytest
from PySide6.QtCore import Qt

from core.audit.trail import AuditFilter
from core.auth.roles import Role
from core.reporting.schedule import Cadence
from core.runtime.runtime import Runtime
from desktop.dialogs.report_schedule_dialogs import ReportSchedulesDialog
from desktop.main_window import MainWindow
from tests.desktop.conftest import make_user
from tests.support.qt_wait import until

pytestmark = pytest.mark.asyncio


async def _window(qtbot, services, principal, settings, tmp_path) -> MainWindow:
    window = MainWindow(services, Runtime(services.clock), principal, settings=settings)
    qtbot.addWidget(window)
    window.report_schedules.store.path = tmp_path / "settings.json"  # this test's own settings file
    window.show()
    await window.idle()
    return window


async def test_admin_adds_and_removes_a_schedule_and_a_bad_recipient_is_refused(
        qtbot, sqlite_services, admin, layout_settings, tmp_path):
    window = await _window(qtbot, sqlite_services, admin, layout_settings, tmp_path)
    actions = window.report_schedules
    action = window.registry.action("reports.schedules")
    assert action.isEnabled() and action in window.menuBar().actions()[0].menu().actions()
    action.trigger()
    await until(lambda: window.findChild(ReportSchedulesDialog) is not None and actions.dialog is not None)
    dialog = actions.dialog
    await until(lambda: dialog.isVisible())
    assert dialog.names() == [] and not dialog.remove_button.isEnabled()

    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    await until(lambda: actions.editor is not None and actions.editor.isVisible())
    editor = actions.editor
    qtbot.keyClicks(editor.name, "weekly-health")
    editor.report.setCurrentIndex(editor.report.findData("fleet_health"))
    editor.cadence.setCurrentIndex(editor.cadence.findData(Cadence.WEEKLY.value))
    folder = tmp_path / "reports"
    folder.mkdir()
    qtbot.mouseClick(editor.choose_folder, Qt.MouseButton.LeftButton)
    picker = editor.folder_dialog
    await until(lambda: picker.isVisible())
    picker.selectFile(str(folder))
    picker.accept()
    assert editor.folder.text() == str(folder)
    editor.formats["csv"].setChecked(True)
    qtbot.keyClicks(editor.recipients, "ops@example.org, ops-at-example")
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    await actions.working
    assert "Not added" in editor.message.text() and "not an e-mail address: 'ops-at-example'" in editor.message.text()
    assert editor.isVisible() and actions.store.schedules() == []  # refused before anything was stored

    editor.recipients.setText("ops@example.org; lead@example.org")
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    await actions.working
    assert not editor.isVisible()
    assert dialog.names() == ["weekly-health"] and dialog.selected_name() == "weekly-health"
    (stored,) = actions.store.schedules()
    assert (stored.report, stored.cadence, stored.folder, stored.formats, stored.recipients, stored.run_as) == (
        "fleet_health", Cadence.WEEKLY, str(folder), ("pdf", "csv"), ("ops@example.org", "lead@example.org"),
        admin.username)

    assert dialog.remove_button.isEnabled()
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    await actions.working
    assert dialog.names() == [] and actions.store.schedules() == []
    assert dialog.message.text() == "Removed weekly-health."
    with sqlite_services.db.session() as s:
        entries = sqlite_services.audit.query(s, AuditFilter(action="report_schedule."))
    assert [(e.action, e.username, e.resource) for e in entries] == [
        ("report_schedule.remove", admin.username, "report_schedule:weekly-health"),
        ("report_schedule.add", admin.username, "report_schedule:weekly-health")]
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    await window.idle()
    assert actions.dialog is None


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
async def test_viewers_and_operators_do_not_get_the_action(qtbot, sqlite_services, admin, layout_settings, tmp_path,
                                                           role):
    person = make_user(sqlite_services, admin, "pat", role)
    window = await _window(qtbot, sqlite_services, person, layout_settings, tmp_path)
    action = window.registry.action("reports.schedules")
    assert not action.isEnabled()
    action.trigger()  # a disabled action does nothing
    await window.idle()
    assert window.report_schedules.dialog is None and window.findChild(ReportSchedulesDialog) is None
