"""Battery system drill-down: 100 packs x 10 cells as a heatmap, pack and system figures, the clicked
pack's cells in a table and the clicked cell's recent trend.

Refresh is timer-driven: one battery_snapshot per tick, used only when the system's version moved.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QComboBox, QFrame, QHBoxLayout, QHeaderView, QLabel, QSplitter, QTableView,
                               QVBoxLayout, QWidget)

from core.fleet.battery_cells import BatterySystemSnapshot
from core.fleet.context import FleetContext
from core.fleet.live_state import UnknownDevice
from desktop.models.battery_summary import CellFigures, cell_figures
from desktop.models.cell_history import CellHistory
from desktop.models.pack_cells_model import PackCellsModel
from desktop.theme import TEXT
from desktop.widgets.cell_heatmap import METRICS, CellHeatmap
from desktop.widgets.trend_chart import TrendChart

NO_SYSTEM = "No battery system with cell data is connected yet."


def describe(figures: CellFigures, unit: str) -> str:
    def where(entry, suffix):
        return "—" if entry is None else f"pack {entry[0]} cell {entry[1]} ({entry[2]:.1f} {suffix})"
    return (f"min {figures.minimum:.3g} · max {figures.maximum:.3g} · mean {figures.mean:.3g} {unit} · "
            f"imbalance {figures.imbalance_v * 1000:.0f} mV<br>"
            f"weakest {where(figures.weakest, '% SoH')} · hottest {where(figures.hottest, '°C')}")


class BatteryView(QWidget):
    def __init__(self, fleet: FleetContext, *, now: Callable[[], float] = time.time, tick_ms: int = 1000,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fleet = fleet
        self._now = now
        self.system_id = ""
        self.snapshot: BatterySystemSnapshot | None = None
        self.history: CellHistory | None = None
        self.selected_pack: int | None = None
        self.trend_source: tuple[int, int, str] | None = None  # (pack, cell, metric) shown in the trend

        title = QLabel("Battery system")
        title.setObjectName("viewTitle")
        self.systems = QComboBox()
        self.systems.setMinimumContentsLength(12)
        self.metric_box = QComboBox()
        for key, metric in METRICS.items():
            self.metric_box.addItem(f"{metric.label} ({metric.unit})", key)
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        for caption, box in (("System", self.systems), ("Metric", self.metric_box)):
            header.addWidget(QLabel(caption))
            header.addWidget(box)
        self.system_summary = QLabel(NO_SYSTEM)
        self.system_summary.setObjectName("muted")
        self.system_summary.setWordWrap(True)
        self.heatmap = CellHeatmap()
        self.legend = QLabel("Outlined: <b>red</b> beyond an alarm threshold · <b>amber</b> beyond 3σ of the system"
                             " · dashed: selection. Click a cell to drill down.")
        self.legend.setObjectName("muted")

        self.pack_title = QLabel("Pack — click a pack in the map")
        self.pack_title.setObjectName("cardTitle")
        self.pack_summary = QLabel("")
        self.pack_summary.setObjectName("muted")
        self.pack_summary.setTextFormat(Qt.TextFormat.RichText)
        self.cells_model = PackCellsModel(self)
        self.cells_table = QTableView()
        self.cells_table.setModel(self.cells_model)
        self.cells_table.verticalHeader().hide()
        self.cells_table.verticalHeader().setDefaultSectionSize(22)
        self.cells_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.cells_table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.trend = TrendChart("Cell trend", "", capacity=300)

        side = QFrame()
        side.setObjectName("card")
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.pack_title)
        side_layout.addWidget(self.pack_summary)
        side_layout.addWidget(self.cells_table, 3)
        side_layout.addWidget(self.trend, 2)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.system_summary)
        left_layout.addWidget(self.heatmap, 1)
        left_layout.addWidget(self.legend)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(splitter, 1)

        self.systems.currentTextChanged.connect(self.show_system)
        self.metric_box.currentIndexChanged.connect(lambda _i: self._on_metric())
        self.heatmap.cell_clicked.connect(self.select_cell)
        self.cells_table.clicked.connect(lambda index: self.select_cell(self.selected_pack, index.row()))
        self.timer = QTimer(self)
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(self.tick)
        self.tick()
        self.timer.start()

    @property
    def metric_key(self) -> str:
        return self.metric_box.currentData()

    def known_systems(self) -> list[str]:
        live = self.fleet.live_state
        listed = list(self.fleet.battery_systems) or [d for d in live.device_ids if live.is_battery_system(d)]
        return [s for s in listed if live.is_battery_system(s)]

    def tick(self) -> None:
        systems = self.known_systems()
        if systems != [self.systems.itemText(i) for i in range(self.systems.count())]:
            current = self.system_id
            self.systems.blockSignals(True)
            self.systems.clear()
            self.systems.addItems(systems)
            self.systems.blockSignals(False)
            self.show_system(current if current in systems else (systems[0] if systems else ""))
            return
        self.read_cells()

    def show_system(self, system_id: str) -> None:
        if system_id and self.systems.currentText() != system_id:
            self.systems.setCurrentText(system_id)  # re-enters through currentTextChanged
            return
        if system_id == self.system_id and self.history is not None:
            return
        self.system_id = system_id
        self.snapshot, self.history, self.selected_pack, self.trend_source = None, None, None, None
        self.trend.clear()
        self.read_cells()

    def read_cells(self) -> None:
        """Read the system once; repaint only when its cells changed since the last look."""
        if not self.system_id:
            return
        try:
            snap = self.fleet.live_state.battery_snapshot(self.system_id)
        except UnknownDevice:
            return
        if self.snapshot is not None and snap.version == self.snapshot.version:
            return
        if self.history is None or self.history.shape != snap.voltage_v.shape:
            self.history = CellHistory(*snap.voltage_v.shape)
        self.snapshot = snap
        seen = snap.pack_last_seen[np.isfinite(snap.pack_last_seen)]
        self.history.record(snap, float(seen.max()) if seen.size else self._now())  # data time, not paint time
        self._paint()

    def _paint(self) -> None:
        snap, metric = self.snapshot, METRICS[self.metric_key]
        if snap is None:
            return
        self.heatmap.set_values(getattr(snap, metric.key))
        packs, cells = snap.voltage_v.shape
        self.system_summary.setText(f"<b>{self.system_id}</b> · {packs} packs × {cells} cells · "
                                    + describe(cell_figures(snap, metric.key), metric.unit))
        if self.selected_pack is not None:
            self._show_pack(self.selected_pack)
        self._show_trend()

    def _on_metric(self) -> None:
        self.heatmap.set_metric(self.metric_key)
        if self.trend_source is not None:
            self.trend_source = (*self.trend_source[:2], self.metric_key)
        self._paint()

    def select_pack(self, pack: int) -> None:
        self.select_cell(pack, None)

    def select_cell(self, pack: int | None, cell: int | None) -> None:
        """A click on the map (or on a row of the pack table): show the pack's cells and the cell's trend."""
        if self.snapshot is None or pack is None:
            return
        self.selected_pack = pack
        self.heatmap.select(pack, cell)
        self._show_pack(pack)
        if cell is not None:
            self.trend_source = (pack, cell, self.metric_key)
            self.cells_table.selectRow(cell)
            self._show_trend()

    def _show_pack(self, pack: int) -> None:
        metric = METRICS[self.metric_key]
        self.cells_model.show_pack(self.snapshot, pack)
        self.pack_title.setText(f"Pack {pack}")
        self.pack_summary.setText(describe(cell_figures(self.snapshot, metric.key, pack), metric.unit))

    def _show_trend(self) -> None:
        if self.trend_source is None or self.history is None:
            return
        pack, cell, key = self.trend_source
        t, values = self.history.trend(key, pack, cell)
        metric = METRICS[key]
        buffer = self.trend.series("cell")
        buffer.clear()
        buffer.extend(t, values)
        self.trend.plot.getPlotItem().setTitle(f"Pack {pack} cell {cell}: {metric.label} ({metric.unit})",
                                                 color=TEXT, size="10pt")
