"""A titled card of label/value rows, for summaries that are read at a glance."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QFrame, QLabel, QVBoxLayout, QWidget


class SummaryCard(QFrame):
    def __init__(self, title: str, rows: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        heading = QLabel(title)
        heading.setObjectName("cardTitle")
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        form.setHorizontalSpacing(18)
        self.values: dict[str, QLabel] = {}
        for row in rows:
            value = QLabel("—")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            name = QLabel(row)
            name.setObjectName("muted")
            form.addRow(name, value)
            self.values[row] = value
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 12)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addStretch(1)

    def set_value(self, row: str, text: str, style: str = "") -> None:
        self.values[row].setText(text)
        self.values[row].setStyleSheet(style)

    def value(self, row: str) -> str:
        return self.values[row].text()
