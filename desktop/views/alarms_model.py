"""Table models of the alarm list and the alarm history, plus the list's filter.

ISA-101: rows are grey unless abnormal; an annunciated alarm's priority cell carries its priority
colour, and unacknowledged rows are bold. Shelved and out-of-service rows stay grey.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from core.alarms.priorities import Priority
from core.alarms.states import AlarmState
from core.alarms.transitions import ActiveAlarm, AlarmTransition
from desktop.summary import local_time
from desktop.theme import Abnormal, abnormal, qcolor

STATE_TEXT = {
    AlarmState.ACTIVE_UNACKED: "Active · unacknowledged",
    AlarmState.ACTIVE_ACKED: "Active · acknowledged",
    AlarmState.RETURNED_UNACKED: "Cleared · unacknowledged",
    AlarmState.SHELVED: "Shelved",
    AlarmState.OUT_OF_SERVICE: "Out of service",
    AlarmState.NORMAL: "Normal",
}
UNACKED = (AlarmState.ACTIVE_UNACKED, AlarmState.RETURNED_UNACKED)
PRIORITY_COLOUR = {Priority.CRITICAL: Abnormal.CRITICAL, Priority.WARNING: Abnormal.WARNING, Priority.INFO: Abnormal.INFO}


def device_of(source_id: str) -> str:
    """The device a source belongs to ("rack-1/pack02/cell03" -> "rack-1")."""
    return source_id.split("/", 1)[0]


@dataclass(frozen=True)
class AlarmListFilter:
    priority: Priority | None = None
    device: str = ""  # substring of the source id
    rule_id: str | None = None
    since: datetime | None = None  # activated at or after

    def accepts(self, alarm: ActiveAlarm) -> bool:
        return ((self.priority is None or alarm.priority is self.priority)
                and (not self.device or self.device.lower() in alarm.source_id.lower())
                and (self.rule_id is None or alarm.rule_id == self.rule_id)
                and (self.since is None or alarm.activated_at >= self.since))


def sort_alarms(alarms: Sequence[ActiveAlarm]) -> list[ActiveAlarm]:
    """Most urgent priority first, then newest first."""
    return sorted(alarms, key=lambda a: (a.priority.rank, -a.activated_at.timestamp(), a.alarm_id))


class AlarmsTableModel(QAbstractTableModel):
    COLUMNS = ("Priority", "State", "Alarm", "Source", "Value", "Activated", "Shelved until")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._alarms: list[ActiveAlarm] = []

    def set_alarms(self, alarms: Sequence[ActiveAlarm]) -> None:
        self.beginResetModel()
        self._alarms = sort_alarms(alarms)
        self.endResetModel()

    def alarm_at(self, row: int) -> ActiveAlarm:
        return self._alarms[row]

    def alarm_ids(self) -> list[str]:
        return [a.alarm_id for a in self._alarms]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._alarms)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        a = self._alarms[index.row()]
        col = index.column()
        annunciated = a.state.annunciated
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                a.priority.value.capitalize(),
                STATE_TEXT[a.state] + (" · chattering" if a.chattering else ""),
                a.rule_id.replace("_", " "),
                a.source_id,
                "" if a.value is None else f"{a.value:.3g}",
                local_time(a.activated_at),
                local_time(a.shelved_until) if a.shelved_until else "",
            )[col]
        if role == Qt.ItemDataRole.BackgroundRole and col == 0 and annunciated:
            return qcolor(abnormal(PRIORITY_COLOUR[a.priority]).background)
        if role == Qt.ItemDataRole.ForegroundRole and col == 0 and annunciated:
            return qcolor(abnormal(PRIORITY_COLOUR[a.priority]).text)
        if role == Qt.ItemDataRole.FontRole and a.state in UNACKED:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.UserRole:
            return a.alarm_id
        return None


class AlarmHistoryModel(QAbstractTableModel):
    COLUMNS = ("Time", "Alarm", "Source", "From", "To", "Cause", "Priority", "Value", "User", "Comment")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[AlarmTransition] = []

    def set_transitions(self, rows: Sequence[AlarmTransition]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def transition_at(self, row: int) -> AlarmTransition:
        return self._rows[row]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        t = self._rows[index.row()]
        return (
            local_time(t.at), t.rule_id.replace("_", " "), t.source_id, STATE_TEXT[t.from_state],
            STATE_TEXT[t.to_state], t.cause.value.replace("_", " "), t.priority.value,
            "" if t.value is None else f"{t.value:.3g}", t.user or "", t.comment or "",
        )[index.column()]
