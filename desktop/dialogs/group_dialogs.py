"""Small dialogs of device groups: a group's new ID, and confirming a delete."""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit, QWidget

from desktop.dialogs.action_dialog import ActionDialog


class RenameGroupDialog(ActionDialog):
    def __init__(self, group_id: str, parent: QWidget | None = None) -> None:
        super().__init__(f"Rename group {group_id}",
                         f"The group keeps its members. Schedules already finished keep the name {group_id} in their "
                         "history; a group that a draft or running schedule targets cannot be renamed.",
                         "Rename", parent)
        self.new_id = QLineEdit(group_id)
        self.new_id.setObjectName("newGroupId")
        self.new_id.selectAll()
        self.form.addRow("New group ID", self.new_id)

    def value(self) -> str:
        return self.new_id.text().strip()


class ConfirmDeleteGroupDialog(ActionDialog):
    def __init__(self, group_id: str, members: int, parent: QWidget | None = None) -> None:
        super().__init__(f"Delete group {group_id}",
                         f"Group {group_id} and its list of {members} member{'s' if members != 1 else ''} are deleted; "
                         "the devices stay registered. A group that a draft or running schedule targets cannot be "
                         "deleted.", "Delete", parent)
