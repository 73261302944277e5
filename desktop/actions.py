"""The one registry of user actions: menus and toolbars are built from it, and role-based enablement
lives here and nowhere else (CRAFT.md 11)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QToolBar, QWidget

from core.auth.authorizer import Authorizer
from core.auth.principal import Principal
from core.auth.roles import Permission


@dataclass(frozen=True)
class ActionSpec:
    id: str  # stable, dotted: "view.users", "users.create"
    title: str  # with & mnemonic where useful
    shortcut: str | None
    permission: Permission | None  # None: anyone signed in
    menu: str | None  # top-level menu title, or None for no menu entry
    toolbar: bool
    callback: Callable[[], object]
    tip: str = ""
    toolbar_name: str = "main"  # which toolbar, when `toolbar` is true (views have their own)


class ActionRegistry:
    """Owns every QAction. An action is enabled when the role permits it AND its context allows it
    (e.g. a row is selected); views report context with `set_available`, never with setEnabled."""

    def __init__(self, parent: QWidget) -> None:
        self._parent = parent
        self._specs: dict[str, ActionSpec] = {}
        self._actions: dict[str, QAction] = {}
        self._permitted: dict[str, bool] = {}
        self._available: dict[str, bool] = {}

    def add(self, spec: ActionSpec) -> QAction:
        if spec.id in self._specs:
            raise ValueError(f"action {spec.id!r} is registered twice")
        action = QAction(spec.title, self._parent)
        action.setObjectName(spec.id)
        if spec.shortcut:
            action.setShortcut(QKeySequence(spec.shortcut))
        tip = spec.tip or spec.title.replace("&", "")
        action.setStatusTip(tip)
        action.setToolTip(f"{tip} ({spec.shortcut})" if spec.shortcut else tip)
        action.triggered.connect(lambda _checked=False, cb=spec.callback: cb())
        self._parent.addAction(action)  # shortcuts work even when the menu entry is hidden
        self._specs[spec.id] = spec
        self._actions[spec.id] = action
        self._permitted[spec.id] = True
        self._available[spec.id] = True
        return action

    def add_all(self, specs: Iterable[ActionSpec]) -> None:
        for spec in specs:
            self.add(spec)

    def action(self, action_id: str) -> QAction:
        return self._actions[action_id]

    def spec(self, action_id: str) -> ActionSpec:
        return self._specs[action_id]

    def ids(self) -> list[str]:
        return list(self._specs)

    # -- building ------------------------------------------------------------------------------
    def build_menus(self, menubar: QMenuBar, order: Sequence[str] = ()) -> dict[str, QMenu]:
        """One menu per distinct `spec.menu`, in `order` first, then in registration order."""
        titles = list(order) + [s.menu for s in self._specs.values() if s.menu and s.menu not in order]
        menus: dict[str, QMenu] = {}
        for title in dict.fromkeys(titles):
            entries = [i for i, s in self._specs.items() if s.menu == title]
            if not entries:
                continue
            menu = menubar.addMenu(title)
            menus[title] = menu
            for action_id in entries:
                menu.addAction(self._actions[action_id])
        return menus

    def build_toolbar(self, toolbar: QToolBar, name: str = "main") -> None:
        for action_id, spec in self._specs.items():
            if spec.toolbar and spec.toolbar_name == name:
                toolbar.addAction(self._actions[action_id])

    # -- enablement ----------------------------------------------------------------------------
    def apply_permissions(self, principal: Principal, authorizer: Authorizer) -> None:
        """Enable each action by the signed-in user's stored role (core still checks on every call)."""
        needed = {s.permission for s in self._specs.values() if s.permission is not None}
        granted = {p: authorizer.allowed(principal, p) for p in needed}
        for action_id, spec in self._specs.items():
            self._permitted[action_id] = spec.permission is None or granted[spec.permission]
            self._refresh(action_id)

    def permitted(self, action_id: str) -> bool:
        return self._permitted[action_id]

    def set_available(self, action_id: str, available: bool) -> None:
        self._available[action_id] = available
        self._refresh(action_id)

    def _refresh(self, action_id: str) -> None:
        self._actions[action_id].setEnabled(self._permitted[action_id] and self._available[action_id])
