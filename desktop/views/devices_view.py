"""Admin device registry (brief use case 8, onboarding): list and filter devices, register, edit and
decommission them, create the device CA, issue provisioning bundles and revoke certificates. Every change is
checked and audited by DeviceRegistry and DeviceCertificates; this view asks, calls and shows the outcome."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Awaitable, Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QTableView, QToolBar,
    QVBoxLayout, QWidget,
)

from core.auth.principal import Principal
from core.auth.roles import Permission
from core.devices import DeviceInfo, DeviceRegistry, DeviceSpec
from core.errors import GridRoomError
from core.pki.service import DeviceCertificates
from core.services import CoreServices
from core.settings import data_dir
from desktop.actions import ActionRegistry, ActionSpec
from desktop.dialogs.device_dialog import DeviceDialog
from desktop.dialogs.onboarding_dialogs import BundleDialog, ConfirmDecommissionDialog, RevokeDialog
from desktop.tasks import UiTasks, call_core, run_dialog
from desktop.views.devices_model import COLUMNS, CaStatus, DevicesTableModel, load_sites, read_ca_status
from desktop.widgets.message_area import MessageArea

NEEDS_ACTIVE = ("devices.edit", "devices.decommission", "devices.issue_bundle")


class DevicesView(QWidget):
    def __init__(self, services: CoreServices, principal: Principal, registry: DeviceRegistry | None = None,
                 certificates: DeviceCertificates | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._principal = principal
        self._devices = registry or DeviceRegistry(services.db, services.audit, services.authorizer, services.clock)
        self._certificates = certificates or DeviceCertificates(
            data_dir() / "pki", services.db, services.audit, services.authorizer, services.secrets, self._devices,
            services.clock)
        self._registry: ActionRegistry | None = None
        self._sites: list[tuple[int, str]] = []
        self.ca = CaStatus(False, "")
        self.tasks = UiTasks(lambda exc: self.message.show_error(f"Unexpected error: {exc}"))
        self.model = DevicesTableModel(self)

        self.site_filter = QComboBox()
        self.site_filter.addItem("All sites", None)
        self.site_filter.currentIndexChanged.connect(self.request_refresh)
        self.show_decommissioned = QCheckBox("Show decommissioned")
        self.show_decommissioned.setChecked(True)
        self.show_decommissioned.toggled.connect(self.request_refresh)
        self.text_filter = QLineEdit()
        self.text_filter.setPlaceholderText("Search device ID, name or location")
        self.text_filter.setClearButtonEnabled(True)
        # Typing refreshes once the admin pauses, not per keystroke.
        self._text_debounce = QTimer(self, singleShot=True, interval=250)
        self._text_debounce.timeout.connect(self.request_refresh)
        self.text_filter.textChanged.connect(self._text_debounce.start)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # URLs and serials differ at both ends
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for stretchy in ("Address", "Certificate serial"):
            header.setSectionResizeMode(COLUMNS.index(stretchy), QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().selectionChanged.connect(self._update_selection_actions)
        self.table.doubleClicked.connect(lambda _index: self._trigger("devices.edit"))
        self.toolbar = QToolBar("Device actions")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.message = MessageArea()
        self.ca_label = QLabel()
        self.ca_label.setObjectName("muted")
        self.ca_label.setWordWrap(True)
        self.ca_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.count_label = QLabel()
        self.count_label.setObjectName("muted")

        title = QLabel("Devices")
        title.setObjectName("viewTitle")
        filters = QHBoxLayout()
        filters.addWidget(self.site_filter)
        filters.addWidget(self.show_decommissioned)
        filters.addWidget(self.text_filter, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.toolbar)
        layout.addLayout(filters)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label)
        bottom.addWidget(self.ca_label, 1)
        layout.addLayout(bottom)

    # -- actions (registered by the main window; enablement lives in the registry) -------------------
    def action_specs(self) -> list[ActionSpec]:
        def spec(action_id: str, title: str, work: Callable[[], Awaitable[object]], tip: str) -> ActionSpec:
            return ActionSpec(action_id, title, None, Permission.MANAGE_DEVICES, "&Devices", True,
                              lambda: self.tasks.start(work()), tip, "devices")
        return [
            spec("devices.register", "Register device…", self.register_interactive, "Onboard a new device"),
            spec("devices.edit", "Edit…", self.edit_interactive, "Change the selected device (not its ID)"),
            spec("devices.decommission", "Decommission…", self.decommission_interactive,
                 "Take the selected device out of service; its record and history stay"),
            spec("devices.issue_bundle", "Issue certificate bundle…", self.issue_bundle_interactive,
                 "Issue a client certificate and write the device's provisioning zip"),
            spec("devices.revoke", "Revoke certificates…", self.revoke_interactive,
                 "Revoke every certificate of the selected device"),
            spec("devices.create_ca", "Create device CA", self.create_ca, "Create the CA that signs device certificates"),
            spec("devices.refresh", "Refresh", self.refresh, "Reload the list"),
        ]

    def use_actions(self, registry: ActionRegistry) -> None:
        self._registry = registry
        registry.build_toolbar(self.toolbar, "devices")
        self._update_selection_actions()

    def _trigger(self, action_id: str) -> None:
        if self._registry is not None and self._registry.action(action_id).isEnabled():
            self._registry.action(action_id).trigger()

    def _update_selection_actions(self) -> None:
        if self._registry is None:
            return
        device = self.selected_device()
        active = device is not None and device.active
        for action_id in NEEDS_ACTIVE:
            self._registry.set_available(action_id, active)
        self._registry.set_available("devices.issue_bundle", active and self.ca.exists)
        self._registry.set_available("devices.revoke", device is not None and device.certificate_serial is not None
                                     and self.ca.exists)
        self._registry.set_available("devices.create_ca", not self.ca.exists)

    # -- reading ------------------------------------------------------------------------------
    def request_refresh(self) -> None:
        self.tasks.start(self.refresh())

    async def refresh(self) -> None:
        selected = self._selected_id()
        try:
            sites = await call_core(load_sites, self._services.db)
            self._set_sites(sites)
            devices = await call_core(self._devices.list, self._principal, self.site_filter.currentData(),
                                      self.text_filter.text().strip() or None, self.show_decommissioned.isChecked())
        except GridRoomError as exc:
            self.message.show_error(str(exc))
            return
        try:
            self.ca = await call_core(read_ca_status, self._certificates)
        except GridRoomError as exc:  # a damaged CA or a locked keyring: the registry is still usable
            self.ca = CaStatus(True, f"The device CA cannot be opened: {exc}")
        self.ca_label.setText(self.ca.summary)
        self.model.set_devices(devices, self.ca.revoked_serials)
        self.count_label.setText(f"{len(devices)} device{'s' if len(devices) != 1 else ''} shown")
        if selected in self.model.device_ids():
            self.select(selected)
        self._update_selection_actions()

    def _set_sites(self, sites: list[tuple[int, str]]) -> None:
        if sites == self._sites:
            return
        self._sites = sites
        current = self.site_filter.currentData()
        self.site_filter.blockSignals(True)  # rebuilding the list is not the admin choosing a site
        self.site_filter.clear()
        self.site_filter.addItem("All sites", None)
        for site_id, name in sites:
            self.site_filter.addItem(name, site_id)
        self.site_filter.setCurrentIndex(max(self.site_filter.findData(current), 0))
        self.site_filter.blockSignals(False)

    def selected_device(self) -> DeviceInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.device_at(rows[0].row()) if rows else None

    def _selected_id(self) -> str:
        device = self.selected_device()
        return device.device_id if device else ""

    def select(self, device_id: str) -> None:
        self.table.selectRow(self.model.row_of(device_id))

    # -- changing (each one call into core, which checks permission and audits) -------------------
    async def _run(self, fn: Callable[..., object], *args: object, errors: tuple[type[Exception], ...] = (GridRoomError,),
                   **kwargs: object) -> object | None:
        self.toolbar.setEnabled(False)
        try:
            return await call_core(fn, self._principal, *args, **kwargs)
        except errors as exc:
            self.message.show_error(str(exc))
            return None
        finally:
            self.toolbar.setEnabled(True)

    async def _after_change(self, text: str, device_id: str | None = None) -> None:
        self.message.show_info(text)
        await self.refresh()
        if device_id in self.model.device_ids():
            self.select(device_id)

    async def register(self, spec: DeviceSpec) -> DeviceInfo | None:
        info = await self._run(self._devices.register, spec)
        if info is not None:
            await self._registered(info)
        return info

    async def update(self, device_id: str, **changes: object) -> DeviceInfo | None:
        info = await self._run(self._devices.update, device_id, **changes)
        if info is not None:
            await self._after_change(f"Saved the changes to {device_id}.", device_id)
        return info

    async def decommission(self, device_id: str) -> DeviceInfo | None:
        info = await self._run(self._devices.decommission, device_id)
        if info is not None:
            await self._after_change(f"Decommissioned {device_id}: it is out of service; its record and history "
                                     "stay. Revoke its certificates if it must no longer connect.", device_id)
        return info

    async def create_ca(self) -> bool:
        ca = await self._run(self._certificates.init_ca)
        if ca is not None:
            await self._after_change(f"Created the device CA in {ca.folder}, valid until {ca.not_after:%Y-%m-%d}; "
                                     "its key passphrase is kept in the keyring.", self._selected_id())
        return ca is not None

    async def issue_bundle(self, device_id: str, broker_host: str, broker_port: int, out: Path) -> Path | None:
        # ValueError: a broker address the bundle refuses; OSError: a folder that cannot be written.
        path = await self._run(self._certificates.issue_bundle, device_id, broker_host, broker_port, out,
                               errors=(GridRoomError, ValueError, OSError))
        if path is not None:
            await self.refresh()
            if device_id in self.model.device_ids():
                self.select(device_id)
            serial = self.selected_device().certificate_serial if self.selected_device() else "?"
            self.message.show_info(f"Wrote the certificate bundle of {device_id} (serial {serial}) to {path}. "
                                   "It holds the device's private key: hand it over securely.")
        return path

    async def revoke(self, device_id: str, reason: str) -> list[int] | None:
        serials = await self._run(self._certificates.revoke, device_id, reason)
        if serials is not None:
            count = len(serials)
            await self._after_change(f"Revoked {count} certificate{'s' if count != 1 else ''} of {device_id} "
                                     f"({reason}). Restart the broker to apply the new revocation list.", device_id)
        return serials

    async def _registered(self, info: DeviceInfo) -> None:
        next_step = "issue its certificate bundle" if self.ca.exists else "create the device CA, then issue its bundle"
        await self._after_change(f"Registered {info.device_id} at {info.site_name}. Next: {next_step}.", info.device_id)

    # -- the same, asking first --------------------------------------------------------------------
    async def register_interactive(self) -> None:
        async def save(spec: DeviceSpec) -> DeviceInfo:
            return await call_core(self._devices.register, self._principal, spec)

        dialog = DeviceDialog(self._sites, save, parent=self)
        if await run_dialog(dialog) and dialog.saved is not None:
            await self._registered(dialog.saved)

    async def edit_interactive(self) -> None:
        device = self.selected_device()
        if device is None:
            return

        async def save(spec: DeviceSpec) -> DeviceInfo:
            changes = {k: v for k, v in dataclasses.asdict(spec).items() if k != "device_id"}
            return await call_core(self._devices.update, self._principal, device.device_id, **changes)

        dialog = DeviceDialog(self._sites, save, existing=device, parent=self)
        if await run_dialog(dialog):
            await self._after_change(f"Saved the changes to {device.device_id}.", device.device_id)

    async def decommission_interactive(self) -> None:
        device_id = self._selected_id()
        if device_id and await run_dialog(ConfirmDecommissionDialog(device_id, self)):
            await self.decommission(device_id)

    async def issue_bundle_interactive(self) -> None:
        device_id = self._selected_id()
        if not device_id:
            return
        dialog = BundleDialog(device_id, Path.home() / f"{device_id}-bundle.zip", self)
        if await run_dialog(dialog):
            await self.issue_bundle(device_id, *dialog.values())

    async def revoke_interactive(self) -> None:
        device_id = self._selected_id()
        if not device_id:
            return
        dialog = RevokeDialog(device_id, self)
        if await run_dialog(dialog):
            await self.revoke(device_id, dialog.value())
