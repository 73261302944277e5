"""The admin's rule editor: the rules in force with their thresholds, deadbands, delays and priorities;
"Edit rule…" changes one through the runtime (AlarmService.update_rule: permission, validation, audit).
A refused change keeps the dialog open with core's reason."""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.alarms.messages import ListAlarmRules, UpdateAlarmRule
from core.alarms.rules import AlarmRule
from core.auth.principal import Principal
from core.runtime.runtime import Runtime
from desktop.dialogs.alarm_dialogs import RuleEditDialog
from desktop.models.record_table_model import RecordTableModel
from desktop.tasks import UiTasks, run_dialog
from desktop.theme import Abnormal, abnormal, qcolor
from desktop.widgets.message_area import MessageArea
from desktop.widgets.record_table import record_table

PRIORITY_COLOUR = {"critical": Abnormal.CRITICAL, "warning": Abnormal.WARNING, "info": Abnormal.INFO}


def _num(value: object, suffix: str = "") -> str:
    return "" if value is None else f"{value:g}{suffix}"


class AlarmRulesModel(RecordTableModel[AlarmRule]):
    columns = ("Rule", "Kind", "Threshold", "Deadband", "On-delay", "Priority", "Description")

    def cell(self, rule: AlarmRule, column: int, role: int) -> Any:
        metric = getattr(rule, "metric", None)
        unit = f" {metric.physical_range.unit}" if metric is not None else ""
        if role == Qt.ItemDataRole.DisplayRole:
            kind = getattr(rule, "comparison", None)
            return (
                rule.rule_id.replace("_", " "),
                f"{metric.value} {kind.value}" if metric is not None else type(rule).__name__.replace("Rule", "").lower(),
                _num(getattr(rule, "threshold", None), unit),
                _num(getattr(rule, "deadband", None), unit),
                _num(getattr(rule, "on_delay_s", None), " s"),
                rule.priority.value.capitalize(),
                getattr(rule, "description", ""),
            )[column]
        if column == 5 and role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole):
            colour = abnormal(PRIORITY_COLOUR[rule.priority.value])
            return qcolor(colour.background if role == Qt.ItemDataRole.BackgroundRole else colour.text)
        if role == Qt.ItemDataRole.UserRole:
            return rule.rule_id
        return None


class AlarmRulesPanel(QWidget):
    def __init__(self, runtime: Runtime, principal: Principal, parent: QWidget | None = None) -> None:
        super().__init__(parent)

        self.runtime, self.principal = runtime, principal
        self.tasks = UiTasks(lambda exc: self.message.show_error(f"Unexpected error: {exc}"))
        self.model = AlarmRulesModel(self)
        self.table = record_table(self.model)
        self.table.doubleClicked.connect(lambda _i: self.tasks.start(self.edit_selected()))
        self.edit_button = QPushButton("Edit rule…")
        self.edit_button.clicked.connect(lambda: self.tasks.start(self.edit_selected()))
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.message = MessageArea()
        hint = QLabel("Changes apply at once and are audited with old and new values.")
        hint.setObjectName("muted")
        row = QHBoxLayout()
        row.addWidget(self.edit_button)
        row.addStretch(1)
        row.addWidget(hint)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        self.dialog: RuleEditDialog | None = None
        self.saving: asyncio.Task | None = None  # the last save, awaited by tests and on close
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.edit_button.setEnabled(len(self.table.selectionModel().selectedRows()) == 1)

    async def _ask(self, message: object):
        return await asyncio.wrap_future(self.runtime.submit(message))

    async def refresh(self) -> None:
        try:
            rules = await self._ask(ListAlarmRules(self.principal))
        except Exception as exc:
            self.message.show_error(f"Cannot load the alarm rules: {exc}")
            return
        selected = self.selected_rule_id()
        self.model.set_records(rules)
        if selected:
            self.select_rule(selected)

    def selected_rule_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.record_at(rows[0].row()).rule_id if rows else None

    def select_rule(self, rule_id: str) -> None:
        for row, rule in enumerate(self.model.records()):
            if rule.rule_id == rule_id:
                self.table.selectRow(row)

    async def edit_selected(self) -> bool:
        """Open the editor on the selected rule; True when a change was saved."""
        rows = self.table.selectionModel().selectedRows()
        if len(rows) != 1:
            return False
        dialog = RuleEditDialog(self.model.record_at(rows[0].row()), self)
        self.dialog = dialog
        dialog.save_requested.connect(lambda: setattr(self, "saving", self.tasks.start(self.save(dialog))))
        accepted = await run_dialog(dialog)
        self.dialog = None
        return accepted

    async def save(self, dialog: RuleEditDialog) -> bool:
        changes = dialog.changes()
        if not changes:
            dialog.message.show_info("Nothing changed.")
            return False
        dialog.save_button.setEnabled(False)
        try:
            rule = await self._ask(UpdateAlarmRule(self.principal, dialog.rule.rule_id, **changes))
        except Exception as exc:  # refused with the reason (RuleValidationError, permission)
            dialog.show_refusal(str(exc))
            return False
        finally:
            dialog.save_button.setEnabled(True)
        dialog.accept()
        self.message.show_info(f"Rule {rule.rule_id} saved.")
        await self.refresh()
        return True
