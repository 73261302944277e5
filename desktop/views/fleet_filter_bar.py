"""The fleet view's filter row: text, status, site and last-seen window, emitted as one FleetFilter."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QWidget

from core.fleet.live_state import AvailabilityCode as A
from desktop.models.fleet_filter import ALL_STATUSES, FleetFilter

STATUS_CHOICES: list[tuple[str, frozenset]] = [
    ("All statuses", ALL_STATUSES),
    ("Online", frozenset({A.ONLINE})),
    ("Stale", frozenset({A.STALE})),
    ("Offline", frozenset({A.OFFLINE})),
    ("Not online", frozenset({A.STALE, A.OFFLINE})),
]
SEEN_CHOICES: list[tuple[str, float | None]] = [
    ("Any time", None), ("Last minute", 60.0), ("Last 15 min", 900.0), ("Last hour", 3600.0), ("Last 24 h", 86400.0),
]
ALL_SITES = "All sites"


class FleetFilterBar(QWidget):
    filter_changed = Signal(object)  # FleetFilter

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLineEdit()
        self.text.setPlaceholderText("Filter by device id or name")
        self.text.setClearButtonEnabled(True)
        self.status = QComboBox()
        for label, _ in STATUS_CHOICES:
            self.status.addItem(label)
        self.site = QComboBox()
        self.site.addItem(ALL_SITES)
        self.site.setMinimumContentsLength(16)
        self.seen = QComboBox()
        for label, _ in SEEN_CHOICES:
            self.seen.addItem(label)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text, 2)
        for caption, box in (("Status", self.status), ("Site", self.site), ("Last seen", self.seen)):
            layout.addWidget(QLabel(caption))
            layout.addWidget(box)
        self.text.textChanged.connect(self._emit)
        for box in (self.status, self.site, self.seen):
            box.currentIndexChanged.connect(self._emit)

    def current(self) -> FleetFilter:
        site = self.site.currentText()
        return FleetFilter(self.text.text().strip(), STATUS_CHOICES[max(0, self.status.currentIndex())][1],
                           "" if site == ALL_SITES else site, SEEN_CHOICES[max(0, self.seen.currentIndex())][1])

    def set_sites(self, sites: list[str]) -> None:
        """Offer the sites seen so far, keeping the current choice."""
        current = self.site.currentText()
        wanted = [ALL_SITES, *sites] + ([current] if current not in sites and current != ALL_SITES else [])
        if [self.site.itemText(i) for i in range(self.site.count())] == wanted:
            return
        self.site.blockSignals(True)
        self.site.clear()
        self.site.addItems(wanted)
        self.site.setCurrentText(current)
        self.site.blockSignals(False)

    def show_filter(self, f: FleetFilter) -> None:
        """Put a saved filter back into the controls (one filter_changed at the end)."""
        for box in (self.text, self.status, self.site, self.seen):
            box.blockSignals(True)
        self.text.setText(f.text)
        self.status.setCurrentIndex(next((i for i, (_, s) in enumerate(STATUS_CHOICES) if s == f.statuses), 0))
        if f.site:
            self.set_sites(sorted({f.site, *[self.site.itemText(i) for i in range(1, self.site.count())]}))
            self.site.setCurrentText(f.site)
        self.seen.setCurrentIndex(next((i for i, (_, w) in enumerate(SEEN_CHOICES) if w == f.seen_within_s), 0))
        for box in (self.text, self.status, self.site, self.seen):
            box.blockSignals(False)
        self._emit()

    def _emit(self, *_args) -> None:
        self.filter_changed.emit(self.current())
