"""The audit trail (brief use case 11): filter by user, action, time range (local time) and resource;
verify the hash chain; export CSV or JSON. Exports are themselves audited by AuditLog.record_export."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from PySide6.QtCore import QDateTime, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QDateTimeEdit, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
    QLineEdit, QTableView, QToolBar, QVBoxLayout, QWidget,
)

from core.audit.trail import AuditEntry, AuditFilter, ChainReport
from core.auth.principal import Principal
from core.auth.roles import Permission
from core.errors import GridRoomError
from core.services import CoreServices
from desktop.actions import ActionRegistry, ActionSpec
from desktop.summary import local_time
from desktop.tasks import UiTasks, call_core, run_dialog
from desktop.theme import Abnormal, abnormal
from desktop.views.audit_model import AuditTableModel
from desktop.widgets.message_area import MessageArea
from reports.audit_export import write_audit_csv, write_audit_json

SHOWN_LIMIT = 5_000  # the table shows the newest entries; exports always hold every matching entry
WRITERS = {"csv": write_audit_csv, "json": write_audit_json}


def _to_qdatetime(at: datetime) -> QDateTime:
    return QDateTime.fromSecsSinceEpoch(int(at.timestamp()))


def _to_utc(value: QDateTime) -> datetime:
    return datetime.fromtimestamp(value.toSecsSinceEpoch(), tz=timezone.utc)


class AuditView(QWidget):
    def __init__(self, services: CoreServices, principal: Principal, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._principal = principal
        self.tasks = UiTasks(lambda exc: self.message.show_error(f"Unexpected error: {exc}"))
        self.model = AuditTableModel(self)

        self.user_filter = QComboBox()
        self.user_filter.addItem("All users", None)
        self.action_filter = QComboBox()
        self.action_filter.addItem("All actions", None)
        self.result_filter = QComboBox()
        for label, value in (("Any result", None), ("success", "success"), ("failure", "failure"), ("denied", "denied")):
            self.result_filter.addItem(label, value)
        now = _to_qdatetime(services.clock.now())
        self.since_enabled = QCheckBox("From")
        self.since_edit = self._time_edit(now.addDays(-1))
        self.until_enabled = QCheckBox("Until")
        self.until_edit = self._time_edit(now.addSecs(3600))
        self.resource_filter = QLineEdit()
        self.resource_filter.setPlaceholderText("Resource contains…")
        self.resource_filter.setClearButtonEnabled(True)
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self.request_refresh)
        self.resource_filter.textChanged.connect(self._debounce.start)
        for combo in (self.user_filter, self.action_filter, self.result_filter):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # choices grow later
            combo.currentIndexChanged.connect(self.request_refresh)
        for box in (self.since_enabled, self.until_enabled):
            box.toggled.connect(self.request_refresh)
        for edit in (self.since_edit, self.until_edit):
            edit.dateTimeChanged.connect(self._debounce.start)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.toolbar = QToolBar("Audit actions")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.message = MessageArea()
        self.chain_label = QLabel("Chain not verified in this session.")
        self.chain_label.setObjectName("muted")
        self.count_label = QLabel()
        self.count_label.setObjectName("muted")

        title = QLabel("Audit trail")
        title.setObjectName("viewTitle")
        filters = QHBoxLayout()
        for widget in (self.user_filter, self.action_filter, self.result_filter):
            filters.addWidget(widget)
        filters.addWidget(self.resource_filter, 1)
        time_range = QHBoxLayout()
        time_range.addWidget(QLabel("Time range (local):"))
        for box, edit in ((self.since_enabled, self.since_edit), (self.until_enabled, self.until_edit)):
            time_range.addSpacing(8)
            time_range.addWidget(box)
            time_range.addWidget(edit)
        time_range.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.toolbar)
        layout.addLayout(filters)
        layout.addLayout(time_range)
        layout.addWidget(self.message)
        layout.addWidget(self.chain_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count_label)

    @staticmethod
    def _time_edit(value: QDateTime) -> QDateTimeEdit:
        edit = QDateTimeEdit(value)
        edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
        edit.setCalendarPopup(True)
        return edit

    # -- actions ----------------------------------------------------------------------------
    def action_specs(self) -> list[ActionSpec]:
        def spec(action_id, title, start, tip):
            return ActionSpec(action_id, title, None, Permission.VIEW_AUDIT, "&Audit", True, start, tip, "audit")
        return [
            spec("audit.refresh", "Refresh", lambda: self.tasks.start(self.refresh()), "Reload the entries"),
            spec("audit.verify", "Verify chain", lambda: self.tasks.start(self.verify()), "Check every hash link of the audit trail"),
            spec("audit.export_csv", "Export CSV…", lambda: self.tasks.start(self.export_interactive("csv")), "Export the filtered entries as CSV"),
            spec("audit.export_json", "Export JSON…", lambda: self.tasks.start(self.export_interactive("json")), "Export the filtered entries as JSON"),
        ]

    def use_actions(self, registry: ActionRegistry) -> None:
        registry.build_toolbar(self.toolbar, "audit")

    # -- reading ------------------------------------------------------------------------------
    def current_filter(self, limit: int | None = SHOWN_LIMIT) -> AuditFilter:
        action = self.action_filter.currentData()
        return AuditFilter(
            username=self.user_filter.currentData(),
            action=action,
            resource=self.resource_filter.text().strip() or None,
            result=self.result_filter.currentData(),
            since=_to_utc(self.since_edit.dateTime()) if self.since_enabled.isChecked() else None,
            until=_to_utc(self.until_edit.dateTime()) if self.until_enabled.isChecked() else None,
            limit=limit,
        )

    def request_refresh(self) -> None:
        self.tasks.start(self.refresh())

    async def refresh(self) -> None:
        try:
            choices = await call_core(self._services.audit_log.filter_choices, self._principal)
            entries = await call_core(self._services.audit_log.query, self._principal, self.current_filter())
        except GridRoomError as exc:
            self.message.show_error(str(exc))
            return
        self._update_choices(choices)
        self.model.set_entries(entries)
        more = " (newest shown; exports include all)" if len(entries) >= SHOWN_LIMIT else ""
        self.count_label.setText(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, newest first{more}")

    def _update_choices(self, choices: dict[str, list[str]]) -> None:
        """New users and actions appear in the filters; the current selection is kept."""
        prefixes = sorted({a.split(".")[0] + ".*" for a in choices["action"] if "." in a})
        for combo, values in ((self.user_filter, choices["username"]), (self.action_filter, prefixes + choices["action"])):
            current = combo.currentData()
            known = [combo.itemData(i) for i in range(1, combo.count())]
            if known == values:
                continue
            combo.blockSignals(True)  # rebuilding the list is not a filter change
            while combo.count() > 1:
                combo.removeItem(1)
            for value in values:
                combo.addItem(value, value)
            combo.setCurrentIndex(max(combo.findData(current), 0) if current else 0)
            combo.blockSignals(False)

    def set_filter_choice(self, combo: QComboBox, value: str) -> None:
        combo.setCurrentIndex(combo.findData(value))

    # -- verify and export ------------------------------------------------------------------------
    async def verify(self) -> ChainReport | None:
        try:
            report = await call_core(self._services.audit_log.verify, self._principal)
        except GridRoomError as exc:
            self.message.show_error(str(exc))
            return None
        when = local_time(self._services.clock.now(), "%H:%M:%S")
        if report.intact:
            self.chain_label.setText(f"Chain intact: {report.rows_checked} entries checked at {when}.")
            self.chain_label.setStyleSheet("")
        else:
            problems = "; ".join(f"row {p.row_id}: {p.problem}" if p.row_id else p.problem for p in report.problems[:5])
            self.chain_label.setText(f"Chain BROKEN ({len(report.problems)} problems, checked at {when}): {problems}")
            colour = abnormal(Abnormal.CRITICAL)
            self.chain_label.setStyleSheet(f"background: {colour.background}; color: {colour.text}; padding: 4px 8px;")
        await self.refresh()  # the verification itself is audited
        return report

    async def export(self, path: str | Path, fmt: str) -> int | None:
        """Write every entry matching the filters (not just those shown) and audit the export."""
        flt = self.current_filter(limit=None)
        try:
            entries: list[AuditEntry] = await call_core(self._services.audit_log.query, self._principal, flt)
            rows = await call_core(WRITERS[fmt], entries, path)
            await call_core(self._services.audit_log.record_export, self._principal, flt, fmt, rows, str(path))
        except (GridRoomError, OSError) as exc:
            self.message.show_error(f"Export failed: {exc}")
            return None
        self.message.show_info(f"Exported {rows} entries to {path}")
        await self.refresh()
        return rows

    async def export_interactive(self, fmt: str) -> None:
        dialog = QFileDialog(self, f"Export audit trail as {fmt.upper()}")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter(f"{fmt.upper()} files (*.{fmt})")
        dialog.setDefaultSuffix(fmt)
        stamp = local_time(self._services.clock.now(), "%Y%m%d-%H%M")
        dialog.selectFile(f"gridroom-audit-{stamp}.{fmt}")
        if await run_dialog(dialog) and dialog.selectedFiles():
            await self.export(dialog.selectedFiles()[0], fmt)
