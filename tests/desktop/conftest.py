"""Desktop test set-up: async tests run on the Qt loop (qasync), plus signed-in principals and temp QSettings.

FACTS.md: pytest-qt has no qasync support. `async def` tests marked `@pytest.mark.asyncio` run on a
qasync.QEventLoop through pytest-asyncio's loop-factory hook; they wait by awaiting, never with
qtbot.wait*/waitSignal/waitUntil (those hang the teardown).
"""

from __future__ import annotations

import gc

import pytest
import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from core.auth.roles import Role

STRONG = "Correct-Horse-42"
TEMP = "Temporary-Pass-7"


def pytest_asyncio_loop_factories(config, item):
    return {"qasync": lambda: qasync.QEventLoop(QApplication.instance() or QApplication([]))}


@pytest.fixture
def admin(sqlite_services):
    sqlite_services.users.create_first_admin("chief", STRONG, "Chief Admin")
    return sqlite_services.users.authenticate("chief", STRONG, host="ws-01")


def make_user(services, admin, username: str, role: Role, password: str = STRONG, display_name: str = ""):
    """An account that has already replaced its temporary password, signed in once."""
    services.users.create_user(admin, username, role, TEMP, display_name or username.title())
    first = services.users.authenticate(username, TEMP, host="ws-01")
    services.users.change_password(first, TEMP, password)
    return services.users.authenticate(username, password, host="ws-01")


@pytest.fixture
def viewer(sqlite_services, admin):
    return make_user(sqlite_services, admin, "vera", Role.VIEWER, display_name="Vera Viewer")


@pytest.fixture
def operator(sqlite_services, admin):
    return make_user(sqlite_services, admin, "otto", Role.OPERATOR, display_name="Otto Operator")


@pytest.fixture
def layout_settings(tmp_path) -> QSettings:
    """Window layouts go to an INI file in the test's own folder, never to the real user profile."""
    return QSettings(str(tmp_path / "layout.ini"), QSettings.Format.IniFormat)


@pytest.fixture(autouse=True)
def _keep_app_running(qapp):
    """As in desktop.app: closing one dialog must not quit the application (and stop the qasync loop)."""
    qapp.setQuitOnLastWindowClosed(False)
    yield


@pytest.fixture(autouse=True)
def _collect_widgets_on_the_gui_thread(qapp):
    """A test's widgets that sit in reference cycles are otherwise freed by whichever thread next triggers a
    garbage collection; when that is a worker thread (the runtime, asyncio.to_thread), Qt deletes widgets
    off the GUI thread and the next test's event processing crashed now and then. Collect them here,
    on the GUI thread, after events already posted for them are handled."""
    yield
    qapp.processEvents()
    gc.collect()
    qapp.processEvents()
