"""The proposed schedule entries of one device, editable before "Propose": start, end, mode and rate.

Times are shown and edited in UTC ("2024-06-01 13:00"); mode as "charge"/"discharge"; rate in kW. A cell the
trader mistypes keeps its old value and the view says why; the full check happens in ScheduleService.
"""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from core.optimization.results import EntryMode, PlannedEntry

HEADERS = ("Start (UTC)", "End (UTC)", "Mode", "Rate (kW)")
TIME_FORMAT = "%Y-%m-%d %H:%M"  # edited (unambiguous)
SHORT_TIME_FORMAT = "%m-%d %H:%M"  # shown (the year is the horizon's; it would only crowd the column)


class PlanEntriesModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[list] = []  # [start, end, mode, rate_kw]
        self.last_error = ""

    def set_entries(self, entries: tuple[PlannedEntry, ...]) -> None:
        self.beginResetModel()
        self._rows = [[e.start, e.end, e.mode, e.rate_kw] for e in entries]
        self.endResetModel()

    def entries(self) -> list[PlannedEntry]:
        return [PlannedEntry(start, end, mode, rate) for start, end, mode, rate in self._rows]

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return len(HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADERS[section]
        return None

    def flags(self, index: QModelIndex):
        return super().flags(index) | Qt.ItemFlag.ItemIsEditable

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 3:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        value = self._rows[index.row()][index.column()]
        if index.column() in (0, 1):
            return value.strftime(TIME_FORMAT if role == Qt.ItemDataRole.EditRole else SHORT_TIME_FORMAT)
        if index.column() == 2:
            return "charge" if value is EntryMode.CHARGE else "discharge"
        return f"{value:.1f}"

    def setData(self, index: QModelIndex, value, role=Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        row, column = index.row(), index.column()
        text = str(value).strip()
        try:
            if column in (0, 1):
                parsed = datetime.strptime(text, TIME_FORMAT).replace(tzinfo=timezone.utc)
            elif column == 2:
                parsed = {"charge": EntryMode.CHARGE, "discharge": EntryMode.DISCHARGE}[text.lower()]
            else:
                parsed = float(text.replace(",", "."))
                if not parsed > 0:
                    raise ValueError("rate must be above 0 kW")
        except (ValueError, KeyError):
            time_hint = "a UTC time like 2024-06-01 13:00"
            expected = (time_hint, time_hint, "'charge' or 'discharge'", "a rate in kW above 0")
            self.last_error = f"row {row + 1}, {HEADERS[column]}: {text!r} is not {expected[column]}"
            return False
        self.last_error = ""
        self._rows[row][column] = parsed
        self.dataChanged.emit(index, index)
        return True

    def remove_row(self, row: int) -> None:
        if 0 <= row < len(self._rows):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()
