"""The side table of the battery drill-down: the cells of one pack, one row per cell."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from core.fleet.battery_cells import BatterySystemSnapshot
from desktop.theme import Abnormal, abnormal, qcolor
from desktop.widgets.cell_heatmap import METRICS, outliers

COLUMNS = ("Cell", "Voltage V", "Temp °C", "SoC %", "SoH %")
KEYS = (None, "voltage_v", "temp_c", "soc_pct", "soh_pct")
DECIMALS = {"voltage_v": 3, "temp_c": 1, "soc_pct": 1, "soh_pct": 1}


class PackCellsModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.pack: int | None = None
        self._values: dict[str, np.ndarray] = {}
        self._alarm: dict[str, np.ndarray] = {}

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() or self.pack is None else len(self._values.get("voltage_v", ()))

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        key = KEYS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            if key is None:
                return str(index.row())
            value = float(self._values[key][index.row()])
            return "—" if not math.isfinite(value) else f"{value:.{DECIMALS[key]}f}"
        if role == Qt.ItemDataRole.UserRole and key is not None:
            return float(self._values[key][index.row()])
        if role == Qt.ItemDataRole.TextAlignmentRole and key is not None:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole and key is not None and self._alarm[key][index.row()]:
            return qcolor(abnormal(Abnormal.CRITICAL).background)
        if role == Qt.ItemDataRole.ForegroundRole and key is not None and self._alarm[key][index.row()]:
            return qcolor(abnormal(Abnormal.CRITICAL).text)
        return None

    def show_pack(self, snap: BatterySystemSnapshot, pack: int) -> None:
        """Show (or refresh) one pack: a reset when the pack changes, one dataChanged otherwise."""
        same = pack == self.pack and "voltage_v" in self._values
        if not same:
            self.beginResetModel()
        self.pack = pack
        for key in KEYS[1:]:
            self._values[key] = np.array(getattr(snap, key)[pack])
            self._alarm[key] = outliers(self._values[key], METRICS[key])[0]
        if same:
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, len(COLUMNS) - 1))
        else:
            self.endResetModel()
