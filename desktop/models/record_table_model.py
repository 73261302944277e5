"""A read-only table over the records of one core query (users, audit entries, devices, ...).

A refresh is a new query result, not a diff, so it replaces the list in one model reset. Subclasses name
their columns and say what one cell shows for a role; everything else about being a Qt model lives here.
"""

from __future__ import annotations

from typing import Any, Generic, Sequence, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

Record = TypeVar("Record")
AnyIndex = QModelIndex | QPersistentModelIndex


class RecordTableModel(QAbstractTableModel, Generic[Record]):
    columns: tuple[str, ...] = ()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._records: list[Record] = []

    def set_records(self, records: Sequence[Record]) -> None:
        self.beginResetModel()
        self._records = list(records)
        self.endResetModel()

    def records(self) -> list[Record]:
        return list(self._records)

    def record_at(self, row: int) -> Record:
        return self._records[row]

    def cell(self, record: Record, column: int, role: int) -> Any:
        """What the cell shows for a role (DisplayRole, ToolTipRole, colours...); None for nothing."""
        raise NotImplementedError

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        return self.cell(self._records[index.row()], index.column(), role)
