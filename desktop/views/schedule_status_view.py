"""Fleet-wide schedule status: which version each device holds, where its delivery stands, its last
acknowledgement, with counts per state and filters. Read-only; refreshed on demand and on a slow timer,
each time one query off the GUI thread."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton, QTableView, QVBoxLayout,
    QWidget,
)

from core.auth.principal import Principal
from core.errors import GridRoomError
from core.fleet.context import FleetContext
from core.schedules.records import DeliveryState
from core.schedules.status import DeviceScheduleStatus, counts_by_state
from core.services import CoreServices
from desktop.models.record_table_model import RecordTableModel
from desktop.tasks import UiTasks, call_core
from desktop.theme import Abnormal, abnormal
from desktop.views.schedule_targets import ScheduleBackend
from desktop.widgets.message_area import MessageArea

STATES = tuple(s.value for s in DeliveryState) + ("none",)
# Deviating and failed deliveries need the operator; the others are the normal course of a schedule.
ATTENTION = {DeliveryState.FAILED: Abnormal.CRITICAL, DeliveryState.DEVIATING: Abnormal.WARNING}


def _when(value: datetime | None) -> str:
    return "—" if value is None else value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


class ScheduleStatusModel(RecordTableModel[DeviceScheduleStatus]):
    columns = ("Device", "Schedule", "Version", "Target", "Delivery", "Version state", "Entries acked", "Sent",
               "Last ack", "Error")

    def cell(self, record: DeviceScheduleStatus, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return (record.device_id, record.schedule_id or "—", "—" if record.version is None else str(record.version),
                    record.target or "—", record.state_word, record.schedule_state or "—",
                    f"{record.acked_entries} / {record.entries}" if record.entries else "—", _when(record.sent_at),
                    _when(record.last_ack_at), record.error or "")[column]
        if role == Qt.ItemDataRole.BackgroundRole and column == 4 and record.delivery in ATTENTION:
            return QBrush(QColor(abnormal(ATTENTION[record.delivery]).background))
        if role == Qt.ItemDataRole.ForegroundRole and column == 4 and record.delivery in ATTENTION:
            return QBrush(QColor(abnormal(ATTENTION[record.delivery]).text))
        if role == Qt.ItemDataRole.ToolTipRole and record.error:
            return record.error
        return None


class StatusFilter(QSortFilterProxyModel):
    """Rows whose delivery state is the chosen one (or any) and whose device, schedule or target has the text."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.state = ""
        self.text = ""

    def set_filter(self, state: str, text: str) -> None:
        self.beginFilterChange()
        self.state, self.text = state, text.strip().lower()
        self.endFilterChange()

    def filterAcceptsRow(self, source_row: int, source_parent) -> bool:
        record: DeviceScheduleStatus = self.sourceModel().record_at(source_row)
        if self.state and record.state_word != self.state:
            return False
        haystack = f"{record.device_id} {record.schedule_id or ''} {record.target}".lower()
        return self.text in haystack


class ScheduleStatusView(QWidget):
    def __init__(self, services: CoreServices, principal: Principal, fleet: FleetContext | None = None,
                 backend: ScheduleBackend | None = None, refresh_ms: int = 10_000, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._principal = principal
        self.backend = backend or ScheduleBackend(services, fleet)
        self.tasks = UiTasks(lambda exc: self.message.show_error(f"Unexpected error: {exc}"))
        self.model = ScheduleStatusModel(self)
        self.proxy = StatusFilter(self)
        self.proxy.setSourceModel(self.model)
        self.state_box = QComboBox()
        self.state_box.addItem("All delivery states", "")
        for state in STATES:
            self.state_box.addItem(state, state)
        self.text_box = QLineEdit()
        self.text_box.setPlaceholderText("Search device, schedule or group")
        self.text_box.setClearButtonEnabled(True)
        for signal in (self.state_box.currentIndexChanged, self.text_box.textChanged):
            signal.connect(lambda *_: self._apply_filter())
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(lambda: self.tasks.start(self.refresh()))
        self.counts = QLabel("")
        self.counts.setObjectName("cardTitle")
        self.shown = QLabel("")
        self.shown.setObjectName("muted")
        self.message = MessageArea()
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

        title = QLabel("Schedule status")
        title.setObjectName("viewTitle")
        filters = QHBoxLayout()
        filters.addWidget(self.state_box)
        filters.addWidget(self.text_box, 1)
        filters.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.counts)
        layout.addLayout(filters)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.shown)
        self.timer = QTimer(self)
        self.timer.setInterval(refresh_ms)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        # Only while shown, only one query at a time, and only on a running Qt/asyncio loop (a window left
        # over without one must not start coroutines nobody will run).
        if not self.isVisible() or self.tasks.busy:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self.tasks.start(self.refresh())

    async def refresh(self) -> None:
        try:
            rows = await call_core(self.backend.status.fleet_status, self._principal)
        except GridRoomError as exc:
            self.message.show_error(f"Schedule status could not be loaded: {exc}")
            return
        self.message.clear_message()
        self.model.set_records(rows)
        counts = counts_by_state(rows)
        self.counts.setText("   ·   ".join(f"{state} {counts[state]}" for state in STATES if counts[state])
                            or "No devices")
        self._apply_filter()

    def _apply_filter(self) -> None:
        self.proxy.set_filter(self.state_box.currentData() or "", self.text_box.text())
        self.shown.setText(f"{self.proxy.rowCount()} of {self.model.rowCount()} devices shown")

    def visible_devices(self) -> list[str]:
        return [self.proxy.index(r, 0).data() for r in range(self.proxy.rowCount())]
