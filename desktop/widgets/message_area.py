"""An inline message line for views and dialogs: the outcome of the last action, in plain words."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from desktop.theme import TEXT, Abnormal, abnormal


class MessageArea(QLabel):
    """Hidden when empty. Errors carry the critical colour as a left bar; success stays grey and quiet."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setObjectName("messageArea")
        self.kind: str = ""
        self.clear_message()

    def show_error(self, text: str) -> None:
        self._show(text, "error", f"border-left: 4px solid {abnormal(Abnormal.CRITICAL).background};"
                                  f" color: {abnormal(Abnormal.CRITICAL).ink};")

    def show_warning(self, text: str) -> None:
        self._show(text, "warning", f"border-left: 4px solid {abnormal(Abnormal.WARNING).background}; color: {TEXT};")

    def show_info(self, text: str) -> None:
        self._show(text, "info", f"border-left: 4px solid #8c8c8c; color: {TEXT};")

    def clear_message(self) -> None:
        self.kind = ""
        self.setText("")
        self.hide()

    def _show(self, text: str, kind: str, style: str) -> None:
        self.kind = kind
        self.setStyleSheet(f"QLabel#messageArea {{ {style} padding: 4px 8px; }}")
        self.setText(text)
        self.show()
