"""The device-groups window opened from the Schedules menu: the groups panel and a Close button.

Modeless, so an operator can keep it next to the schedule editor while building groups to schedule.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout, QWidget

from desktop.views.device_groups_panel import DeviceGroupsPanel


class DeviceGroupsDialog(QDialog):
    def __init__(self, panel: DeviceGroupsPanel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Device groups")
        self.setModal(False)
        self.resize(980, 560)
        self.panel = panel
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(panel, 1)
        layout.addWidget(buttons)
