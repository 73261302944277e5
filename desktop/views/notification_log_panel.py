"""The notification delivery log: every attempt (channel, recipient, alarm, attempt, result, error), newest
first, failures in the critical colour; a failed notification is itself visible here and as a count."""

from __future__ import annotations

import asyncio
from typing import Any, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.auth.principal import Principal
from core.notifications.delivery_log import DeliveryLogEntry
from core.notifications.runtime_messages import NotificationFailurePublished, QueryNotificationLog
from core.runtime.runtime import Runtime
from desktop.models.record_table_model import RecordTableModel
from desktop.summary import local_time
from desktop.tasks import UiTasks
from desktop.theme import Abnormal, abnormal, qcolor
from desktop.widgets.message_area import MessageArea
from desktop.widgets.record_table import record_table


class DeliveryLogModel(RecordTableModel[DeliveryLogEntry]):
    columns = ("Time", "Result", "Channel", "Recipient", "Alarm", "Step", "Attempt", "Error")

    def cell(self, e: DeliveryLogEntry, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            result = "Delivered" if e.ok else ("Failed" if e.final else "Failed · will retry")
            return (local_time(e.at), result, e.channel if e.channel != "-" else f"(no {e.channel_kind})",
                    e.recipient, e.alarm_id, "" if e.step_index is None else str(e.step_index + 1),
                    str(e.attempt), e.error or "")[column]
        if role == Qt.ItemDataRole.ToolTipRole and column == 7:
            return e.error
        if column == 1 and not e.ok and role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole):
            colour = abnormal(Abnormal.CRITICAL if e.final else Abnormal.WARNING)
            return qcolor(colour.background if role == Qt.ItemDataRole.BackgroundRole else colour.text)
        return None


class NotificationLogPanel(QWidget):
    failed_count_changed = Signal(int)

    def __init__(self, runtime: Runtime, principal: Principal, parent: QWidget | None = None) -> None:
        super().__init__(parent)

        self.runtime, self.principal = runtime, principal
        self.tasks = UiTasks(lambda exc: self.message.show_error(f"Unexpected error: {exc}"))
        self.model = DeliveryLogModel(self)
        self.table = record_table(self.model)
        self.failures_only = QCheckBox("Failures only")
        self.failures_only.toggled.connect(lambda _on: self.tasks.start(self.refresh()))
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(lambda: self.tasks.start(self.refresh()))
        self.summary = QLabel()
        self.summary.setObjectName("muted")
        self.message = MessageArea()
        row = QHBoxLayout()
        row.addWidget(self.failures_only)
        row.addWidget(refresh)
        row.addStretch(1)
        row.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)

    async def refresh(self) -> None:
        try:
            entries = await asyncio.wrap_future(self.runtime.submit(
                QueryNotificationLog(self.principal, 1000, self.failures_only.isChecked())))
        except Exception as exc:
            self.message.show_error(f"Cannot load the notification log: {exc}")
            return
        self.model.set_records(entries)
        failed = sum(1 for e in entries if not e.ok and e.final)
        self.summary.setText(f"{len(entries)} attempts shown · {failed} notifications failed")

    def on_notification_failures(self, events: Sequence[NotificationFailurePublished]) -> None:
        """Pump subscriber: say what failed, update the count, reload the log."""
        if not events:
            return
        last = events[-1].failure
        self.message.show_error(
            f"Notification failed: {last.notification.alarm_id} to {last.notification.recipient} over "
            f"{last.channel}: {last.error}" + (f" (and {len(events) - 1} more)" if len(events) > 1 else ""))
        self.failed_count_changed.emit(events[-1].failed_total)
        self.tasks.start(self.refresh())
