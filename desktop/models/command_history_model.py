"""Recent commands of one device (newest first), as CommandHistory.recent() returns them."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from core.commands.model import CommandOutcome, CommandStatus
from desktop.summary import local_time
from desktop.theme import Abnormal, abnormal, qcolor

COLUMNS = ("Time", "Command", "Result", "By", "Latency", "Message")
BAD = {CommandStatus.REJECTED, CommandStatus.TIMEOUT, CommandStatus.FAILED, CommandStatus.REFUSED}


class CommandHistoryModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.outcomes: list[CommandOutcome] = []

    def set_outcomes(self, outcomes: list[CommandOutcome]) -> None:
        self.beginResetModel()
        self.outcomes = list(outcomes)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.outcomes)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        o = self.outcomes[index.row()]
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                "Time": local_time(o.requested_at, "%H:%M:%S"),
                "Command": o.command.describe(),
                "Result": o.status.value,
                "By": o.requested_by,
                "Latency": f"{o.latency_s:.2f} s",
                "Message": o.message,
            }[column]
        if role == Qt.ItemDataRole.ToolTipRole and column == "Message":
            return o.message
        if role == Qt.ItemDataRole.ForegroundRole and column == "Result" and o.status in BAD:
            return qcolor(abnormal(Abnormal.CRITICAL).ink)
        return None
