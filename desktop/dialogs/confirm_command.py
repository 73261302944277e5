"""Asking before a command leaves GridRoom: the dialog names the device, the action and the rate."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from core.commands.model import DeviceCommand


class ConfirmCommandDialog(QDialog):
    def __init__(self, command: DeviceCommand, device_name: str = "", warning: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.command = command
        self.setWindowTitle("Confirm device command")
        self.setMinimumWidth(380)
        who = f"{command.device_id} ({device_name})" if device_name else command.device_id
        rate = f"{command.rate_kw:g} kW" if command.kind.needs_rate else "—"
        self.summary = QLabel(f"<b>Device:</b> {who}<br><b>Action:</b> {command.kind.value}<br><b>Rate:</b> {rate}")
        self.warning = QLabel(warning)
        self.warning.setWordWrap(True)
        self.warning.setVisible(bool(warning))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.send_button = buttons.addButton(f"Send {command.kind.value}", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setDefault(True)  # Enter must not send
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Send this command to the device?"))
        layout.addWidget(self.summary)
        layout.addWidget(self.warning)
        layout.addWidget(buttons)
