"""The schedule being edited: one table model that both the entry table and the timeline show.

Cells hold what the operator typed, even when it does not parse yet, so a half-typed time is never lost.
Every change re-runs validation (the same core rules the service applies, against the limits of the
target's devices) and emits `validated` once; issues name the entry and the rule, and the cells they
concern are highlighted. Times are UTC: "2026-11-23 14:00", or ISO 8601 with an offset (converted).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from core.schedules.model import Mode, ScheduleEntry
from core.schedules.validation import Rule, ValidationReport
from desktop.theme import Abnormal, abnormal

COLUMNS = ("Start (UTC)", "End (UTC)", "Mode", "Rate kW")
START, END, MODE, RATE = range(4)
TIME_FORMAT = "%Y-%m-%d %H:%M"
PARSE = "parse"  # the rule name of a cell that is not a time, a mode or a number yet
# Which cells a broken rule points at, so the highlight sits where the fix is typed.
RULE_COLUMNS = {
    Rule.AWARE_UTC: (START, END), Rule.START_BEFORE_END: (START, END), Rule.SORTED: (START,),
    Rule.NO_OVERLAP: (START, END), Rule.KNOWN_MODE: (MODE,), Rule.RATE_POSITIVE: (RATE,), Rule.RATE_LIMIT: (RATE,),
    Rule.NOT_IN_PAST: (END,), Rule.ALREADY_RUNNING: (START,), Rule.HORIZON: (END,), Rule.SOC_MAX: (RATE,),
    Rule.SOC_MIN: (RATE,),
}
AnyIndex = QModelIndex | QPersistentModelIndex
# entries -> device id -> report; one device for a device target, every member for a group
Validator = Callable[[Sequence[ScheduleEntry]], Mapping[str, ValidationReport]]


@dataclass(frozen=True)
class EditorIssue:
    """One problem as the editor lists it: the 1-based row, the cells to mark, the words, and whether it blocks."""

    row: int | None
    columns: tuple[int, ...]
    rule: str
    message: str
    error: bool = True
    device_id: str = ""

    def __str__(self) -> str:
        prefix = f"{self.device_id}: " if self.device_id else ""
        return f"{prefix}{self.message} (rule: {self.rule})"


def format_time(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    """'2026-11-23 14:00' (UTC) or ISO 8601 with an offset (converted to UTC); ValueError otherwise."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def parse_mode(text: str) -> int:
    word = text.strip().lower()
    if word in ("2", "charge"):
        return Mode.CHARGE
    if word in ("1", "discharge"):
        return Mode.DISCHARGE
    if word.isdigit():
        return int(word)  # an unknown number is validation's to name (known_mode), not a parse error
    raise ValueError(word)


class ScheduleDraftModel(QAbstractTableModel):
    validated = Signal()  # after every change, once the issues are up to date
    content_changed = Signal()  # the entries changed (typing, adding, moving, loading), not only their checks

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[list[str]] = []
        self.validator: Validator | None = None
        self.issues: list[EditorIssue] = []
        self._cell_issues: dict[tuple[int, int], list[EditorIssue]] = {}

    # -- content ---------------------------------------------------------------------------------
    def set_entries(self, entries: Sequence[ScheduleEntry]) -> None:
        """Replace everything with these entries (one reset, one validation)."""
        self.beginResetModel()
        self._rows = [self._texts(e) for e in entries]
        self.endResetModel()
        self.content_changed.emit()
        self.revalidate()

    def entries(self) -> tuple[ScheduleEntry, ...] | None:
        """The entries, or None while any cell does not parse."""
        out = []
        for row in range(len(self._rows)):
            entry = self.entry_at(row)
            if entry is None:
                return None
            out.append(entry)
        return tuple(out)

    def entry_at(self, row: int) -> ScheduleEntry | None:
        try:
            start, end, mode, rate = self._rows[row]
            rate_kw = float(rate)
            return ScheduleEntry(parse_time(start), parse_time(end), parse_mode(mode), rate_kw)
        except (ValueError, TypeError, OverflowError):
            return None

    def add_entry(self, entry: ScheduleEntry, row: int | None = None) -> int:
        row = len(self._rows) if row is None else row
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.insert(row, self._texts(entry))
        self.endInsertRows()
        self.content_changed.emit()
        self.revalidate()
        return row

    def remove_rows(self, rows: Sequence[int]) -> None:
        for row in sorted(set(rows), reverse=True):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()
        self.content_changed.emit()
        self.revalidate()

    def move_entry(self, row: int, by: timedelta) -> None:
        """Move one entry in time (the timeline's drag); its length stays."""
        entry = self.entry_at(row)
        if entry is None:
            return
        self._rows[row][START] = format_time(entry.start + by)
        self._rows[row][END] = format_time(entry.end + by)
        self.dataChanged.emit(self.index(row, START), self.index(row, END))
        self.content_changed.emit()
        self.revalidate()

    @staticmethod
    def _texts(entry: ScheduleEntry) -> list[str]:
        mode = str(Mode(entry.mode)) if entry.mode in (1, 2) else str(int(entry.mode))
        rate = f"{entry.rate_kw:g}" if math.isfinite(entry.rate_kw) else str(entry.rate_kw)
        return [format_time(entry.start), format_time(entry.end), mode, rate]

    # -- validation ------------------------------------------------------------------------------
    def revalidate(self) -> None:
        issues: list[EditorIssue] = []
        for row, texts in enumerate(self._rows, start=1):
            issues.extend(_parse_issues(row, texts))
        entries = self.entries()
        if entries is not None and self.validator is not None:
            reports = self.validator(entries)
            group = len(reports) > 1
            for device_id, report in reports.items():
                for issue, error in [*((i, True) for i in report.errors), *((i, False) for i in report.warnings)]:
                    issues.append(EditorIssue(issue.entry_index, RULE_COLUMNS.get(issue.rule, ()), issue.rule,
                                              issue.message, error, device_id if group else ""))
        self.issues = issues
        cells: dict[tuple[int, int], list[EditorIssue]] = {}
        for issue in issues:
            if issue.row is not None:
                for column in issue.columns:
                    cells.setdefault((issue.row - 1, column), []).append(issue)
        self._cell_issues = cells
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(COLUMNS) - 1),
                                  [Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ToolTipRole])
        self.validated.emit()

    @property
    def errors(self) -> list[EditorIssue]:
        return [i for i in self.issues if i.error]

    def issues_at(self, row: int, column: int) -> list[EditorIssue]:
        return list(self._cell_issues.get((row, column), ()))

    # -- Qt model --------------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return COLUMNS[section] if orientation == Qt.Orientation.Horizontal else f"entry {section + 1}"

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        return super().flags(index) | Qt.ItemFlag.ItemIsEditable

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._rows[row][column]
        cell = self._cell_issues.get((row, column))
        if role == Qt.ItemDataRole.BackgroundRole and cell:
            level = Abnormal.CRITICAL if any(i.error for i in cell) else Abnormal.WARNING
            return QBrush(QColor(abnormal(level).background).lighter(170))
        if role == Qt.ItemDataRole.ToolTipRole and cell:
            return "\n".join(str(i) for i in cell)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == RATE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: AnyIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        text = str(value)
        if self._rows[index.row()][index.column()] == text:
            return False
        self._rows[index.row()][index.column()] = text
        self.dataChanged.emit(index, index)
        self.content_changed.emit()
        self.revalidate()
        return True


def _parse_issues(row: int, texts: list[str]) -> list[EditorIssue]:
    start, end, mode, rate = texts
    issues = []
    for column, name, text in ((START, "start", start), (END, "end", end)):
        try:
            parse_time(text)
        except (ValueError, OverflowError):
            issues.append(EditorIssue(row, (column,), PARSE, f"entry {row}: {name} {text!r} is not a time "
                                                             "(YYYY-MM-DD HH:MM, UTC)"))
    try:
        parse_mode(mode)
    except ValueError:
        issues.append(EditorIssue(row, (MODE,), PARSE, f"entry {row}: mode {mode!r} is not charge or discharge"))
    try:
        float(rate)
    except ValueError:
        issues.append(EditorIssue(row, (RATE,), PARSE, f"entry {row}: rate {rate!r} is not a number of kW"))
    return issues
