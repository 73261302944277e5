"""Small dialogs of user management: new account, role change, temporary password."""

from __future__ import annotations

import secrets
import string

from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLineEdit, QPushButton, QWidget,
)

from core.auth.roles import Role
from desktop.dialogs.action_dialog import ActionDialog

# People sign in to the desktop; device identities never do, so they are not offered here.
HUMAN_ROLES = [r for r in Role if r is not Role.DEVICE]


def suggest_temporary_password(length: int = 16) -> str:
    """A random password from unambiguous characters with upper, lower and digits (core checks policy)."""
    alphabet = "".join(c for c in string.ascii_letters + string.digits if c not in "Il1O0o")
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isupper() for c in candidate) and any(c.islower() for c in candidate) and any(c.isdigit() for c in candidate):
            return candidate


def role_combo(selected: Role = Role.VIEWER) -> QComboBox:
    combo = QComboBox()
    for role in HUMAN_ROLES:
        combo.addItem(role.value, role.value)  # Qt stores a str-enum as a plain str
    combo.setCurrentIndex(HUMAN_ROLES.index(selected) if selected in HUMAN_ROLES else 0)
    return combo


class _FormDialog(ActionDialog):
    def _password_row(self, label: str) -> QLineEdit:
        edit = QLineEdit(suggest_temporary_password())
        edit.setObjectName("temporaryPassword")
        again = QPushButton("New suggestion")
        again.clicked.connect(lambda: edit.setText(suggest_temporary_password()))
        row = QHBoxLayout()
        row.addWidget(edit, 1)
        row.addWidget(again)
        self.form.addRow(label, row)
        return edit


class CreateUserDialog(_FormDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "New user", "The user signs in with the temporary password and must choose their own at once. "
            "Pass it on through a separate channel.", "Create user", parent,
        )
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.display_name = QLineEdit()
        self.display_name.setObjectName("displayName")
        self.role = role_combo()
        self.form.addRow("User name", self.username)
        self.form.addRow("Display name", self.display_name)
        self.form.addRow("Role", self.role)
        self.temporary_password = self._password_row("Temporary password")

    def values(self) -> tuple[str, Role, str, str]:
        """(username, role, temporary password, display name) as UserService.create_user takes them."""
        return self.username.text(), Role(self.role.currentData()), self.temporary_password.text(), self.display_name.text()


class ChooseRoleDialog(_FormDialog):
    def __init__(self, username: str, current: Role, parent: QWidget | None = None) -> None:
        super().__init__(f"Role of {username}", f"The new role applies at once, also to a running session of {username}.",
                         "Change role", parent)
        self.role = role_combo(current)
        self.form.addRow("Role", self.role)

    def value(self) -> Role:
        return Role(self.role.currentData())


class ResetPasswordDialog(_FormDialog):
    def __init__(self, username: str, parent: QWidget | None = None) -> None:
        super().__init__(f"Reset password of {username}",
                         f"{username} gets this temporary password, must change it at the next sign-in, "
                         "and any lockout is cleared.", "Reset password", parent)
        self.temporary_password = self._password_row("Temporary password")

    def value(self) -> str:
        return self.temporary_password.text()
