"""The schedule editor (issue #5): one draft, shown as a table and as a timeline, checked while typing.

The operator picks a device or a group, edits entries (type, drag on the timeline, copy a day, shift by N
hours, import JSON/CSV), compares with the active schedule, saves a draft, approves it and distributes it.
Checks are core's rules run on every change against the target's limits (every member for a group) and
listed next to the table; the service re-checks everything and refuses regardless of what is enabled here.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Awaitable, Callable

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDateEdit, QDoubleSpinBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
    QLineEdit, QListWidget, QListWidgetItem, QPushButton, QSplitter, QStyledItemDelegate, QTableView, QToolBar,
    QVBoxLayout, QWidget,
)

from core.auth.principal import Principal
from core.auth.roles import Permission
from core.errors import GridRoomError
from core.fleet.context import FleetContext
from core.runtime.runtime import Runtime, RuntimeNotRunning
from core.schedules import editing, io
from core.schedules.errors import ScheduleError
from core.schedules.messages import DistributeSchedule
from core.schedules.model import Mode, ScheduleEntry, ScheduleState, ScheduleTarget, TargetKind
from core.schedules.records import InvalidGroupScheduleDraft, InvalidScheduleDraft, ScheduleRecord
from core.schedules.validation import validate
from core.services import CoreServices
from desktop.actions import ActionRegistry, ActionSpec
from desktop.dialogs.device_groups_dialog import DeviceGroupsDialog
from desktop.models.schedule_draft_model import COLUMNS, ScheduleDraftModel
from desktop.tasks import UiTasks, call_core, run_dialog
from desktop.theme import TEXT_MUTED, Abnormal, abnormal
from desktop.views.device_groups_panel import DeviceGroupsPanel
from desktop.views.schedule_targets import ScheduleBackend, TargetChoices
from desktop.widgets.message_area import MessageArea
from desktop.widgets.schedule_timeline import ScheduleTimeline

MENU = "&Schedules"
NEEDS_RECORD = {"schedules.approve": (ScheduleState.DRAFT,),
                "schedules.distribute": (ScheduleState.APPROVED, ScheduleState.FAILED)}


class LiveEditDelegate(QStyledItemDelegate):
    """A line editor that hands every keystroke to the model, so the checks follow the typing."""

    def createEditor(self, parent, option, index):
        editor = QLineEdit(parent)
        editor.textEdited.connect(lambda _text, e=editor: self.commitData.emit(e))
        return editor

    def setEditorData(self, editor, index):
        if not editor.text():  # keep the cursor where it is while the model echoes the text back
            editor.setText(str(index.data(Qt.ItemDataRole.EditRole) or ""))

    def setModelData(self, editor, model, index):
        model.setData(index, editor.text(), Qt.ItemDataRole.EditRole)


class ScheduleEditorView(QWidget):
    def __init__(self, services: CoreServices, runtime: Runtime, principal: Principal,
                 fleet: FleetContext | None = None, backend: ScheduleBackend | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._runtime = runtime
        self._principal = principal
        self.backend = backend or ScheduleBackend(services, fleet)
        self.tasks = UiTasks(lambda exc: self.message.show_error(f"Unexpected error: {exc}"))
        self.registry: ActionRegistry | None = None
        self.choices = TargetChoices((), {})
        self.target: ScheduleTarget | None = None
        self.record: ScheduleRecord | None = None  # the saved version of what is shown, while unedited
        self.active_entries: tuple[ScheduleEntry, ...] = ()
        self.limits: dict = {}
        self.groups_dialog: DeviceGroupsDialog | None = None  # built on first use

        self.model = ScheduleDraftModel(self)
        self.model.validated.connect(self._show_checks)
        self.model.content_changed.connect(self._edited)

        self.kind_box = QComboBox()
        self.kind_box.addItem("Device", TargetKind.DEVICE)
        self.kind_box.addItem("Group", TargetKind.GROUP)
        self.kind_box.currentIndexChanged.connect(lambda _i: self._fill_ids())
        self.id_box = QComboBox()
        self.id_box.setMinimumContentsLength(16)
        self.id_box.currentIndexChanged.connect(lambda _i: self._target_chosen())
        self.members_label = QLabel("")
        self.members_label.setObjectName("muted")
        self.version_label = QLabel("Unsaved draft")
        self.version_label.setObjectName("cardTitle")

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setItemDelegate(LiveEditDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.checks = QListWidget()
        self.checks.setWordWrap(True)
        self.checks.setMinimumWidth(320)
        self.checks.itemActivated.connect(self._select_issue_row)
        self.timeline = ScheduleTimeline(self.model)
        self.differences = QListWidget()
        self.differences.setMaximumHeight(110)
        self.differences.addItem("Compare with the active schedule to list what this draft changes.")
        self.message = MessageArea()

        # Editing tools that need a value (a day, a number of hours, a group) sit next to their button.
        self.copy_from = QDateEdit()
        self.copy_to = QDateEdit()
        for edit in (self.copy_from, self.copy_to):
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setCalendarPopup(True)
        self.copy_button = QPushButton("Copy day")
        self.copy_button.clicked.connect(lambda: self.copy_day(self.copy_from.date().toPython(), self.copy_to.date().toPython()))
        self.shift_hours_box = QDoubleSpinBox()
        self.shift_hours_box.setRange(-168, 168)
        self.shift_hours_box.setDecimals(2)
        self.shift_hours_box.setSingleStep(1)
        self.shift_hours_box.setValue(1.0)
        self.shift_hours_box.setSuffix(" h")
        self.shift_button = QPushButton("Shift")
        self.shift_button.setToolTip("Shift the selected entries (all when none is selected)")
        self.shift_button.clicked.connect(lambda: self.shift(self.shift_hours_box.value()))
        self.group_box = QComboBox()
        self.group_button = QPushButton("Apply to group")
        self.group_button.setToolTip("Make this the schedule of every device in the group, checked on each")
        self.group_button.clicked.connect(lambda: self.tasks.start(self.apply_to_group(self.group_box.currentText())))
        self.toolbar = QToolBar("Schedule actions")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)

        title = QLabel("Schedules")
        title.setObjectName("viewTitle")
        target_row = QHBoxLayout()
        target_row.addWidget(QLabel("Target"))
        target_row.addWidget(self.kind_box)
        target_row.addWidget(self.id_box)
        target_row.addWidget(self.members_label, 1)
        target_row.addWidget(self.version_label)
        tools = QHBoxLayout()
        for widget in (QLabel("Copy"), self.copy_from, QLabel("to"), self.copy_to, self.copy_button, _gap(),
                       QLabel("Shift by"), self.shift_hours_box, self.shift_button, _gap(), self.group_box,
                       self.group_button):
            tools.addWidget(widget)
        tools.addStretch(1)
        checks_panel = QWidget()
        checks_layout = QVBoxLayout(checks_panel)
        checks_layout.setContentsMargins(0, 0, 0, 0)
        checks_title = QLabel("Checks")
        checks_title.setObjectName("cardTitle")
        checks_layout.addWidget(checks_title)
        checks_layout.addWidget(self.checks)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.table)
        top.addWidget(checks_panel)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        differences_title = QLabel("Differences from the active schedule")
        differences_title.setObjectName("cardTitle")
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(target_row)
        layout.addWidget(self.toolbar)
        layout.addLayout(tools)
        layout.addWidget(self.message)
        layout.addWidget(top, 3)
        layout.addWidget(self.timeline, 2)
        layout.addWidget(differences_title)
        layout.addWidget(self.differences)
        self._set_days(self._services.clock.now().date())

    # -- actions (registered by the main window; enablement lives in the registry) -----------------
    def action_specs(self) -> list[ActionSpec]:
        def spec(action_id: str, title: str, permission: Permission | None, work: Callable[[], object], tip: str
                 ) -> ActionSpec:
            return ActionSpec(action_id, title, None, permission, MENU, True, work, tip, "schedules")

        def run(work: Callable[[], Awaitable[object]]) -> Callable[[], object]:
            return lambda: self.tasks.start(work())

        return [
            spec("schedules.add", "Add entry", None, self.add_entry, "Add a one-hour entry after the last one"),
            spec("schedules.remove", "Remove entry", None, self.remove_selected, "Remove the selected entries"),
            spec("schedules.import", "Import…", None, run(self.import_interactive), "Replace the entries from a JSON or CSV file"),
            spec("schedules.export", "Export…", None, run(self.export_interactive), "Write the entries to a JSON or CSV file"),
            spec("schedules.load_active", "Load active", Permission.VIEW_FLEET, run(self.load_active),
                 "Edit a copy of the schedule the target is running now"),
            spec("schedules.compare", "Compare with active", Permission.VIEW_FLEET, run(self.compare_with_active),
                 "Overlay the active schedule and list the differences"),
            spec("schedules.propose", "Save draft", Permission.PROPOSE_SCHEDULE, run(self.propose),
                 "Store these entries as a new draft version (checked again by GridRoom)"),
            spec("schedules.approve", "Approve", Permission.APPROVE_SCHEDULE, run(self.approve),
                 "Approve the saved draft"),
            spec("schedules.distribute", "Distribute", Permission.DISTRIBUTE_SCHEDULE, run(self.distribute),
                 "Send the approved version to every target device"),
            spec("schedules.groups", "Device groups…", Permission.VIEW_FLEET, self.show_groups,
                 "See the device groups schedules can target; operators create and change them here"),
        ]

    def use_actions(self, registry: ActionRegistry) -> None:
        self.registry = registry
        registry.build_toolbar(self.toolbar, "schedules")
        self._update_availability()

    def _update_availability(self, busy: bool = False) -> None:
        if self.registry is None:
            return
        entries = self.model.entries()
        savable = self.target is not None and bool(entries) and not self.model.errors and self.record is None
        state = self.record.state if self.record is not None else None
        self.registry.set_available("schedules.propose", savable and not busy)
        for action_id, states in NEEDS_RECORD.items():
            self.registry.set_available(action_id, state in states and not busy)
        self.registry.set_available("schedules.remove", self.model.rowCount() > 0)
        for action_id in ("schedules.compare", "schedules.load_active"):
            self.registry.set_available(action_id, self.target is not None and not busy)

    # -- targets ---------------------------------------------------------------------------------
    async def refresh(self) -> None:
        """Load the devices and groups to choose from (off the GUI thread).

        The chosen target stays chosen while it exists (a group whose members changed is checked again on its
        new members); a target that is gone (a deleted or renamed group) gives way to the first of its kind."""
        try:
            self.choices = await call_core(self.backend.choices, self._principal)
        except GridRoomError as exc:
            self.message.show_error(f"Targets could not be loaded: {exc}")
            return
        self.group_box.clear()
        self.group_box.addItems(sorted(self.choices.groups))
        self.group_button.setEnabled(bool(self.choices.groups))
        current = self.target
        if current is not None and current.id in self._ids_of(current.kind):
            self._sync_boxes(current)
            if current.kind is TargetKind.GROUP and self.choices.groups[current.id] != tuple(self.limits):
                await self.set_target(current)
            return
        kinds = (current.kind, TargetKind.DEVICE) if current is not None else (TargetKind.DEVICE,)
        fallback = next((ScheduleTarget(kind, ids[0]) for kind in kinds if (ids := self._ids_of(kind))), None)
        if fallback is not None:
            await self.set_target(fallback)
        else:
            self.target = None
            self._fill_ids(choose=False)

    def _ids_of(self, kind: TargetKind) -> tuple[str, ...]:
        return self.choices.devices if kind is TargetKind.DEVICE else tuple(sorted(self.choices.groups))

    def show_groups(self) -> DeviceGroupsDialog:
        """Open (or bring back) the device-groups window; its changes reload the target picker."""
        if self.groups_dialog is None:
            panel = DeviceGroupsPanel(self.backend.groups, self.backend.registry, self._principal,
                                      self._services.authorizer)
            panel.groups_changed.connect(lambda: self.tasks.start(self.refresh()))
            self.groups_dialog = DeviceGroupsDialog(panel, self)
        self.groups_dialog.show()
        self.groups_dialog.raise_()
        self.groups_dialog.panel.tasks.start(self.groups_dialog.panel.refresh())
        return self.groups_dialog

    def _fill_ids(self, choose: bool = True) -> ScheduleTarget | None:
        kind = self.kind_box.currentData()
        ids = self._ids_of(kind)
        self.id_box.blockSignals(True)
        self.id_box.clear()
        self.id_box.addItems(list(ids))
        self.id_box.blockSignals(False)
        if choose:
            self._target_chosen()
        return ScheduleTarget(kind, ids[0]) if ids else None

    def _target_chosen(self) -> None:
        target_id = self.id_box.currentText()
        if target_id:
            self.tasks.start(self.set_target(ScheduleTarget(self.kind_box.currentData(), target_id)))

    async def set_target(self, target: ScheduleTarget) -> None:
        """Check the draft against this device (or every member of this group) from now on."""
        self.target = target
        self._sync_boxes(target)
        try:
            devices = self.choices.groups.get(target.id, ()) if target.kind is TargetKind.GROUP else (target.id,)
            limits = await call_core(self.backend.limits_for, tuple(devices))
        except (GridRoomError, ScheduleError) as exc:
            self.message.show_error(f"Limits of {target} could not be loaded: {exc}")
            limits = {}
        if self.target != target:
            return  # another target was chosen while this one loaded
        self.limits = limits
        self.members_label.setText(f"members: {', '.join(limits) or 'none'}" if target.kind is TargetKind.GROUP else "")
        now = self._services.clock.now
        self.model.validator = lambda entries: {d: validate(entries, lim, now()) for d, lim in self.limits.items()}
        self.record = None
        self.active_entries = ()
        self.timeline.show_active(())
        self.model.revalidate()

    def _sync_boxes(self, target: ScheduleTarget) -> None:
        for box, value in ((self.kind_box, None), (self.id_box, target.id)):
            box.blockSignals(True)
        self.kind_box.setCurrentIndex(0 if target.kind is TargetKind.DEVICE else 1)
        ids = self._ids_of(target.kind)
        self.id_box.clear()
        self.id_box.addItems(list(ids))
        self.id_box.setCurrentText(target.id)
        for box in (self.kind_box, self.id_box):
            box.blockSignals(False)

    async def apply_to_group(self, group_id: str) -> None:
        """Make the draft the schedule of every member of `group_id`; failures are listed per device."""
        if not group_id:
            return
        await self.set_target(ScheduleTarget.group(group_id))
        failing = sorted({i.device_id for i in self.model.errors if i.device_id})
        members = len(self.limits)
        if failing:
            self.message.show_warning(f"Group {group_id}: the draft fails on {', '.join(failing)} "
                                      f"({len(failing)} of {members} devices); see the checks.")
        else:
            self.message.show_info(f"Group {group_id}: the draft passes on all {members} devices.")

    # -- editing ---------------------------------------------------------------------------------
    def add_entry(self) -> None:
        entries = [e for r in range(self.model.rowCount()) if (e := self.model.entry_at(r)) is not None]
        start = max((e.end for e in entries), default=_next_hour(self._services.clock.now()))
        self.model.add_entry(ScheduleEntry(start, start + timedelta(hours=1), Mode.CHARGE, 10.0))

    def remove_selected(self) -> None:
        self.model.remove_rows([i.row() for i in self.table.selectionModel().selectedRows()])

    def copy_day(self, source: date, target: date) -> None:
        entries = self._entries_or_say("copy a day")
        if entries is not None:
            self.model.set_entries(editing.copy_day(entries, source, target))
            self.message.show_info(f"Copied {_count_on(entries, source)} entries of {source} to {target} "
                                   f"(replacing {_count_on(entries, target)}).")

    def shift(self, hours: float) -> None:
        entries = self._entries_or_say("shift")
        if entries is None:
            return
        chosen = sorted(i.row() + 1 for i in self.table.selectionModel().selectedRows()) or None
        self.model.set_entries(editing.shift_hours(entries, hours, only=chosen))
        which = f"{len(chosen)} selected" if chosen else "all"
        self.message.show_info(f"Shifted {which} entries by {hours:+g} h.")

    def _entries_or_say(self, what: str) -> tuple[ScheduleEntry, ...] | None:
        entries = self.model.entries()
        if entries is None:
            self.message.show_error(f"Cannot {what}: fix the cells that are not a time, a mode or a number first.")
        return entries

    def _edited(self) -> None:
        if self.record is not None:  # what is shown is no longer the saved version
            self.record = None
            self.version_label.setText("Unsaved draft (edited)")
        self._update_availability()

    # -- checks ----------------------------------------------------------------------------------
    def _show_checks(self) -> None:
        self.checks.clear()
        for issue in self.model.issues:
            item = QListWidgetItem(str(issue))
            item.setForeground(QColor(abnormal(Abnormal.CRITICAL if issue.error else Abnormal.WARNING).ink))
            item.setData(Qt.ItemDataRole.UserRole, issue.row)
            self.checks.addItem(item)
        if not self.model.issues:
            text = "All checks pass." if self.model.rowCount() else "No entries yet."
            if self.target is None:
                text += " Choose a target to check rates and limits."
            item = QListWidgetItem(text)
            item.setForeground(QColor(TEXT_MUTED))
            self.checks.addItem(item)
        self._update_availability()

    def check_messages(self) -> list[str]:
        return [self.checks.item(i).text() for i in range(self.checks.count())]

    def _select_issue_row(self, item: QListWidgetItem) -> None:
        row = item.data(Qt.ItemDataRole.UserRole)
        if row:
            self.table.selectRow(row - 1)

    # -- files -----------------------------------------------------------------------------------
    async def import_file(self, path: Path) -> bool:
        """Replace the entries from a JSON or CSV file; a bad file changes nothing and every problem is listed."""
        try:
            text = await call_core(Path(path).read_text, encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            self.message.show_error(f"Import of {Path(path).name} failed: {exc}")
            return False
        result = io.parse_json(text) if Path(path).suffix.lower() == ".json" else io.parse_csv(text)
        if not result.ok:
            problems = [str(p) for p in result.problems]
            self.message.show_error(f"Import of {Path(path).name} refused, nothing changed "
                                    f"({len(problems)} problem(s)):\n" + "\n".join(problems[:8]))
            self.checks.clear()
            for problem in problems:
                item = QListWidgetItem(f"{Path(path).name}: {problem}")
                item.setForeground(QColor(abnormal(Abnormal.CRITICAL).ink))
                self.checks.addItem(item)
            return False
        self.model.set_entries(result.entries)
        self.message.show_info(f"Imported {len(result.entries)} entries from {Path(path).name}.")
        return True

    async def export_file(self, path: Path) -> bool:
        entries = self._entries_or_say("export")
        if entries is None:
            return False
        try:
            text = io.to_json(entries) if Path(path).suffix.lower() == ".json" else io.to_csv(entries)
            await call_core(Path(path).write_text, text, encoding="utf-8")
        except (OSError, ScheduleError) as exc:
            self.message.show_error(f"Export to {Path(path).name} failed: {exc}")
            return False
        self.message.show_info(f"Exported {len(entries)} entries to {path}.")
        return True

    async def import_interactive(self) -> None:
        path = await self._ask_path(QFileDialog.AcceptMode.AcceptOpen)
        if path:
            await self.import_file(Path(path))

    async def export_interactive(self) -> None:
        path = await self._ask_path(QFileDialog.AcceptMode.AcceptSave)
        if path:
            await self.export_file(Path(path))

    async def _ask_path(self, mode: QFileDialog.AcceptMode) -> str:
        dialog = QFileDialog(self, "Schedule file", "", "Schedules (*.csv *.json);;CSV (*.csv);;JSON (*.json)")
        dialog.setAcceptMode(mode)
        dialog.setDefaultSuffix("csv")
        if not await run_dialog(dialog):
            return ""
        return dialog.selectedFiles()[0] if dialog.selectedFiles() else ""

    # -- the active schedule -----------------------------------------------------------------------
    async def _active(self) -> ScheduleRecord | None:
        if self.target is None:
            return None
        device_ids = tuple(self.limits) or ((self.target.id,) if self.target.kind is TargetKind.DEVICE else ())
        if not device_ids:
            return None
        # A group's members run the same version when it was sent to the group: the first one stands for all.
        return await call_core(self.backend.schedules.active_schedule, device_ids[0])

    async def load_active(self) -> None:
        active = await self._active()
        if active is None:
            self.message.show_info(f"{self.target} has no active schedule.")
            return
        self.model.set_entries(active.entries)
        self.message.show_info(f"Loaded version {active.version} ({active.state}) of {self.target} to edit.")

    async def compare_with_active(self) -> None:
        """Overlay the active schedule on the timeline and list what the draft adds, removes and changes."""
        active = await self._active()
        self.active_entries = active.entries if active is not None else ()
        self.timeline.show_active(self.active_entries)
        self.differences.clear()
        entries = self.model.entries()
        if entries is None:
            self.differences.addItem("Fix the cells that do not parse to compare.")
            return
        if active is None:
            self.differences.addItem(f"{self.target} has no active schedule: every entry is new.")
        diff = editing.compare(self.active_entries, entries)
        for entry in diff.added:
            self.differences.addItem(f"+ added   {_describe(entry)}")
        for entry in diff.removed:
            self.differences.addItem(f"− removed {_describe(entry)}")
        for change in diff.changed:
            fields = ", ".join(f"{f} {_field(change.before, f)} → {_field(change.after, f)}" for f in change.fields)
            self.differences.addItem(f"~ changed {_describe(change.before)}: {fields}")
        if active is not None and diff.is_empty:
            self.differences.addItem(f"No differences from active version {active.version}.")

    # -- lifecycle -------------------------------------------------------------------------------
    async def propose(self) -> None:
        entries = self.model.entries()
        if self.target is None or entries is None:
            return
        self._update_availability(busy=True)
        try:
            record = await call_core(self.backend.schedules.create_draft, self._principal, self.target, entries)
        except InvalidGroupScheduleDraft as exc:
            self.message.show_error(f"Not saved: fails on {', '.join(exc.failing_devices)}.\n{exc}")
        except (InvalidScheduleDraft, GridRoomError, ScheduleError) as exc:
            self.message.show_error(f"Not saved: {exc}")
        else:
            self._show_record(record, f"Saved draft version {record.version} of {self.target}.")
        self._update_availability()

    async def approve(self) -> None:
        if self.record is None:
            return
        self._update_availability(busy=True)
        try:
            record = await call_core(self.backend.schedules.approve, self._principal, self.record.id)
        except (GridRoomError, ScheduleError) as exc:
            self.message.show_error(f"Not approved: {exc}")
        else:
            self._show_record(record, f"Approved version {record.version} of {self.target}.")
        self._update_availability()

    async def distribute(self) -> None:
        if self.record is None:
            return
        self._update_availability(busy=True)
        try:
            record = await asyncio.wrap_future(self._runtime.submit(DistributeSchedule(self._principal, self.record.id)))
            deliveries = await call_core(self.backend.schedules.deliveries, record.id)
        except (GridRoomError, ScheduleError, RuntimeNotRunning) as exc:
            self.message.show_error(f"Not distributed: {exc}")
        else:
            failed = [f"{d.device_id} ({d.error})" for d in deliveries if d.state.value == "failed"]
            text = f"Version {record.version} of {self.target} is {record.state}: sent to " \
                   f"{len(deliveries) - len(failed)} of {len(deliveries)} device(s)."
            self._show_record(record, text + (f" Failed: {', '.join(failed)}." if failed else ""), warn=bool(failed))
        self._update_availability()

    def _show_record(self, record: ScheduleRecord, text: str, warn: bool = False) -> None:
        self.record = record
        self.version_label.setText(f"Version {record.version} · {record.state}")
        (self.message.show_warning if warn else self.message.show_info)(text)

    def _set_days(self, today: date) -> None:
        self.copy_from.setDate(QDate(today.year, today.month, today.day))
        tomorrow = today + timedelta(days=1)
        self.copy_to.setDate(QDate(tomorrow.year, tomorrow.month, tomorrow.day))


def _gap() -> QWidget:
    gap = QWidget()
    gap.setFixedWidth(16)
    return gap


def _next_hour(now: datetime) -> datetime:
    return now.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def _count_on(entries, day: date) -> int:
    start, end = editing.day_bounds(day)
    return sum(1 for e in entries if start <= e.start < end)


def _describe(entry: ScheduleEntry) -> str:
    mode = Mode(entry.mode) if entry.mode in (1, 2) else entry.mode
    return f"{entry.start:%Y-%m-%d %H:%M}–{entry.end:%H:%M} UTC {mode} {entry.rate_kw:g} kW"


def _field(entry: ScheduleEntry, name: str) -> str:
    value = getattr(entry, name)
    if name == "end":
        return f"{value:%H:%M}"
    if name == "rate_kw":
        return f"{value:g} kW"
    return str(Mode(value)) if value in (1, 2) else str(value)


__all__ = ["COLUMNS", "ScheduleEditorView"]
