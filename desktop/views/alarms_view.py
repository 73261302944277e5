"""The alarm view: the active list (priority, then newest first) with filters, acknowledge many, shelve,
comment, unshelve, out of service / return to service for a device; the searchable history of every
transition; the EEMUA 191 alarm load; the notification delivery log; and, for admins, the rule editor. All actions go through the runtime to
AlarmService, which checks permission and audits; the view only shows the outcome.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Callable, Sequence

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QTabWidget, QVBoxLayout, QWidget,
)

from core.alarms.messages import (
    AcknowledgeAlarms, AlarmTransitionsPublished, CommentAlarm, ListActiveAlarms, QueryAlarmHistory,
    ReturnAlarmsToService, SetAlarmsOutOfService, ShelveAlarm, UnshelveAlarm,
)
from core.alarms.states import AlarmState
from core.alarms.priorities import Priority
from core.alarms.sql_store import AlarmHistoryFilter
from core.alarms.transitions import ActiveAlarm
from core.auth.principal import Principal
from core.runtime.runtime import Runtime
from core.notifications.runtime_messages import NotificationFailurePublished
from desktop.dialogs.alarm_dialogs import CommentDialog, OutOfServiceDialog, ShelveDialog
from desktop.tasks import UiTasks, run_dialog
from desktop.views.alarms_model import UNACKED, AlarmHistoryModel, AlarmListFilter, AlarmsTableModel, device_of
from desktop.widgets.message_area import MessageArea
from desktop.widgets.record_table import record_table

TIME_RANGES = (("Any time", None), ("Last hour", 1), ("Last 24 h", 24), ("Last 7 days", 24 * 7))


class AlarmsView(QWidget):
    """Alarm list and history. `can_act` comes from the HANDLE_ALARMS permission (core checks it again)."""

    unacked_critical_changed = Signal(int)

    def __init__(self, runtime: Runtime, principal: Principal, can_act: bool,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 parent: QWidget | None = None, *, can_edit_rules: bool = False) -> None:
        super().__init__(parent)
        from desktop.views.alarm_load_panel import AlarmLoadPanel
        from desktop.views.alarm_rules_panel import AlarmRulesPanel
        from desktop.views.notification_log_panel import NotificationLogPanel

        self.runtime = runtime
        self.principal = principal
        self.can_act = can_act
        self.now = now
        self.tasks = UiTasks(lambda exc: self.message.show_error(f"Unexpected error: {exc}"))
        self.model = AlarmsTableModel(self)
        self.history_model = AlarmHistoryModel(self)
        self._all: list[ActiveAlarm] = []
        self._refresh_soon = QTimer(self, singleShot=True, interval=200)
        self._refresh_soon.timeout.connect(lambda: self.tasks.start(self.refresh()))

        self.priority_filter = QComboBox()
        self.priority_filter.addItem("All priorities", None)
        for p in Priority:
            self.priority_filter.addItem(p.value.capitalize(), p.value)
        self.device_filter = QLineEdit()
        self.device_filter.setPlaceholderText("Device or source")
        self.device_filter.setClearButtonEnabled(True)
        self.type_filter = QComboBox()
        self.type_filter.addItem("All alarm types", None)
        self.time_filter = QComboBox()
        for label, hours in TIME_RANGES:
            self.time_filter.addItem(label, hours)
        for combo in (self.priority_filter, self.type_filter, self.time_filter):
            combo.currentIndexChanged.connect(self.apply_filter)
        self.device_filter.textChanged.connect(self.apply_filter)

        self.ack_button = QPushButton("Acknowledge selected")
        self.shelve_button = QPushButton("Shelve…")
        self.comment_button = QPushButton("Comment…")
        self.unshelve_button = QPushButton("Unshelve")
        self.out_of_service_button = QPushButton("Out of service…")
        self.return_button = QPushButton("Return to service")
        self.unshelve_button.clicked.connect(lambda: self.tasks.start(self.unshelve_selected()))
        self.out_of_service_button.clicked.connect(lambda: self.tasks.start(self.out_of_service_interactive()))
        self.return_button.clicked.connect(lambda: self.tasks.start(self.return_selected_to_service()))
        self.ack_button.clicked.connect(lambda: self.tasks.start(self.acknowledge_selected()))
        self.shelve_button.clicked.connect(lambda: self.tasks.start(self.shelve_interactive()))
        self.comment_button.clicked.connect(lambda: self.tasks.start(self.comment_interactive()))
        self.table = record_table(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.count_label = QLabel()
        self.count_label.setObjectName("muted")
        self.message = MessageArea()

        filters = QHBoxLayout()
        for w in (self.priority_filter, self.type_filter, self.time_filter):
            filters.addWidget(w)
        filters.addWidget(self.device_filter, 1)
        buttons = QHBoxLayout()
        for b in self._action_buttons():
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.count_label)
        active = QWidget()
        active_layout = QVBoxLayout(active)
        active_layout.addLayout(filters)
        active_layout.addLayout(buttons)
        active_layout.addWidget(self.table, 1)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search alarm, source, user or comment")
        self.search.setClearButtonEnabled(True)
        self.search.returnPressed.connect(lambda: self.tasks.start(self.load_history()))
        search_button = QPushButton("Search")
        search_button.clicked.connect(lambda: self.tasks.start(self.load_history()))
        self.history_table = record_table(self.history_model)
        history = QWidget()
        history_layout = QVBoxLayout(history)
        search_row = QHBoxLayout()
        search_row.addWidget(self.search, 1)
        search_row.addWidget(search_button)
        history_layout.addLayout(search_row)
        history_layout.addWidget(self.history_table, 1)

        self.tabs = QTabWidget()
        self.tabs.addTab(active, "Active")
        self.tabs.addTab(history, "History")
        self.load_panel = AlarmLoadPanel(runtime, principal, now)
        self.notifications_panel = NotificationLogPanel(runtime, principal)
        self.rules_panel = AlarmRulesPanel(runtime, principal) if can_edit_rules else None
        self.tabs.addTab(self.load_panel, "Alarm load")
        self.tabs.addTab(self.notifications_panel, "Notifications")
        if self.rules_panel is not None:
            self.tabs.addTab(self.rules_panel, "Rules")
        self.tabs.currentChanged.connect(self._tab_opened)
        title = QLabel("Alarms")
        title.setObjectName("viewTitle")
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.message)
        layout.addWidget(self.tabs, 1)
        self._update_buttons()

    def _action_buttons(self) -> tuple[QPushButton, ...]:
        return (self.ack_button, self.shelve_button, self.unshelve_button, self.comment_button,
                self.out_of_service_button, self.return_button)

    def _tab_opened(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if index == 1:
            self.tasks.start(self.load_history())
        elif widget is not None and hasattr(widget, "refresh") and widget is not self.tabs.widget(0):
            self.tasks.start(widget.refresh())

    def show_tab(self, widget: QWidget) -> None:
        """Bring one of the alarm tabs forward (it loads when opened)."""
        self.tabs.setCurrentWidget(widget)

    # -- reading ---------------------------------------------------------------------------------
    def current_filter(self) -> AlarmListFilter:
        hours = self.time_filter.currentData()
        priority = self.priority_filter.currentData()
        return AlarmListFilter(
            priority=Priority(priority) if priority else None,
            device=self.device_filter.text().strip(),
            rule_id=self.type_filter.currentData(),
            since=self.now() - timedelta(hours=hours) if hours else None,
        )

    async def _ask(self, message: object):
        return await asyncio.wrap_future(self.runtime.submit(message))

    async def refresh(self) -> None:
        try:
            alarms = await self._ask(ListActiveAlarms(self.principal, include_suppressed=True))
        except Exception as exc:  # runtime not running, permission: say so, keep the last list
            self.message.show_error(f"Cannot load alarms: {exc}")
            return
        self.set_alarms(alarms)

    def set_alarms(self, alarms: Sequence[ActiveAlarm]) -> None:
        self._all = list(alarms)
        rule_ids = sorted({a.rule_id for a in self._all} | {self.type_filter.itemData(i)
                          for i in range(1, self.type_filter.count())})
        if rule_ids != [self.type_filter.itemData(i) for i in range(1, self.type_filter.count())]:
            current = self.type_filter.currentData()
            self.type_filter.blockSignals(True)
            while self.type_filter.count() > 1:
                self.type_filter.removeItem(1)
            for rule_id in rule_ids:
                self.type_filter.addItem(rule_id.replace("_", " "), rule_id)
            self.type_filter.setCurrentIndex(max(0, self.type_filter.findData(current)))
            self.type_filter.blockSignals(False)
        self.apply_filter()
        self.unacked_critical_changed.emit(sum(
            1 for a in self._all if a.priority is Priority.CRITICAL and a.state in UNACKED))

    def apply_filter(self) -> None:
        selected = set(self.selected_ids())
        flt = self.current_filter()
        shown = [a for a in self._all if flt.accepts(a)]
        self.model.set_alarms(shown)
        for row, alarm_id in enumerate(self.model.alarm_ids()):
            if alarm_id in selected:
                self.table.selectionModel().select(
                    self.model.index(row, 0),
                    self.table.selectionModel().SelectionFlag.Select | self.table.selectionModel().SelectionFlag.Rows)
        unacked = sum(1 for a in shown if a.state in UNACKED)
        self.count_label.setText(f"{len(shown)} of {len(self._all)} alarms shown · {unacked} unacknowledged")
        self._update_buttons()

    def selected_ids(self) -> list[str]:
        return [self.model.alarm_at(i.row()).alarm_id for i in self.table.selectionModel().selectedRows()]

    def select_ids(self, alarm_ids: Sequence[str]) -> None:
        self.table.clearSelection()
        flags = self.table.selectionModel().SelectionFlag
        for row, alarm_id in enumerate(self.model.alarm_ids()):
            if alarm_id in alarm_ids:
                self.table.selectionModel().select(self.model.index(row, 0), flags.Select | flags.Rows)

    async def load_history(self) -> None:
        flt = AlarmHistoryFilter(text=self.search.text().strip() or None, limit=2000)
        try:
            rows = await self._ask(QueryAlarmHistory(self.principal, flt))
        except Exception as exc:
            self.message.show_error(f"Cannot load the alarm history: {exc}")
            return
        self.history_model.set_transitions(rows)

    def on_alarm_transitions(self, events: Sequence[AlarmTransitionsPublished]) -> None:
        """Pump subscriber: new transitions arrived; reload the list once the burst settles."""
        if events:
            self.unacked_critical_changed.emit(events[-1].unacked_critical_count)
            self._refresh_soon.start()

    def on_notification_failures(self, events: Sequence[NotificationFailurePublished]) -> None:
        """Pump subscriber: a notification was given up on; the Notifications tab says which and why."""
        self.notifications_panel.on_notification_failures(events)
        if events:
            self.message.show_warning(f"{len(events)} alarm notification(s) could not be delivered: "
                                      "see the Notifications tab.")

    # -- acting ----------------------------------------------------------------------------------
    def selected_alarms(self) -> list[ActiveAlarm]:
        return [self.model.alarm_at(i.row()) for i in self.table.selectionModel().selectedRows()]

    def _update_buttons(self) -> None:
        selected = self.selected_alarms()
        n = len(selected)
        one = selected[0] if n == 1 else None
        self.ack_button.setEnabled(self.can_act and n > 0)
        self.shelve_button.setEnabled(self.can_act and one is not None and one.state is not AlarmState.SHELVED
                                      and one.state is not AlarmState.OUT_OF_SERVICE)
        self.unshelve_button.setEnabled(self.can_act and one is not None and one.state is AlarmState.SHELVED)
        self.comment_button.setEnabled(self.can_act and n == 1)
        self.out_of_service_button.setEnabled(self.can_act)
        self.return_button.setEnabled(self.can_act and one is not None
                                      and one.state is AlarmState.OUT_OF_SERVICE)
        for b in self._action_buttons():
            b.setVisible(self.can_act)

    async def _act(self, message: object, done: str) -> bool:
        self.ack_button.setEnabled(False)
        try:
            await self._ask(message)
        except Exception as exc:  # refused (permission, illegal transition, bad input): say why
            self.message.show_error(str(exc))
            return False
        finally:
            self._update_buttons()
        self.message.show_info(done)
        await self.refresh()
        return True

    async def acknowledge_selected(self) -> bool:
        ids = tuple(self.selected_ids())
        if not ids:
            return False
        return await self._act(AcknowledgeAlarms(self.principal, ids), f"Acknowledged {len(ids)} alarm(s).")

    async def shelve(self, alarm_id: str, reason: str, until: datetime) -> bool:
        return await self._act(ShelveAlarm(self.principal, alarm_id, reason, until), f"Shelved {alarm_id}.")

    async def comment(self, alarm_id: str, text: str) -> bool:
        return await self._act(CommentAlarm(self.principal, alarm_id, text), f"Comment added to {alarm_id}.")

    async def unshelve_selected(self) -> bool:
        alarms = self.selected_alarms()
        if len(alarms) != 1:
            return False
        return await self._act(UnshelveAlarm(self.principal, alarms[0].alarm_id), f"Unshelved {alarms[0].alarm_id}.")

    async def set_out_of_service(self, device_id: str, reason: str) -> bool:
        return await self._act(SetAlarmsOutOfService(self.principal, device_id, reason),
                               f"Alarms of {device_id} are out of service.")

    async def return_to_service(self, device_id: str) -> bool:
        return await self._act(ReturnAlarmsToService(self.principal, device_id),
                               f"Alarms of {device_id} are back in service.")

    async def return_selected_to_service(self) -> bool:
        alarms = self.selected_alarms()
        if len(alarms) != 1:
            return False
        return await self.return_to_service(device_of(alarms[0].source_id))

    async def out_of_service_interactive(self) -> None:
        alarms = self.selected_alarms()
        dialog = OutOfServiceDialog(device_of(alarms[0].source_id) if alarms else "", self)
        self.out_of_service_dialog = dialog
        if await run_dialog(dialog):
            device_id, reason = dialog.values()
            await self.set_out_of_service(device_id, reason)

    async def shelve_interactive(self) -> None:
        ids = self.selected_ids()
        if len(ids) != 1:
            return
        dialog = ShelveDialog(ids[0], self)
        if await run_dialog(dialog):
            reason, until = dialog.values(self.now())
            await self.shelve(ids[0], reason, until)

    async def comment_interactive(self) -> None:
        ids = self.selected_ids()
        if len(ids) != 1:
            return
        dialog = CommentDialog(ids[0], self)
        if await run_dialog(dialog):
            await self.comment(ids[0], dialog.value())
