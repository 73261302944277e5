"""First run: nobody can sign in yet, so the person installing GridRoom creates the first administrator."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from core.auth.users import UserInfo, UserService
from core.errors import GridRoomError
from desktop.dialogs.password_fields import NewPasswordFields
from desktop.tasks import UiTasks, call_core
from desktop.widgets.message_area import MessageArea


class FirstAdminDialog(QDialog):
    def __init__(self, users: UserService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("GridRoom — first administrator")
        self.setMinimumWidth(480)
        self._users = users
        self.created: UserInfo | None = None
        self.tasks = UiTasks(lambda exc: self.message.show_error(f"Unexpected error: {exc}"))

        title = QLabel("Create the first administrator")
        title.setObjectName("viewTitle")
        intro = QLabel(
            "This database has no administrator yet. The account you create here manages users, "
            "roles and the audit trail; keep its password safe."
        )
        intro.setWordWrap(True)
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.username.setPlaceholderText("e.g. chief")
        self.display_name = QLineEdit()
        self.display_name.setObjectName("displayName")
        form = QFormLayout()
        form.addRow("User name", self.username)
        form.addRow("Display name", self.display_name)
        self.fields = NewPasswordFields(form, users.policy, self.username, label="Password")
        self.message = MessageArea()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.create_button = self.buttons.addButton("Create administrator", QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button.setDefault(True)
        self.buttons.accepted.connect(self._on_create)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def _on_create(self) -> None:
        self.tasks.start(self.create())

    async def create(self) -> UserInfo | None:
        if self.fields.confirm.text() != self.fields.value():
            self.message.show_error("the two passwords differ")
            return None
        self.create_button.setEnabled(False)
        try:
            info = await call_core(
                self._users.create_first_admin, self.username.text(), self.fields.value(), self.display_name.text()
            )
        except GridRoomError as exc:  # policy, invalid name, an admin already exists: core's words
            self.message.show_error(str(exc))
            return None
        finally:
            self.create_button.setEnabled(True)
        self.created = info
        self.accept()
        return info
