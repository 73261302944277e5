"""Admin user management (brief use case 7): list and filter accounts, create, change role,
deactivate/reactivate, reset password, unlock. Every change is made, checked and audited by UserService."""

from __future__ import annotations

from datetime import timedelta
from typing import Awaitable, Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QTableView, QToolBar,
    QVBoxLayout, QWidget,
)

from core.auth.principal import Principal
from core.auth.roles import Permission, Role
from core.auth.users import UserFilter, UserInfo
from core.errors import GridRoomError
from core.services import CoreServices
from desktop.actions import ActionRegistry, ActionSpec
from desktop.dialogs.user_dialogs import ChooseRoleDialog, CreateUserDialog, ResetPasswordDialog
from desktop.tasks import UiTasks, call_core, run_dialog
from desktop.views.users_model import UsersTableModel
from desktop.widgets.message_area import MessageArea

STATUS_CHOICES = [("All statuses", None), ("Active", True), ("Deactivated", False)]
# (label, "since"/"not_since", days): relative to the core clock, so tests can move time.
LOGIN_CHOICES = [
    ("Any last sign-in", None, 0),
    ("Signed in within 24 h", "since", 1),
    ("Signed in within 7 days", "since", 7),
    ("Signed in within 30 days", "since", 30),
    ("No sign-in for 30 days", "not_since", 30),
    ("No sign-in for 90 days", "not_since", 90),
]
NEEDS_SELECTION = ("users.set_role", "users.deactivate", "users.reactivate", "users.reset_password", "users.unlock")


class UsersView(QWidget):
    def __init__(self, services: CoreServices, principal: Principal, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._principal = principal
        self._registry: ActionRegistry | None = None
        self.tasks = UiTasks(lambda exc: self.message.show_error(f"Unexpected error: {exc}"))
        self.model = UsersTableModel(self)

        self.role_filter = QComboBox()
        self.role_filter.addItem("All roles", None)
        for role in Role:  # item data holds the value: Qt turns a str-enum into a plain str anyway
            self.role_filter.addItem(role.value, role.value)
        self.status_filter = QComboBox()
        for label, value in STATUS_CHOICES:
            self.status_filter.addItem(label, value)
        self.login_filter = QComboBox()
        for label, kind, days in LOGIN_CHOICES:
            self.login_filter.addItem(label, (kind, days))
        self.text_filter = QLineEdit()
        self.text_filter.setPlaceholderText("Search user name or display name")
        self.text_filter.setClearButtonEnabled(True)
        # Typing refreshes once the operator pauses, not per keystroke.
        self._text_debounce = QTimer(self, singleShot=True, interval=250)
        self._text_debounce.timeout.connect(self.request_refresh)
        self.text_filter.textChanged.connect(self._text_debounce.start)
        for combo in (self.role_filter, self.status_filter, self.login_filter):
            combo.currentIndexChanged.connect(self.request_refresh)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().selectionChanged.connect(self._update_selection_actions)
        self.toolbar = QToolBar("User actions")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.message = MessageArea()
        self.count_label = QLabel()
        self.count_label.setObjectName("muted")

        title = QLabel("Users")
        title.setObjectName("viewTitle")
        filters = QHBoxLayout()
        for widget in (self.role_filter, self.status_filter, self.login_filter):
            filters.addWidget(widget)
        filters.addWidget(self.text_filter, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.toolbar)
        layout.addLayout(filters)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count_label)

    # -- actions (registered by the main window; enablement lives in the registry) -------------------
    def action_specs(self) -> list[ActionSpec]:
        def spec(action_id: str, title: str, work: Callable[[], Awaitable[object]], tip: str) -> ActionSpec:
            return ActionSpec(action_id, title, None, Permission.MANAGE_USERS, "&Users", True,
                              lambda: self.tasks.start(work()), tip, "users")
        return [
            spec("users.create", "New user…", self.create_user_interactive, "Create an account with a temporary password"),
            spec("users.set_role", "Change role…", self.set_role_interactive, "Change the selected user's role"),
            spec("users.deactivate", "Deactivate", lambda: self.deactivate(self._selected_name()), "Revoke access at once; data and history stay"),
            spec("users.reactivate", "Reactivate", lambda: self.reactivate(self._selected_name()), "Restore access"),
            spec("users.reset_password", "Reset password…", self.reset_password_interactive, "Set a temporary password and clear any lockout"),
            spec("users.unlock", "Unlock", lambda: self.unlock(self._selected_name()), "Clear a lockout after failed sign-ins"),
            spec("users.refresh", "Refresh", self.refresh, "Reload the list"),
        ]

    def use_actions(self, registry: ActionRegistry) -> None:
        self._registry = registry
        registry.build_toolbar(self.toolbar, "users")
        self._update_selection_actions()

    def _update_selection_actions(self) -> None:
        if self._registry is None:
            return
        user = self.selected_user()
        for action_id in NEEDS_SELECTION:
            self._registry.set_available(action_id, user is not None)
        if user is not None:
            self._registry.set_available("users.deactivate", user.active)
            self._registry.set_available("users.reactivate", not user.active)

    # -- reading ------------------------------------------------------------------------------
    def current_filter(self) -> UserFilter:
        kind, days = self.login_filter.currentData()
        cutoff = self._services.clock.now() - timedelta(days=days) if kind else None
        return UserFilter(
            role=Role(self.role_filter.currentData()) if self.role_filter.currentData() else None,
            active=self.status_filter.currentData(),
            logged_in_since=cutoff if kind == "since" else None,
            not_logged_in_since=cutoff if kind == "not_since" else None,
            text=self.text_filter.text().strip() or None,
        )

    def request_refresh(self) -> None:
        self.tasks.start(self.refresh())

    async def refresh(self) -> None:
        selected = self._selected_name()
        try:
            users = await call_core(self._services.users.list_users, self._principal, self.current_filter())
        except GridRoomError as exc:
            self.message.show_error(str(exc))
            return
        self.model.set_users(users, self._services.clock.now())
        self.count_label.setText(f"{len(users)} account{'s' if len(users) != 1 else ''} shown")
        if selected in self.model.usernames():
            self.table.selectRow(self.model.row_of(selected))
        self._update_selection_actions()

    def selected_user(self) -> UserInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.user_at(rows[0].row()) if rows else None

    def _selected_name(self) -> str:
        user = self.selected_user()
        return user.username if user else ""

    def select(self, username: str) -> None:
        self.table.selectRow(self.model.row_of(username))

    # -- changing (each one call into UserService, which checks permission and audits) -----------
    async def _change(self, done: str, fn: Callable[..., UserInfo], *args: object) -> UserInfo | None:
        self.toolbar.setEnabled(False)
        try:
            info = await call_core(fn, self._principal, *args)
        except GridRoomError as exc:
            self.message.show_error(str(exc))
            return None
        finally:
            self.toolbar.setEnabled(True)
        self.message.show_info(done.format(user=info.username))
        await self.refresh()
        if info.username in self.model.usernames():
            self.select(info.username)
        return info

    async def create_user(self, username: str, role: Role, temporary_password: str, display_name: str = "") -> UserInfo | None:
        return await self._change("Created {user}; they must change the temporary password at first sign-in.",
                                  self._services.users.create_user, username, role, temporary_password, display_name)

    async def set_role(self, username: str, role: Role) -> UserInfo | None:
        return await self._change(f"{{user}} is now {role.value}.", self._services.users.set_role, username, role)

    async def deactivate(self, username: str) -> UserInfo | None:
        return await self._change("Deactivated {user}: access is revoked; data and audit history stay.",
                                  self._services.users.deactivate, username)

    async def reactivate(self, username: str) -> UserInfo | None:
        return await self._change("Reactivated {user}.", self._services.users.reactivate, username)

    async def reset_password(self, username: str, temporary_password: str) -> UserInfo | None:
        return await self._change("Reset the password of {user}; they must change it at the next sign-in.",
                                  self._services.users.reset_password, username, temporary_password)

    async def unlock(self, username: str) -> UserInfo | None:
        return await self._change("Unlocked {user}.", self._services.users.unlock, username)

    # -- the same, asking first --------------------------------------------------------------------
    async def create_user_interactive(self) -> None:
        dialog = CreateUserDialog(self)
        if await run_dialog(dialog):
            await self.create_user(*dialog.values())

    async def set_role_interactive(self) -> None:
        user = self.selected_user()
        if user is None:
            return
        dialog = ChooseRoleDialog(user.username, user.role, self)
        if await run_dialog(dialog):
            await self.set_role(user.username, dialog.value())

    async def reset_password_interactive(self) -> None:
        user = self.selected_user()
        if user is None:
            return
        dialog = ResetPasswordDialog(user.username, self)
        if await run_dialog(dialog):
            await self.reset_password(user.username, dialog.value())
