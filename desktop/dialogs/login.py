"""Sign-in: user name and password; failures are explained in the words core gives."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget,
)

from core.auth.principal import Principal
from core.auth.users import UserService
from core.errors import AccountLocked, GridRoomError
from desktop.summary import local_time
from desktop.tasks import UiTasks, call_core
from desktop.widgets.message_area import MessageArea


class LoginDialog(QDialog):
    def __init__(self, users: UserService, *, username: str = "", host: str | None = None,
                 notice: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("GridRoom — sign in")
        self.setMinimumWidth(380)
        self._users = users
        self._host = host
        self.principal: Principal | None = None
        self.tasks = UiTasks(lambda exc: self.message.show_error(f"Unexpected error: {exc}"))

        title = QLabel("Sign in to GridRoom")
        title.setObjectName("viewTitle")
        self.username = QLineEdit(username)
        self.username.setObjectName("username")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = MessageArea()
        if notice:
            self.message.show_info(notice)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.sign_in_button = self.buttons.addButton("Sign in", QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_in_button.setDefault(True)
        self.buttons.accepted.connect(self._on_sign_in)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("User name", self.username)
        form.addRow("Password", self.password)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        (self.password if username else self.username).setFocus()

    def _on_sign_in(self) -> None:
        self.tasks.start(self.sign_in())

    async def sign_in(self) -> Principal | None:
        """Authenticate off the GUI thread (argon2 takes tens of ms); accept the dialog on success."""
        self.sign_in_button.setEnabled(False)
        self.message.clear_message()
        try:
            principal = await call_core(self._users.authenticate, self.username.text(), self.password.text(), self._host)
        except AccountLocked as exc:
            self.message.show_error(f"{exc}\nTry again after {local_time(exc.until, '%H:%M')} (local time).")
            return None
        except GridRoomError as exc:
            self.message.show_error(str(exc))
            self.password.clear()
            self.password.setFocus()
            return None
        finally:
            self.sign_in_button.setEnabled(True)
        self.principal = principal
        self.accept()
        return principal
