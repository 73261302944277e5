"""Table model of audit entries, newest first, as AuditLog returns them."""

from __future__ import annotations

import json
from typing import Any, Sequence

from PySide6.QtCore import Qt

from core.audit.trail import AuditEntry
from desktop.models.record_table_model import RecordTableModel
from desktop.summary import local_time
from desktop.theme import Abnormal, abnormal, qcolor

COLUMNS = ("Time (local)", "User", "Action", "Resource", "Result", "Host", "Detail")
_ABNORMAL_RESULT = {"failure": Abnormal.WARNING, "denied": Abnormal.CRITICAL}


class AuditTableModel(RecordTableModel[AuditEntry]):
    columns = COLUMNS

    def set_entries(self, entries: Sequence[AuditEntry]) -> None:
        self.set_records(entries)

    def entries(self) -> list[AuditEntry]:
        return self.records()

    def cell(self, entry: AuditEntry, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(entry, column)
        if role == Qt.ItemDataRole.ToolTipRole and column == 6:
            return json.dumps(entry.detail, indent=2, sort_keys=True)
        if column == 4 and entry.result in _ABNORMAL_RESULT:
            colour = abnormal(_ABNORMAL_RESULT[entry.result])
            if role == Qt.ItemDataRole.BackgroundRole:
                return qcolor(colour.background)
            if role == Qt.ItemDataRole.ForegroundRole:
                return qcolor(colour.text)
        return None

    @staticmethod
    def _display(entry: AuditEntry, column: int) -> str:
        if column == 0:
            return local_time(entry.at)
        if column == 6:
            return ", ".join(f"{k}={v}" for k, v in sorted(entry.detail.items()))
        return (entry.username, entry.action, entry.resource, entry.result, entry.host)[column - 1]
