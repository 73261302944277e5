"""The EEMUA 191 alarm-load panel: alarms per operator per 10 minutes (average and peak), flood windows,
standing and chattering alarms, and the top-10 bad actors, for a chosen period of the journal."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from core.alarms.alarm_load import AlarmLoadReport
from core.alarms.messages import ComputeAlarmLoad
from core.auth.principal import Principal
from core.runtime.runtime import Runtime
from desktop.models.record_table_model import RecordTableModel
from desktop.summary import local_time
from desktop.tasks import UiTasks
from desktop.theme import Abnormal, abnormal
from desktop.widgets.message_area import MessageArea
from desktop.widgets.record_table import record_table

PERIODS = (("Last hour", 1), ("Last 24 hours", 24), ("Last 7 days", 24 * 7), ("Last 30 days", 24 * 30))
# EEMUA 191: an average of 1 alarm per 10 min is "very likely acceptable", 2 "manageable".
ACCEPTABLE_RATE, MANAGEABLE_RATE = 1.0, 2.0


class BadActorsModel(RecordTableModel[tuple[str, int, str]]):
    columns = ("#", "Alarm", "Activations", "Also")

    def cell(self, record: tuple[str, int, str], column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            alarm_id, count, note = record
            return (str(self.records().index(record) + 1), alarm_id, str(count), note)[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 2):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _figure(title: str) -> tuple[QWidget, QLabel]:
    box = QWidget()
    box.setObjectName("figure")
    layout = QVBoxLayout(box)
    layout.setContentsMargins(10, 6, 10, 6)
    caption = QLabel(title)
    caption.setObjectName("muted")
    value = QLabel("–")
    font = value.font()
    font.setPointSizeF(font.pointSizeF() * 1.6)
    font.setBold(True)
    value.setFont(font)
    layout.addWidget(caption)
    layout.addWidget(value, 0, Qt.AlignmentFlag.AlignLeft)  # a highlighted figure, not a full-width bar
    return box, value


class AlarmLoadPanel(QWidget):
    def __init__(self, runtime: Runtime, principal: Principal,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)

        self.runtime, self.principal, self.now = runtime, principal, now
        self.tasks = UiTasks(lambda exc: self.message.show_error(f"Unexpected error: {exc}"))
        self.report: AlarmLoadReport | None = None
        self.period = QComboBox()
        for label, hours in PERIODS:
            self.period.addItem(label, hours)
        self.period.setCurrentIndex(1)
        self.operators = QSpinBox()
        self.operators.setRange(1, 50)
        self.operators.setPrefix("Operators: ")
        self.compute_button = QPushButton("Compute")
        self.compute_button.clicked.connect(lambda: self.tasks.start(self.refresh()))
        self.period_label = QLabel()
        self.period_label.setObjectName("muted")
        controls = QHBoxLayout()
        for w in (self.period, self.operators, self.compute_button):
            controls.addWidget(w)
        controls.addStretch(1)
        controls.addWidget(self.period_label)

        grid = QGridLayout()
        self.values: dict[str, QLabel] = {}
        for i, (key, title) in enumerate((
                ("average", "Alarms / operator / 10 min (average)"), ("peak", "Peak 10 min / operator"),
                ("floods", "Flood windows (> 10 in 10 min)"), ("new", "New alarms"),
                ("standing", "Standing alarms (> 24 h)"), ("chattering", "Chattering alarms"))):
            box, value = _figure(title)
            grid.addWidget(box, i // 3, i % 3)
            self.values[key] = value
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.bad_actors = BadActorsModel(self)
        self.table = record_table(self.bad_actors)
        self.message = MessageArea()
        title = QLabel("Top 10 bad actors (most activations in the period)")
        bold = title.font()
        bold.setBold(True)
        title.setFont(bold)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(controls)
        layout.addLayout(grid)
        layout.addWidget(self.verdict)
        layout.addWidget(title)
        layout.addWidget(self.table, 1)

    async def refresh(self) -> None:
        end = self.now() + timedelta(milliseconds=1)  # the period is half-open: include what happened now
        start = end - timedelta(hours=int(self.period.currentData()))
        self.compute_button.setEnabled(False)
        try:
            report = await asyncio.wrap_future(self.runtime.submit(
                ComputeAlarmLoad(self.principal, start, end, self.operators.value())))
        except Exception as exc:
            self.message.show_error(f"Cannot compute the alarm load: {exc}")
            return
        finally:
            self.compute_button.setEnabled(True)
        self.show_report(report)

    def show_report(self, r: AlarmLoadReport) -> None:
        self.report = r
        self.period_label.setText(f"{local_time(r.period_start)} – {local_time(r.period_end)}")
        self.values["average"].setText(f"{r.average_per_operator_per_10min:.2f}")
        self.values["peak"].setText(f"{r.peak_per_operator_per_10min:g}")
        self.values["floods"].setText(f"{len(r.flood_windows)} ({r.percent_windows_in_flood:.1f} %)")
        flood_colour = abnormal(Abnormal.WARNING)
        self.values["floods"].setStyleSheet(
            f"color: {flood_colour.text}; background: {flood_colour.background}; padding: 0 6px;"
            if r.flood_windows else "")
        self.values["new"].setText(str(r.new_alarms))
        self.values["standing"].setText(str(len(r.standing_alarms)))
        self.values["chattering"].setText(str(len(r.chattering_alarms)))
        rate = r.average_per_operator_per_10min
        if rate <= ACCEPTABLE_RATE:
            words, kind = "very likely acceptable (EEMUA 191: ≤ 1 per 10 min)", None
        elif rate <= MANAGEABLE_RATE:
            words, kind = "manageable (EEMUA 191: ≤ 2 per 10 min)", Abnormal.WARNING
        else:
            words, kind = "over what EEMUA 191 calls manageable (> 2 per 10 min)", Abnormal.CRITICAL
        self.verdict.setText(f"Average alarm rate is {words}.")
        if kind is None:
            self.verdict.setStyleSheet("")
        else:
            colour = abnormal(kind)
            self.verdict.setStyleSheet(f"background: {colour.background}; color: {colour.text}; padding: 4px 8px;")
        chattering, standing = set(r.chattering_alarms), set(r.standing_alarms)
        self.bad_actors.set_records([
            (alarm_id, count, ", ".join(w for w, s in (("chattering", chattering), ("standing", standing))
                                        if alarm_id in s))
            for alarm_id, count in r.top_alarms])
