"""Notification dialogs: the signed-in user's preferences, and the admin's channels and escalation chain.

Both stay open on Save: `save_requested` asks the caller to store the values through the core services,
and a refusal (which names the field) is shown in `message` so nothing typed is lost.
Secrets are typed into password fields that start empty: empty keeps what the keyring holds.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QGridLayout, QLabel, QLineEdit,
    QSpinBox, QTabWidget, QVBoxLayout, QWidget,
)

from core.alarms.escalation import Channel
from core.alarms.priorities import Priority
from core.notifications.channel_settings import (
    EmailSettings, NotificationSetup, PagerDutySettings, SlackSettings, SmsSettings,
)
from core.notifications.preferences import UserNotificationSettings
from desktop.widgets.message_area import MessageArea

PRIORITY_CHOICES = (("Critical only", Priority.CRITICAL), ("Warning and critical", Priority.WARNING),
                    ("Everything (info, warning, critical)", Priority.INFO))
SECURITY_CHOICES = (("STARTTLS (port 587)", "starttls"), ("TLS (port 465)", "tls"), ("None (local relay)", "none"))
CHANNEL_WORDS = {Channel.DESKTOP: "Desktop", Channel.EMAIL: "E-mail", Channel.WEBHOOK: "Webhooks (Slack, PagerDuty)",
                 Channel.SMS: "SMS"}


class _SavingDialog(QDialog):
    save_requested = Signal()

    def _finish(self, layout: QVBoxLayout, ok_text: str) -> None:
        self.message = MessageArea()
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.addButton(ok_text, QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setDefault(True)
        self.buttons.accepted.connect(self.save_requested.emit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)


class NotificationPreferencesDialog(_SavingDialog):
    """How alarms reach the signed-in user."""

    def __init__(self, current: UserNotificationSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.username = current.username
        self.setWindowTitle("Notification preferences")
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        intro = QLabel(f"How GridRoom reaches you ({current.username}) when an alarm needs attention. "
                       "Unacknowledged critical alarms escalate through the channels the administrator set up.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.desktop = QCheckBox("Show alarm notifications on this desktop")
        self.desktop.setChecked(current.desktop_enabled)
        self.sound = QCheckBox("Sound for new critical alarms")
        self.sound.setChecked(current.sound_enabled)
        self.email_enabled = QCheckBox("By e-mail")
        self.email_enabled.setChecked(current.email_enabled)
        self.email = QLineEdit(current.email or "")
        self.email.setPlaceholderText("name@example.org")
        self.sms_enabled = QCheckBox("By SMS (critical alarms only)")
        self.sms_enabled.setChecked(current.sms_enabled)
        self.sms_number = QLineEdit(current.sms_number or "")
        self.sms_number.setPlaceholderText("+32 470 12 34 56")
        self.min_priority = QComboBox()
        for label, priority in PRIORITY_CHOICES:
            self.min_priority.addItem(label, priority)
        self.min_priority.setCurrentIndex(self.min_priority.findData(current.min_priority))
        form.addRow("Notify me of", self.min_priority)
        form.addRow("Desktop", self.desktop)
        form.addRow("", self.sound)
        form.addRow("E-mail", self.email_enabled)
        form.addRow("Address", self.email)
        form.addRow("SMS", self.sms_enabled)
        form.addRow("Number", self.sms_number)
        layout.addLayout(form)
        self._finish(layout, "Save preferences")

    def settings(self) -> UserNotificationSettings:
        """What the dialog shows (validated by core when saved)."""
        return UserNotificationSettings(
            self.username, self.email.text().strip() or None, self.sms_number.text().strip() or None,
            self.email_enabled.isChecked(), self.sms_enabled.isChecked(), self.desktop.isChecked(),
            self.sound.isChecked(), self.min_priority.currentData())


def _secret_field(stored: bool) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setPlaceholderText("stored in the keyring: leave empty to keep" if stored else "not set")
    return field


def _timeout(value: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(1, 600)
    box.setDecimals(0)
    box.setSuffix(" s")
    box.setValue(value)
    return box


class ChannelSettingsDialog(_SavingDialog):
    """The admin's SMTP server, webhooks, SMS gateway and escalation chain."""

    def __init__(self, setup: NotificationSetup, keyring_ok: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Notification channels")
        self.setMinimumWidth(560)
        stored = setup.secrets_stored
        layout = QVBoxLayout(self)
        intro = QLabel("Channels every alarm notification can use. Passwords, webhook URLs with tokens and "
                       "routing keys are kept in the operating system's keyring, never in the database.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        if not keyring_ok:
            warn = QLabel("No secure keyring is available: secrets cannot be saved on this machine.")
            warn.setObjectName("warning")
            layout.addWidget(warn)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs)

        e = setup.email
        self.email_enabled = QCheckBox("Send e-mail")
        self.email_enabled.setChecked(e.enabled)
        self.smtp_host = QLineEdit(e.host)
        self.smtp_host.setPlaceholderText("smtp.example.org")
        self.smtp_port = QSpinBox()
        self.smtp_port.setRange(1, 65535)
        self.smtp_port.setValue(e.port)
        self.smtp_security = QComboBox()
        for label, value in SECURITY_CHOICES:
            self.smtp_security.addItem(label, value)
        self.smtp_security.setCurrentIndex(max(0, self.smtp_security.findData(e.security)))
        self.smtp_sender = QLineEdit(e.sender)
        self.smtp_sender.setPlaceholderText("gridroom@example.org")
        self.smtp_user = QLineEdit(e.username)
        self.smtp_password = _secret_field("email" in stored)
        self.smtp_timeout = _timeout(e.timeout_s)
        self._tab("E-mail", [("", self.email_enabled), ("SMTP host", self.smtp_host), ("Port", self.smtp_port),
                             ("Security", self.smtp_security), ("Sender", self.smtp_sender),
                             ("User name", self.smtp_user), ("Password", self.smtp_password),
                             ("Timeout", self.smtp_timeout)])

        self.slack_enabled = QCheckBox("Post to a Slack-style incoming webhook")
        self.slack_enabled.setChecked(setup.slack.enabled)
        self.slack_url = _secret_field("slack" in stored)
        self.pd_enabled = QCheckBox("Open PagerDuty incidents (Events API v2)")
        self.pd_enabled.setChecked(setup.pagerduty.enabled)
        self.pd_url = QLineEdit(setup.pagerduty.url)
        self.pd_key = _secret_field("pagerduty" in stored)
        self._tab("Webhooks", [("", self.slack_enabled), ("Webhook URL", self.slack_url), ("", QLabel("")),
                               ("", self.pd_enabled), ("Events URL", self.pd_url), ("Routing key", self.pd_key)])

        self.sms_enabled = QCheckBox("Send SMS through a gateway (critical alarms only)")
        self.sms_enabled.setChecked(setup.sms.enabled)
        self.sms_url = QLineEdit(setup.sms.url)
        self.sms_url.setPlaceholderText("https://sms-gateway.example.org/send")
        self.sms_sender = QLineEdit(setup.sms.sender_id)
        self.sms_key = _secret_field("sms" in stored)
        self._tab("SMS", [("", self.sms_enabled), ("Gateway URL", self.sms_url), ("Sender id", self.sms_sender),
                          ("API key", self.sms_key)])

        esc = QWidget()
        grid = QGridLayout(esc)
        note = QLabel("While an alarm stays unacknowledged, each ticked channel is used once its minutes have "
                      "passed. Acknowledging stops the chain.")
        note.setWordWrap(True)
        grid.addWidget(note, 0, 0, 1, 2)
        steps = {s.channel: s.after_min for s in setup.escalation.steps}
        self.step_enabled: dict[Channel, QCheckBox] = {}
        self.step_minutes: dict[Channel, QDoubleSpinBox] = {}
        for row, channel in enumerate(Channel, start=1):
            box = QCheckBox(CHANNEL_WORDS[channel])
            box.setChecked(channel in steps)
            minutes = QDoubleSpinBox()
            minutes.setRange(0, 24 * 60)
            minutes.setDecimals(1)
            minutes.setSuffix(" min unacknowledged")
            minutes.setValue(steps.get(channel, 0.0))
            grid.addWidget(box, row, 0)
            grid.addWidget(minutes, row, 1)
            self.step_enabled[channel], self.step_minutes[channel] = box, minutes
        self.priority_boxes: dict[Priority, QCheckBox] = {}
        prio_row = QWidget()
        prio_layout = QVBoxLayout(prio_row)
        prio_layout.setContentsMargins(0, 0, 0, 0)
        for priority in Priority:
            box = QCheckBox(f"{priority.value.capitalize()} alarms")
            box.setChecked(priority in setup.escalation.priorities)
            prio_layout.addWidget(box)
            self.priority_boxes[priority] = box
        grid.addWidget(QLabel("Applies to"), len(Channel) + 1, 0)
        grid.addWidget(prio_row, len(Channel) + 1, 1)
        grid.setRowStretch(len(Channel) + 2, 1)
        self.tabs.addTab(esc, "Escalation")
        self._finish(layout, "Save channels")

    def _tab(self, title: str, rows: list[tuple[str, QWidget]]) -> None:
        page = QWidget()
        form = QFormLayout(page)
        for label, widget in rows:
            form.addRow(label, widget)
        self.tabs.addTab(page, title)

    # -- what the admin entered (core validates) --------------------------------------------------
    def channel_settings(self) -> list[tuple[EmailSettings | SlackSettings | PagerDutySettings | SmsSettings,
                                             str | None]]:
        """(settings, secret or None to keep) per channel."""
        def secret(field: QLineEdit) -> str | None:
            return field.text().strip() or None
        return [
            (EmailSettings(self.email_enabled.isChecked(), self.smtp_host.text().strip(), self.smtp_port.value(),
                           self.smtp_sender.text().strip(), self.smtp_user.text().strip(),
                           self.smtp_security.currentData(), self.smtp_timeout.value()), secret(self.smtp_password)),
            (SlackSettings(self.slack_enabled.isChecked()), secret(self.slack_url)),
            (PagerDutySettings(self.pd_enabled.isChecked(), self.pd_url.text().strip()), secret(self.pd_key)),
            (SmsSettings(self.sms_enabled.isChecked(), self.sms_url.text().strip(), self.sms_sender.text().strip()),
             secret(self.sms_key)),
        ]

    def escalation(self) -> tuple[list[tuple[Channel, float]], set[Priority]]:
        steps = sorted(((c, self.step_minutes[c].value()) for c, box in self.step_enabled.items() if box.isChecked()),
                       key=lambda s: s[1])
        return steps, {p for p, box in self.priority_boxes.items() if box.isChecked()}
