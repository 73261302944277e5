"""New password + confirmation with live feedback from core's password policy."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QWidget

from core.auth.passwords import PasswordPolicy


class NewPasswordFields:
    """Adds "New password" and "Confirm" rows to a form; `problems()` lists what is still wrong."""

    def __init__(self, form: QFormLayout, policy: PasswordPolicy, username: str | QLineEdit = "",
                 label: str = "New password") -> None:
        self._policy = policy
        self._username = username
        self.password = QLineEdit()
        self.password.setObjectName("newPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm = QLineEdit()
        self.confirm.setObjectName("confirmPassword")
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.feedback = QLabel()
        self.feedback.setObjectName("muted")
        self.feedback.setWordWrap(True)
        form.addRow(label, self.password)
        form.addRow("Confirm", self.confirm)
        form.addRow("", self.feedback)
        for edit in (self.password, self.confirm):
            edit.textChanged.connect(self._update)
        self._update()

    def username(self) -> str:
        return self._username.text() if isinstance(self._username, QLineEdit) else self._username

    def problems(self) -> list[str]:
        text = self.password.text()
        issues = [f"password {p}" for p in self._policy.problems(text, self.username().strip().lower())]
        if text and self.confirm.text() != text:
            issues.append("the two passwords differ")
        return issues

    def _update(self) -> None:
        if not self.password.text():
            self.feedback.setText(
                f"At least {self._policy.min_length} characters, mixing at least "
                f"{self._policy.min_character_classes} of lower case, upper case, digits and symbols."
            )
            return
        issues = self.problems()
        self.feedback.setText("; ".join(issues) if issues else "The password meets the policy.")

    def value(self) -> str:
        return self.password.text()

    def widgets(self) -> list[QWidget]:
        return [self.password, self.confirm]
