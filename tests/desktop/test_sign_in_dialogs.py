"""Sign-in, first administrator and forced password change, driven through the dialogs' own buttons."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from core.auth.roles import Role
from core.auth.users import MAX_FAILED_ATTEMPTS
from core.errors import AccountLocked, AuthenticationFailed
from desktop.dialogs.change_password import ChangePasswordDialog
from desktop.dialogs.first_admin import FirstAdminDialog
from desktop.dialogs.login import LoginDialog
from tests.desktop.conftest import STRONG, TEMP

pytestmark = pytest.mark.asyncio


async def _sign_in(qtbot, users, username: str, password: str) -> LoginDialog:
    dialog = LoginDialog(users)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.username, username)
    qtbot.keyClicks(dialog.password, password)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    await dialog.tasks.idle()
    return dialog


async def test_sign_in_accepts_with_the_principal(qtbot, sqlite_services, admin):
    dialog = await _sign_in(qtbot, sqlite_services.users, "chief", STRONG)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.principal.username == "chief" and dialog.principal.role is Role.ADMIN


async def test_wrong_password_says_so_and_clears_the_field(qtbot, sqlite_services, admin):
    dialog = await _sign_in(qtbot, sqlite_services.users, "chief", "Not-The-Password-1")
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.principal is None
    assert dialog.message.kind == "error"
    assert "wrong user name or password" in dialog.message.text()
    assert dialog.password.text() == ""
    assert dialog.sign_in_button.isEnabled()


async def test_locked_account_names_the_time_it_unlocks(qtbot, sqlite_services, admin, clock):
    clock.advance(1)  # failures count only after the last successful sign-in
    for _ in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises((AuthenticationFailed, AccountLocked)):  # the fifth failure locks
            sqlite_services.users.authenticate("chief", "Wrong-Password-99")
    dialog = await _sign_in(qtbot, sqlite_services.users, "chief", STRONG)  # even the right password
    assert dialog.principal is None
    text = dialog.message.text()
    assert "account locked after 5 failed attempts until" in text
    assert "Try again after" in text and "(local time)" in text


async def test_deactivated_account_is_told_to_ask_an_administrator(qtbot, sqlite_services, admin):
    sqlite_services.users.create_user(admin, "gone", Role.VIEWER, TEMP)
    sqlite_services.users.deactivate(admin, "gone")
    dialog = await _sign_in(qtbot, sqlite_services.users, "gone", TEMP)
    assert dialog.principal is None
    assert "is deactivated; ask an administrator" in dialog.message.text()


async def test_first_admin_refuses_a_weak_password_then_creates_the_admin(qtbot, sqlite_services):
    users = sqlite_services.users
    dialog = FirstAdminDialog(users)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.username, "chief")
    qtbot.keyClicks(dialog.display_name, "Chief Admin")
    qtbot.keyClicks(dialog.fields.password, "short")
    qtbot.keyClicks(dialog.fields.confirm, "short")
    assert "must be at least 12 characters" in dialog.fields.feedback.text()  # live policy feedback
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    await dialog.tasks.idle()
    assert "password must be at least 12 characters (has 5)" in dialog.message.text()  # core's words
    assert not users.has_admin()

    for edit in (dialog.fields.password, dialog.fields.confirm):
        edit.clear()
        qtbot.keyClicks(edit, STRONG)
    assert dialog.fields.feedback.text() == "The password meets the policy."
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    await dialog.tasks.idle()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.created.username == "chief" and dialog.created.role is Role.ADMIN
    assert users.has_admin()
    assert users.authenticate("chief", STRONG).role is Role.ADMIN


async def test_first_admin_refuses_mismatched_confirmation(qtbot, sqlite_services):
    dialog = FirstAdminDialog(sqlite_services.users)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.username, "chief")
    qtbot.keyClicks(dialog.fields.password, STRONG)
    qtbot.keyClicks(dialog.fields.confirm, STRONG + "x")
    await dialog.create()
    assert dialog.message.text() == "the two passwords differ"
    assert not sqlite_services.users.has_admin()


async def test_temporary_password_must_be_changed_at_first_sign_in(qtbot, sqlite_services, admin):
    users = sqlite_services.users
    users.create_user(admin, "otto", Role.OPERATOR, TEMP, "Otto")
    login = await _sign_in(qtbot, users, "otto", TEMP)
    assert login.principal.must_change_password

    change = ChangePasswordDialog(users, login.principal, required=True)
    qtbot.addWidget(change)
    change.show()
    qtbot.keyClicks(change.current, TEMP)
    qtbot.keyClicks(change.fields.password, "otto-Password-1")
    qtbot.keyClicks(change.fields.confirm, "otto-Password-1")
    qtbot.mouseClick(change.save_button, Qt.MouseButton.LeftButton)
    await change.tasks.idle()
    assert change.result() != QDialog.DialogCode.Accepted
    assert "must not contain the user name" in change.message.text()  # policy error shown inline

    for edit in (change.fields.password, change.fields.confirm):
        edit.clear()
        qtbot.keyClicks(edit, "Fresh-Battery-2026")
    qtbot.mouseClick(change.save_button, Qt.MouseButton.LeftButton)
    await change.tasks.idle()
    assert change.result() == QDialog.DialogCode.Accepted
    assert change.principal.must_change_password is False
    assert users.authenticate("otto", "Fresh-Battery-2026").must_change_password is False
