"""The banner across the top of the main window while critical alarms wait for acknowledgement."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from desktop.theme import Abnormal, abnormal


class AlarmBanner(QWidget):
    """Says how many critical alarms wait for acknowledgement and offers the list; its container shows it
    only while `count` is positive (a toolbar manages its widgets' visibility itself)."""

    open_alarms = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        colour = abnormal(Abnormal.CRITICAL)
        self.setObjectName("alarmBanner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(f"#alarmBanner {{ background: {colour.background}; }}"
                           f"#alarmBanner QLabel {{ color: {colour.text}; font-weight: bold; }}")
        self.label = QLabel()
        self.button = QPushButton("Show alarms")
        self.button.clicked.connect(self.open_alarms)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        self.count = 0
        self.set_count(0)

    def set_count(self, unacked_critical: int) -> None:
        """Update the count and the text."""
        self.count = max(0, int(unacked_critical))
        plural = "s" if self.count != 1 else ""
        self.label.setText(f"{self.count} critical alarm{plural} not acknowledged")
