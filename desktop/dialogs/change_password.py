"""Set your own password: required at the first sign-in with a temporary password."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from core.auth.principal import Principal
from core.auth.users import UserService
from core.errors import GridRoomError
from desktop.dialogs.password_fields import NewPasswordFields
from desktop.tasks import UiTasks, call_core
from desktop.widgets.message_area import MessageArea


class ChangePasswordDialog(QDialog):
    def __init__(self, users: UserService, principal: Principal, *, required: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("GridRoom — change password")
        self.setMinimumWidth(440)
        self._users = users
        self._principal = principal
        self.principal: Principal | None = None  # the refreshed principal after success
        self.tasks = UiTasks(lambda exc: self.message.show_error(f"Unexpected error: {exc}"))

        intro = QLabel(
            f"{principal.username}, your password is temporary. Choose your own password to continue."
            if required else f"Change the password of {principal.username}."
        )
        intro.setWordWrap(True)
        self.current = QLineEdit()
        self.current.setObjectName("currentPassword")
        self.current.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow("Current password", self.current)
        self.fields = NewPasswordFields(form, users.policy, principal.username)
        self.message = MessageArea()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.addButton("Change password", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setDefault(True)
        self.buttons.accepted.connect(self._on_save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def _on_save(self) -> None:
        self.tasks.start(self.save())

    async def save(self) -> Principal | None:
        if self.fields.confirm.text() != self.fields.value():
            self.message.show_error("the two new passwords differ")
            return None
        self.save_button.setEnabled(False)
        try:
            principal = await call_core(self._users.change_password, self._principal, self.current.text(), self.fields.value())
        except GridRoomError as exc:  # wrong current password, policy, same as before: core's words
            self.message.show_error(str(exc))
            return None
        finally:
            self.save_button.setEnabled(True)
        self.principal = principal
        self.accept()
        return principal
