"""Admin user management: the view calls UserService and shows what it did (or why it could not)."""

from __future__ import annotations

import pytest

from core.audit.trail import AuditFilter
from core.auth.roles import Role
from core.errors import AccountInactive
from desktop.dialogs.user_dialogs import CreateUserDialog
from desktop.main_window import MainWindow
from desktop.views.users_view import UsersView
from tests.desktop.conftest import STRONG, TEMP, make_user
from tests.support.qt_wait import until

pytestmark = pytest.mark.asyncio


async def _view(qtbot, services, principal) -> UsersView:
    view = UsersView(services, principal)
    qtbot.addWidget(view)
    await view.refresh()
    return view


async def test_create_user_adds_a_row_with_a_temporary_password(qtbot, sqlite_services, admin):
    view = await _view(qtbot, sqlite_services, admin)
    assert view.model.usernames() == ["chief"]
    info = await view.create_user("otto", Role.OPERATOR, TEMP, "Otto Operator")
    assert info.must_change_password
    assert view.model.usernames() == ["chief", "otto"]
    row = view.model.row_of("otto")
    assert view.model.index(row, 2).data() == "operator"
    assert view.model.index(row, 3).data() == "Active · temporary password"
    assert view.model.index(row, 4).data() == "never"
    assert "Created otto" in view.message.text()
    assert sqlite_services.audit_log.query(admin, AuditFilter(action="user.create", resource="user:otto"))


async def test_core_refusal_is_shown_in_the_message_area(qtbot, sqlite_services, admin):
    view = await _view(qtbot, sqlite_services, admin)
    assert await view.create_user("weak", Role.VIEWER, "short") is None
    assert view.message.kind == "error"
    assert "password must be at least 12 characters" in view.message.text()
    assert await view.deactivate("chief") is None
    assert "chief is the last active administrator" in view.message.text()
    assert view.model.usernames() == ["chief"]


async def test_filters_narrow_the_list(qtbot, sqlite_services, admin, clock):
    users = sqlite_services.users
    make_user(sqlite_services, admin, "otto", Role.OPERATOR, display_name="Otto Operator")
    make_user(sqlite_services, admin, "tess", Role.TRADER, display_name="Tess Trader")
    users.create_user(admin, "vera", Role.VIEWER, TEMP, "Vera Viewer")  # never signed in
    view = await _view(qtbot, sqlite_services, admin)
    assert view.model.usernames() == ["chief", "otto", "tess", "vera"]

    view.role_filter.setCurrentIndex(view.role_filter.findData(Role.OPERATOR.value))
    await view.tasks.idle()
    assert view.model.usernames() == ["otto"]
    view.role_filter.setCurrentIndex(0)
    await view.tasks.idle()

    view.text_filter.setText("TRADER")  # display names match, case-insensitively
    await view.refresh()
    assert view.model.usernames() == ["tess"]
    view.text_filter.clear()

    clock.advance(40 * 86400)  # 40 days on: nobody has signed in for 30 days
    users.authenticate("otto", STRONG)
    view.login_filter.setCurrentIndex(view.login_filter.findText("No sign-in for 30 days"))
    await view.tasks.idle()
    assert view.model.usernames() == ["chief", "tess", "vera"]
    view.login_filter.setCurrentIndex(view.login_filter.findText("Signed in within 24 h"))
    await view.tasks.idle()
    assert view.model.usernames() == ["otto"]


async def test_deactivate_and_reactivate_update_the_model_and_access(qtbot, sqlite_services, admin):
    make_user(sqlite_services, admin, "otto", Role.OPERATOR)
    view = await _view(qtbot, sqlite_services, admin)
    await view.deactivate("otto")
    assert view.model.index(view.model.row_of("otto"), 3).data() == "Deactivated"
    with pytest.raises(AccountInactive):
        sqlite_services.users.authenticate("otto", STRONG)

    view.status_filter.setCurrentIndex(view.status_filter.findText("Active"))
    await view.tasks.idle()
    assert view.model.usernames() == ["chief"]
    view.status_filter.setCurrentIndex(0)
    await view.tasks.idle()

    await view.reactivate("otto")
    assert view.model.index(view.model.row_of("otto"), 3).data() == "Active"
    assert sqlite_services.users.authenticate("otto", STRONG).username == "otto"


async def test_role_change_reset_and_unlock(qtbot, sqlite_services, admin, clock):
    make_user(sqlite_services, admin, "otto", Role.OPERATOR)
    clock.advance(1)
    for _ in range(5):
        with pytest.raises(Exception):
            sqlite_services.users.authenticate("otto", "Wrong-Password-99")
    view = await _view(qtbot, sqlite_services, admin)
    assert view.model.index(view.model.row_of("otto"), 3).data().startswith("Locked until ")
    await view.unlock("otto")
    assert view.model.index(view.model.row_of("otto"), 3).data() == "Active"
    await view.set_role("otto", Role.TRADER)
    assert view.model.index(view.model.row_of("otto"), 2).data() == "trader"
    await view.reset_password("otto", "Another-Temp-Pass-3")
    assert sqlite_services.users.authenticate("otto", "Another-Temp-Pass-3").must_change_password


async def test_toolbar_action_opens_the_dialog_and_creates_the_user(qtbot, sqlite_services, admin, layout_settings):
    from core.runtime.runtime import Runtime

    window = MainWindow(sqlite_services, Runtime(sqlite_services.clock), admin, settings=layout_settings)
    qtbot.addWidget(window)
    await window.idle()
    view: UsersView = window.views["users"]
    assert not window.registry.action("users.deactivate").isEnabled()  # nothing selected yet
    window.registry.action("users.create").trigger()
    await until(lambda: view.findChild(CreateUserDialog) is not None)
    dialog = view.findChild(CreateUserDialog)
    dialog.username.setText("nina")
    dialog.role.setCurrentIndex(dialog.role.findData(Role.TRADER.value))
    assert len(dialog.temporary_password.text()) == 16  # a suggestion is filled in
    dialog.accept()
    await view.tasks.idle()
    assert "nina" in view.model.usernames()
    assert view.selected_user().username == "nina"  # the new row is selected ...
    assert window.registry.action("users.deactivate").isEnabled()  # ... so row actions apply to it
    assert not window.registry.action("users.reactivate").isEnabled()


