"""Small dialogs of device onboarding: confirm a decommission, issue a provisioning bundle, revoke certificates."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QWidget,
)

from core.pki.revocation import RevocationReason
from desktop.dialogs.action_dialog import ActionDialog
from desktop.tasks import UiTasks, run_dialog

REASON_LABELS = {
    RevocationReason.UNSPECIFIED: "Unspecified",
    RevocationReason.KEY_COMPROMISE: "Key compromise (the bundle or device key leaked)",
    RevocationReason.AFFILIATION_CHANGED: "Affiliation changed (new owner or operator)",
    RevocationReason.SUPERSEDED: "Superseded (a new certificate was issued)",
    RevocationReason.CESSATION_OF_OPERATION: "Cessation of operation (device retired)",
    RevocationReason.PRIVILEGE_WITHDRAWN: "Privilege withdrawn",
}


class _ActionDialog(ActionDialog):
    def __init__(self, title: str, intro: str, ok_text: str, parent: QWidget | None) -> None:
        super().__init__(title, intro, ok_text, parent, min_width=460)


class ConfirmDecommissionDialog(_ActionDialog):
    def __init__(self, device_id: str, parent: QWidget | None = None) -> None:
        super().__init__(f"Decommission {device_id}",
                         f"{device_id} will be taken out of service. Its record and history stay, read-only, and its "
                         "ID cannot be given to another device. Revoke its certificates too if it should no longer "
                         "connect.", "Decommission", parent)


class BundleDialog(_ActionDialog):
    """Where the device will find the broker, and where to write its bundle (a zip holding its private key)."""

    def __init__(self, device_id: str, suggested_path: Path, parent: QWidget | None = None) -> None:
        super().__init__(f"Certificate bundle for {device_id}",
                         f"A new client certificate is issued for {device_id} and written with its private key, the "
                         "CA certificate and the broker address into a zip. Hand it to the installer securely.",
                         "Issue bundle", parent)
        self.tasks = UiTasks()
        self.broker_host = QLineEdit("localhost")
        self.broker_host.setObjectName("brokerHost")
        self.broker_port = QSpinBox()
        self.broker_port.setObjectName("brokerPort")
        self.broker_port.setRange(1, 65535)
        self.broker_port.setValue(8883)
        broker = QHBoxLayout()
        broker.addWidget(self.broker_host, 1)
        broker.addWidget(QLabel(":"))
        broker.addWidget(self.broker_port)
        self.path = QLineEdit(str(suggested_path))
        self.path.setObjectName("bundlePath")
        browse = QPushButton("Browse…")
        browse.clicked.connect(lambda: self.tasks.start(self.browse()))
        where = QHBoxLayout()
        where.addWidget(self.path, 1)
        where.addWidget(browse)
        self.form.addRow("Broker (host : port)", broker)
        self.form.addRow("Save bundle to", where)

    async def browse(self) -> None:
        chooser = QFileDialog(self, "Save provisioning bundle", self.path.text(), "Zip archives (*.zip)")
        chooser.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        chooser.setDefaultSuffix("zip")
        if await run_dialog(chooser) and chooser.selectedFiles():
            self.path.setText(chooser.selectedFiles()[0])

    def values(self) -> tuple[str, int, Path]:
        """(broker host, broker port, bundle path) as DeviceCertificates.issue_bundle takes them."""
        return self.broker_host.text().strip(), self.broker_port.value(), Path(self.path.text().strip())


class RevokeDialog(_ActionDialog):
    def __init__(self, device_id: str, parent: QWidget | None = None) -> None:
        super().__init__(f"Revoke certificates of {device_id}",
                         f"Every certificate issued to {device_id} is revoked for good and the revocation list is "
                         "rewritten. The broker reads that list only when it starts: restart the broker to apply it.",
                         "Revoke", parent)
        self.reason = QComboBox()
        self.reason.setObjectName("reason")
        for reason in RevocationReason:
            self.reason.addItem(REASON_LABELS.get(reason, reason.value), reason.value)
        self.form.addRow("Reason", self.reason)

    def value(self) -> str:
        return self.reason.currentData()
