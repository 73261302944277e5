"""Table model of user accounts for the admin's user management view."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from PySide6.QtCore import Qt

from core.auth.users import UserInfo
from desktop.models.record_table_model import RecordTableModel
from desktop.summary import local_time
from desktop.theme import Abnormal, abnormal, qcolor

COLUMNS = ("User name", "Display name", "Role", "Status", "Last sign-in", "Created")


def account_status(user: UserInfo, now: datetime) -> tuple[str, Abnormal | None]:
    """What an administrator needs to know first about an account, and whether it is abnormal."""
    if not user.active:
        return "Deactivated", None
    if user.locked_until is not None and user.locked_until > now:
        return f"Locked until {local_time(user.locked_until, '%H:%M')}", Abnormal.WARNING
    if user.must_change_password:
        return "Active · temporary password", None
    return "Active", None


class UsersTableModel(RecordTableModel[UserInfo]):
    columns = COLUMNS

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._now = datetime.now().astimezone()

    def set_users(self, users: Sequence[UserInfo], now: datetime) -> None:
        self._now = now
        self.set_records(users)

    def user_at(self, row: int) -> UserInfo:
        return self.record_at(row)

    def usernames(self) -> list[str]:
        return [u.username for u in self._records]

    def row_of(self, username: str) -> int:
        return self.usernames().index(username)

    def cell(self, user: UserInfo, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(user, column)
        if column == 3 and role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole):
            _, kind = account_status(user, self._now)
            if kind is not None:
                colour = abnormal(kind)
                return qcolor(colour.background if role == Qt.ItemDataRole.BackgroundRole else colour.text)
        if role == Qt.ItemDataRole.ForegroundRole and not user.active:
            return qcolor("#6e6e6e")  # deactivated accounts recede; not an alarm, so no colour
        return None

    def _display(self, user: UserInfo, column: int) -> str:
        if column == 0:
            return user.username
        if column == 1:
            return user.display_name
        if column == 2:
            return user.role.value
        if column == 3:
            return account_status(user, self._now)[0]
        if column == 4:
            return local_time(user.last_login_at, "%Y-%m-%d %H:%M") if user.last_login_at else "never"
        return local_time(user.created_at, "%Y-%m-%d")
