"""Dialogs of the alarm view: shelve (reason required, expiry chosen) and comment."""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget,
)

SHELVE_DURATIONS = (("1 hour", 1), ("4 hours", 4), ("8 hours", 8), ("24 hours", 24))


class _TextDialog(QDialog):
    """A dialog whose OK stays disabled until the required text is filled in."""

    def __init__(self, title: str, intro: str, field_label: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.text = QLineEdit()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.form = QFormLayout(self)
        intro_label = QLabel(intro)
        intro_label.setWordWrap(True)
        self.form.addRow(intro_label)
        self.form.addRow(field_label, self.text)
        self.text.textChanged.connect(self._update_ok)

    def _update_ok(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.text.text().strip()))

    def _finish_form(self) -> None:
        self.form.addRow(self.buttons)
        self._update_ok()
        self.setMinimumWidth(420)


class ShelveDialog(_TextDialog):
    def __init__(self, alarm_id: str, parent: QWidget | None = None) -> None:
        super().__init__("Shelve alarm", f"Shelve {alarm_id}: it leaves the list until the expiry "
                         "and comes back if its condition is still active.", "Reason", parent)
        self.text.setPlaceholderText("Why (required, recorded in the journal)")
        self.duration = QComboBox()
        for label, hours in SHELVE_DURATIONS:
            self.duration.addItem(label, hours)
        self.form.addRow("Shelve for", self.duration)
        self._finish_form()

    def values(self, now: datetime) -> tuple[str, datetime]:
        """(reason, until) for the chosen expiry, counted from `now`."""
        return self.text.text().strip(), now + timedelta(hours=int(self.duration.currentData()))


class CommentDialog(_TextDialog):
    def __init__(self, alarm_id: str, parent: QWidget | None = None) -> None:
        super().__init__("Comment on alarm", f"Add a comment to {alarm_id} (recorded in the journal).",
                         "Comment", parent)
        self._finish_form()

    def value(self) -> str:
        return self.text.text().strip()
