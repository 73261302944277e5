"""A figure read at a glance: a large value, its label and a short note. Grey unless told it is abnormal."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from desktop.theme import Abnormal, abnormal


class SummaryTile(QFrame):
    def __init__(self, label: str, note: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.value_label = QLabel("—")
        self.value_label.setStyleSheet("font-size: 20px; font-weight: bold;")
        self.caption = QLabel(label)
        self.caption.setObjectName("cardTitle")
        self.note = QLabel(note)
        self.note.setObjectName("muted")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.value_label)
        layout.addWidget(self.note)
        layout.addStretch(1)

    def set_value(self, text: str, abnormal_kind: Abnormal | None = None, note: str | None = None) -> None:
        self.value_label.setText(text)
        ink = f"color: {abnormal(abnormal_kind).ink};" if abnormal_kind else ""
        self.value_label.setStyleSheet(f"font-size: 20px; font-weight: bold; {ink}")
        if note is not None:
            self.note.setText(note)

    def value(self) -> str:
        return self.value_label.text()
