"""The Fleet view: summary tiles, fast filters and the live device table (10,000+ rows).

Refresh is timer-driven (1 s): one LiveState snapshot per tick goes to the model, which emits one signal.
Names and sites are resolved off the GUI thread when new devices appear. Filters, sort and selection are
kept per user in QSettings.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable

from PySide6.QtCore import QItemSelectionModel, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import QAbstractItemView, QGridLayout, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from core.auth.principal import Principal
from core.fleet.context import FleetContext
from desktop.models.device_directory import DeviceDirectory
from desktop.models.fleet_filter import FleetFilter
from desktop.models.fleet_summary import FleetSummary, summarize
from desktop.models.fleet_table_model import FleetTableModel
from desktop.tasks import UiTasks, call_core
from desktop.theme import Abnormal
from desktop.views.fleet_filter_bar import FleetFilterBar
from desktop.views.fleet_settings import FleetSettings, FleetViewState
from desktop.widgets.summary_tile import SummaryTile

NO_DEVICES = "<b>No devices are connected yet.</b><br><br>Devices appear here as soon as they report " \
             "(Modbus/SunSpec or MQTT), each with its state of charge, power and availability."
NO_MATCH = "<b>No device matches these filters.</b><br><br>Clear the filter text or choose another status, " \
           "site or time window."
COLUMN_WIDTHS = (110, 170, 130, 70, 70, 85, 95, 90, 75, 95)


class FleetView(QWidget):
    device_selected = Signal(str)
    device_activated = Signal(str)  # double-click or Enter: open the device detail

    def __init__(self, fleet: FleetContext, principal: Principal, settings: QSettings, *,
                 now: Callable[[], float] = time.time, tick_ms: int = 1000, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fleet = fleet
        self.tasks = UiTasks()
        self.directory = DeviceDirectory(fleet.live_state, fleet.device_info)
        self.model = FleetTableModel(now, self)
        self.store = FleetSettings(settings, principal.username)
        self._resolving = False
        self.summary: FleetSummary | None = None

        title = QLabel("Fleet")
        title.setObjectName("viewTitle")
        self.tiles = {key: SummaryTile(label, note) for key, label, note in (
            ("online", "Online", "reporting normally"),
            ("stale", "Stale", "late reports"),
            ("offline", "Offline", "no communication"),
            ("discharge", "Discharging kW", "power to the grid"),
            ("charge", "Charging kW", "power from the grid"),
            ("energy", "Energy available kWh", ""),
            ("alarms", "Active alarms", "alarms arrive with the alarms module"),
        )}
        tiles = QGridLayout()
        tiles.setSpacing(8)
        for i, tile in enumerate(self.tiles.values()):
            tiles.addWidget(tile, 0, i)
        self.filters = FleetFilterBar()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate(COLUMN_WIDTHS):
            self.table.setColumnWidth(column, width)
        self.empty = QLabel(NO_DEVICES)
        self.empty.setObjectName("muted")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        QVBoxLayout(self.table.viewport()).addWidget(self.empty)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(tiles)
        layout.addWidget(self.filters)
        layout.addWidget(self.table, 1)

        self._restored = self.store.load()
        self._pending_selection = self._restored.selected_device
        self.filters.show_filter(self._restored.filter)  # before connecting: restoring is not a change
        self.model.set_filter(self._restored.filter)
        self.table.horizontalHeader().setSortIndicator(
            self._restored.sort_column,
            Qt.SortOrder.AscendingOrder if self._restored.ascending else Qt.SortOrder.DescendingOrder)
        self.filters.filter_changed.connect(self._on_filter_changed)
        self.table.horizontalHeader().sortIndicatorChanged.connect(lambda *_: self._save())
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row)
        self.table.activated.connect(lambda index: self.device_activated.emit(self.model.device_at(index.row())))
        self.model.layoutChanged.connect(self._show_empty_state)

        self.timer = QTimer(self)
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(self.tick)
        self.tick()
        self.timer.start()

    # -- the tick -------------------------------------------------------------------------------
    def tick(self) -> None:
        """One refresh: snapshot -> model (one signal) -> tiles; resolve names of newly seen devices."""
        snap = self.fleet.live_state.snapshot()
        self.model.refresh(snap)
        self.filters.set_sites(self.model.sites())
        self.summary = summarize(snap, self.model.capacity_kwh)
        self._show_summary(self.summary, len(snap.device_ids))
        if self._pending_selection:
            self.select_device(self._pending_selection)
        if not self._resolving and _loop_running() and self.model.missing_metadata():
            self._resolving = True
            self.tasks.start(self._resolve_names())

    async def _resolve_names(self) -> None:
        try:
            metas = await call_core(self.directory.describe_many, self.model.missing_metadata())
            self.model.set_metadata(metas)
            self.filters.set_sites(self.model.sites())
        finally:
            self._resolving = False

    def _show_summary(self, s: FleetSummary, total: int) -> None:
        self.tiles["online"].set_value(f"{s.online:,}")
        self.tiles["stale"].set_value(f"{s.stale:,}", Abnormal.OFFLINE if s.stale else None)
        self.tiles["offline"].set_value(f"{s.offline:,}", Abnormal.OFFLINE if s.offline else None)
        self.tiles["discharge"].set_value(f"{s.discharge_kw:,.0f}")
        self.tiles["charge"].set_value(f"{s.charge_kw:,.0f}")
        note = "capacity not known yet" if not s.energy_devices else f"{s.energy_devices:,} of {total:,} devices"
        self.tiles["energy"].set_value(f"{s.energy_kwh:,.0f}" if s.energy_devices else "—", note=note)
        if self.fleet.alarm_count is None:
            self.tiles["alarms"].set_value("—")
        else:
            count = self.fleet.alarm_count()
            self.tiles["alarms"].set_value(f"{count:,}", Abnormal.WARNING if count else None, note="in the alarm list")

    def _show_empty_state(self) -> None:
        if self.model.rowCount():
            self.empty.hide()
            return
        self.empty.setText(NO_DEVICES if self.model.filter.is_open else NO_MATCH)
        self.empty.show()

    # -- selection and filters ------------------------------------------------------------------
    def selected_device(self) -> str:
        index = self.table.selectionModel().currentIndex()
        return self.model.device_at(index.row()) if index.isValid() else ""

    def select_device(self, device_id: str) -> bool:
        row = self.model.table_row_of(device_id)
        if row < 0:
            return False
        self._pending_selection = ""
        self.table.selectionModel().setCurrentIndex(
            self.model.index(row, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(self.model.index(row, 0))
        return True

    def set_filter(self, fleet_filter: FleetFilter) -> None:
        self.filters.show_filter(fleet_filter)

    def _on_filter_changed(self, fleet_filter: FleetFilter) -> None:
        self.model.set_filter(fleet_filter)
        self._show_empty_state()
        self._save()

    def _on_current_row(self, current, _previous) -> None:
        if current.isValid():
            self._pending_selection = ""
            self.device_selected.emit(self.model.device_at(current.row()))
            self._save()

    def _save(self) -> None:
        column, ascending = self.model.sort_state
        self.store.save(FleetViewState(self.model.filter, column, ascending,
                                       self.selected_device() or self._pending_selection))


def _loop_running() -> bool:
    """Names are resolved by an async task on the Qt loop; without a running loop (a plain script) they wait."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
