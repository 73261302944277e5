"""Device groups (issue #5): the groups a schedule can target, their members, and the fleet to pick them from.

Operators and admins create, rename and delete groups and move devices in and out (several at once); everyone
who may view the fleet sees them. Core's DeviceGroupService checks the permission, audits and refuses what
must not happen (a taken name, a group a live schedule targets); this panel asks, calls and shows the outcome.
`groups_changed` tells the schedule editor to reload its target picker.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListWidget, QListWidgetItem, QSplitter,
    QTableView, QToolBar, QToolButton, QVBoxLayout, QWidget,
)

from core.auth.authorizer import Authorizer
from core.auth.principal import Principal
from core.auth.roles import Permission
from core.devices import DeviceInfo, DeviceRegistry
from core.errors import GridRoomError
from core.groups import DeviceGroup, DeviceGroupService
from desktop.actions import ActionRegistry, ActionSpec
from desktop.dialogs.group_dialogs import ConfirmDeleteGroupDialog, RenameGroupDialog
from desktop.models.record_table_model import RecordTableModel
from desktop.tasks import UiTasks, call_core, run_dialog
from desktop.widgets.message_area import MessageArea

CHANGES = ("groups.create", "groups.add_members", "groups.remove_members", "groups.rename", "groups.delete")


class DeviceGroupsModel(RecordTableModel[DeviceGroup]):
    columns = ("Group", "Devices", "Description")

    def cell(self, record: DeviceGroup, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return (record.group_id, str(len(record.members)), record.description)[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return ", ".join(record.members) or "no members"
        return None

    def row_of(self, group_id: str) -> int:
        return next((i for i, g in enumerate(self.records()) if g.group_id == group_id), -1)


class DeviceGroupsPanel(QWidget):
    groups_changed = Signal()

    def __init__(self, groups: DeviceGroupService, devices: DeviceRegistry, principal: Principal,
                 authorizer: Authorizer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._groups = groups
        self._devices = devices
        self._principal = principal
        self.tasks = UiTasks(lambda exc: self.message.show_error(f"Unexpected error: {exc}"))
        self.model = DeviceGroupsModel(self)
        self.fleet_devices: list[DeviceInfo] = []

        self.new_id = QLineEdit()
        self.new_id.setObjectName("newGroupId")
        self.new_id.setPlaceholderText("New group ID, e.g. north-sea")
        self.new_id.textChanged.connect(lambda _text: self._update_availability())
        self.new_description = QLineEdit()
        self.new_description.setObjectName("newGroupDescription")
        self.new_description.setPlaceholderText("Description (optional)")
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._show_selected())
        self.members = QListWidget()
        self.members.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.members.itemSelectionChanged.connect(self._update_availability)
        self.fleet = QListWidget()
        self.fleet.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.fleet.itemSelectionChanged.connect(self._update_availability)
        self.members_title = QLabel("Members")
        self.members_title.setObjectName("cardTitle")
        self.message = MessageArea()
        self.read_only_note = QLabel("Read-only: your role may see device groups but not change them.")
        self.read_only_note.setObjectName("muted")
        self.toolbar = QToolBar("Group actions")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)

        # Enablement by role lives in one registry (CRAFT.md 11), here the panel's own: it opens after the
        # main window built its menus. Core refuses regardless of what is enabled.
        self.registry = ActionRegistry(self)
        self.registry.add_all(self.action_specs())
        self.registry.build_toolbar(self.toolbar, "groups")
        self.registry.apply_permissions(principal, authorizer)
        may_change = self.registry.permitted("groups.create")
        self.new_id.setEnabled(may_change)
        self.new_description.setEnabled(may_change)
        self.read_only_note.setVisible(not may_change)
        self.create_button = self._button("groups.create")
        self.add_button = self._button("groups.add_members")
        self.remove_button = self._button("groups.remove_members")

        title = QLabel("Device groups")
        title.setObjectName("viewTitle")
        create_row = QHBoxLayout()
        create_row.addWidget(self.new_id, 1)
        create_row.addWidget(self.new_description, 2)
        create_row.addWidget(self.create_button)
        groups_title = QLabel("Groups")
        groups_title.setObjectName("cardTitle")
        groups_box = self._column(groups_title, self.table)
        members_box = self._column(self.members_title, self.members, self.remove_button)
        fleet_title = QLabel("Fleet devices (select several to create a group or add them)")
        fleet_title.setObjectName("cardTitle")
        fleet_title.setWordWrap(True)
        fleet_box = self._column(fleet_title, self.fleet, self.add_button)
        split = QSplitter(Qt.Orientation.Horizontal)
        for box in (groups_box, members_box, fleet_box):
            split.addWidget(box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setStretchFactor(2, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.read_only_note)
        layout.addLayout(create_row)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.message)
        layout.addWidget(split, 1)
        self._update_availability()

    def action_specs(self) -> list[ActionSpec]:
        def spec(action_id: str, title: str, permission: Permission | None, work: Callable[[], Awaitable[object]],
                 tip: str, toolbar: bool = True) -> ActionSpec:
            return ActionSpec(action_id, title, None, permission, None, toolbar, lambda: self.tasks.start(work()),
                              tip, "groups")

        change = Permission.EDIT_SCHEDULE  # the people who schedule manage the groups schedules target
        return [
            spec("groups.create", "Create group", change, self.create_from_form,
                 "Create the group named above with the fleet devices selected on the right", toolbar=False),
            spec("groups.rename", "Rename…", change, self.rename_interactive, "Give the selected group a new ID"),
            spec("groups.delete", "Delete…", change, self.delete_interactive,
                 "Delete the selected group (its devices stay registered)"),
            spec("groups.refresh", "Refresh", None, self.refresh, "Reload the groups and the fleet"),
            spec("groups.add_members", "Add to group ←", change, self.add_selected,
                 "Add the selected fleet devices to the selected group", toolbar=False),
            spec("groups.remove_members", "Remove from group", change, self.remove_selected,
                 "Remove the selected members from the group", toolbar=False),
        ]

    def _button(self, action_id: str) -> QToolButton:
        button = QToolButton()
        button.setDefaultAction(self.registry.action(action_id))
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        return button

    @staticmethod
    def _column(*widgets: QWidget) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        for widget in widgets:
            column.addWidget(widget, 1 if isinstance(widget, (QTableView, QListWidget)) else 0)
        return box

    # -- reading ---------------------------------------------------------------------------------
    async def refresh(self) -> None:
        """Reload the groups and the fleet's devices (off the GUI thread), keeping the selected group."""
        selected = self.selected_group_id()
        try:
            groups = await call_core(self._groups.list, self._principal)
            devices = await call_core(self._devices.list, self._principal, include_decommissioned=False)
        except GridRoomError as exc:
            self.message.show_error(f"Device groups could not be loaded: {exc}")
            return
        self.fleet_devices = devices
        self.model.set_records(groups)
        if selected and self.model.row_of(selected) >= 0:
            self.select(selected)
        self._show_selected()

    def selected_group(self) -> DeviceGroup | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.record_at(rows[0].row()) if rows else None

    def selected_group_id(self) -> str:
        group = self.selected_group()
        return group.group_id if group is not None else ""

    def select(self, group_id: str) -> None:
        row = self.model.row_of(group_id)
        if row >= 0:
            self.table.selectRow(row)

    def member_ids(self) -> list[str]:
        return [self.members.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.members.count())]

    def selected_members(self) -> list[str]:
        return [item.data(Qt.ItemDataRole.UserRole) for item in self.members.selectedItems()]

    def selected_fleet_devices(self) -> list[str]:
        return [item.data(Qt.ItemDataRole.UserRole) for item in self.fleet.selectedItems()]

    def fleet_item(self, device_id: str) -> QListWidgetItem | None:
        return next((self.fleet.item(i) for i in range(self.fleet.count())
                     if self.fleet.item(i).data(Qt.ItemDataRole.UserRole) == device_id), None)

    def member_item(self, device_id: str) -> QListWidgetItem | None:
        return next((self.members.item(i) for i in range(self.members.count())
                     if self.members.item(i).data(Qt.ItemDataRole.UserRole) == device_id), None)

    def _show_selected(self) -> None:
        """The selected group's members; the fleet list greys out the devices already in it."""
        group = self.selected_group()
        members = set(group.members) if group is not None else set()
        chosen = set(self.selected_fleet_devices())
        self.members_title.setText(f"Members of {group.group_id}" if group is not None else "Members (select a group)")
        self.members.clear()
        for device_id in group.members if group is not None else ():
            item = QListWidgetItem(device_id)
            item.setData(Qt.ItemDataRole.UserRole, device_id)
            self.members.addItem(item)
        self.fleet.clear()
        for device in self.fleet_devices:
            item = QListWidgetItem(f"{device.device_id} — {device.spec.name} ({device.site_name})")
            item.setData(Qt.ItemDataRole.UserRole, device.device_id)
            if device.device_id in members:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable & ~Qt.ItemFlag.ItemIsEnabled)
                item.setToolTip(f"already in {group.group_id}")
            self.fleet.addItem(item)
            item.setSelected(device.device_id in chosen and device.device_id not in members)
        self._update_availability()

    def _update_availability(self) -> None:
        group = self.selected_group() is not None
        fleet_chosen = bool(self.fleet.selectedItems())
        self.registry.set_available("groups.create", bool(self.new_id.text().strip()))
        self.registry.set_available("groups.add_members", group and fleet_chosen)
        self.registry.set_available("groups.remove_members", group and bool(self.members.selectedItems()))
        self.registry.set_available("groups.rename", group)
        self.registry.set_available("groups.delete", group)

    # -- changing (each one call into core, which checks permission and audits) -------------------
    async def _change(self, fn: Callable[..., DeviceGroup], *args: object) -> DeviceGroup | None:
        self.toolbar.setEnabled(False)
        try:
            return await call_core(fn, self._principal, *args)
        except GridRoomError as exc:
            self.message.show_error(str(exc))
            return None
        finally:
            self.toolbar.setEnabled(True)

    async def _changed(self, text: str, select: str | None) -> None:
        self.message.show_info(text)
        await self.refresh()
        if select:
            self.select(select)
        self.groups_changed.emit()

    async def create(self, group_id: str, members: list[str], description: str = "") -> DeviceGroup | None:
        group = await self._change(self._groups.create, group_id, members, description)
        if group is not None:
            self.new_id.clear()
            self.new_description.clear()
            self.fleet.clearSelection()
            count = len(group.members)
            await self._changed(f"Created group {group.group_id} with {count} device{'s' if count != 1 else ''}.",
                                group.group_id)
        return group

    async def create_from_form(self) -> DeviceGroup | None:
        return await self.create(self.new_id.text().strip(), self.selected_fleet_devices(),
                                 self.new_description.text())

    async def add_selected(self) -> DeviceGroup | None:
        group_id, chosen = self.selected_group_id(), self.selected_fleet_devices()
        if not group_id or not chosen:
            return None
        group = await self._change(self._groups.add_members, group_id, chosen)
        if group is not None:
            self.fleet.clearSelection()
            await self._changed(f"Added {', '.join(chosen)} to {group_id}.", group_id)
        return group

    async def remove_selected(self) -> DeviceGroup | None:
        group_id, chosen = self.selected_group_id(), self.selected_members()
        if not group_id or not chosen:
            return None
        group = await self._change(self._groups.remove_members, group_id, chosen)
        if group is not None:
            await self._changed(f"Removed {', '.join(chosen)} from {group_id}; the devices stay registered.",
                                group_id)
        return group

    async def rename(self, group_id: str, new_group_id: str) -> DeviceGroup | None:
        group = await self._change(self._groups.rename, group_id, new_group_id)
        if group is not None:
            await self._changed(f"Renamed group {group_id} to {group.group_id}.", group.group_id)
        return group

    async def delete(self, group_id: str) -> DeviceGroup | None:
        group = await self._change(self._groups.delete, group_id)
        if group is not None:
            await self._changed(f"Deleted group {group_id}; its {len(group.members)} devices stay registered.", None)
        return group

    # -- the same, asking first --------------------------------------------------------------------
    async def rename_interactive(self) -> None:
        group_id = self.selected_group_id()
        if not group_id:
            return
        dialog = RenameGroupDialog(group_id, self)
        if await run_dialog(dialog):
            await self.rename(group_id, dialog.value())

    async def delete_interactive(self) -> None:
        group = self.selected_group()
        if group is not None and await run_dialog(ConfirmDeleteGroupDialog(group.group_id, len(group.members), self)):
            await self.delete(group.group_id)
