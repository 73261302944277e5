"""Dialogs of the alarm view: shelve (reason required, expiry chosen), comment, out of service for a device,
and an admin's edit of one rule."""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QLineEdit, QWidget,
)

from core.alarms.priorities import Priority
from desktop.widgets.message_area import MessageArea

SHELVE_DURATIONS = (("1 hour", 1), ("4 hours", 4), ("8 hours", 8), ("24 hours", 24))


class _TextDialog(QDialog):
    """A dialog whose OK stays disabled until the required text is filled in."""

    def __init__(self, title: str, intro: str, field_label: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.text = QLineEdit()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.form = QFormLayout(self)
        intro_label = QLabel(intro)
        intro_label.setWordWrap(True)
        self.form.addRow(intro_label)
        self.form.addRow(field_label, self.text)
        self.text.textChanged.connect(self._update_ok)

    def _update_ok(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.text.text().strip()))

    def _finish_form(self) -> None:
        self.form.addRow(self.buttons)
        self._update_ok()
        self.setMinimumWidth(420)


class ShelveDialog(_TextDialog):
    def __init__(self, alarm_id: str, parent: QWidget | None = None) -> None:
        super().__init__("Shelve alarm", f"Shelve {alarm_id}: it leaves the list until the expiry "
                         "and comes back if its condition is still active.", "Reason", parent)
        self.text.setPlaceholderText("Why (required, recorded in the journal)")
        self.duration = QComboBox()
        for label, hours in SHELVE_DURATIONS:
            self.duration.addItem(label, hours)
        self.form.addRow("Shelve for", self.duration)
        self._finish_form()

    def values(self, now: datetime) -> tuple[str, datetime]:
        """(reason, until) for the chosen expiry, counted from `now`."""
        return self.text.text().strip(), now + timedelta(hours=int(self.duration.currentData()))


class CommentDialog(_TextDialog):
    def __init__(self, alarm_id: str, parent: QWidget | None = None) -> None:
        super().__init__("Comment on alarm", f"Add a comment to {alarm_id} (recorded in the journal).",
                         "Comment", parent)
        self._finish_form()

    def value(self) -> str:
        return self.text.text().strip()


class OutOfServiceDialog(_TextDialog):
    """Take a device's alarms out of service for maintenance: the device and a reason are required."""

    def __init__(self, device_id: str, parent: QWidget | None = None) -> None:
        super().__init__("Out of service", "Take every alarm of a device out of service for maintenance. "
                         "They stay suppressed until the device is returned to service.", "Reason", parent)
        self.device = QLineEdit(device_id)
        self.device.setPlaceholderText("Device id, e.g. bess-0012")
        self.form.insertRow(1, "Device", self.device)
        self.text.setPlaceholderText("Why (required, recorded in the journal)")
        self.device.textChanged.connect(self._update_ok)
        self._finish_form()

    def _update_ok(self) -> None:
        ok = bool(self.text.text().strip()) and bool(getattr(self, "device", None) and self.device.text().strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def values(self) -> tuple[str, str]:
        """(device id, reason)."""
        return self.device.text().strip(), self.text.text().strip()


class RuleEditDialog(QDialog):
    """An admin's change to one rule: threshold, deadband, on-delay, priority (the fields it has).

    Save emits `save_requested` and the dialog stays open: core validates, and a refusal comes back with
    its reason, shown in `message`, so the admin can correct the value; the caller accepts on success."""

    save_requested = Signal()

    def __init__(self, rule: object, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        rule_id = getattr(rule, "rule_id")
        self.setWindowTitle(f"Edit rule {rule_id}")
        self.rule = rule
        form = QFormLayout(self)
        intro = QLabel(f"<b>{rule_id.replace('_', ' ')}</b>"
                       + (f"<br>{getattr(rule, 'description', '')}" if getattr(rule, "description", "") else ""))
        intro.setWordWrap(True)
        form.addRow(intro)
        self.threshold = self._number(getattr(rule, "threshold", None), 3)
        self.deadband = self._number(getattr(rule, "deadband", None), 3)
        self.on_delay = self._number(getattr(rule, "on_delay_s", None), 1, suffix=" s")
        unit = ""
        metric = getattr(rule, "metric", None)
        if metric is not None:
            unit = f" {metric.physical_range.unit}"
            rng = metric.physical_range
            limits = QLabel(f"Physical range of {metric.value}: {rng.low:g}..{rng.high:g}{unit}")
            limits.setObjectName("muted")
            form.addRow(limits)
        for label, box in (("Threshold", self.threshold), ("Deadband", self.deadband), ("On-delay", self.on_delay)):
            if box is not None:
                if unit and box is not self.on_delay:
                    box.setSuffix(unit)
                form.addRow(label, box)
        self.priority = QComboBox()
        for p in Priority:
            self.priority.addItem(p.value.capitalize(), p)
        self.priority.setCurrentIndex(self.priority.findData(getattr(rule, "priority")))
        form.addRow("Priority", self.priority)
        self.message = MessageArea()
        self.message.setWordWrap(True)  # core's reasons are whole sentences
        form.addRow(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.addButton("Save rule", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.save_requested.emit)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.setMinimumWidth(520)

    def show_refusal(self, reason: str) -> None:
        """Show core's reason for refusing the change, growing the dialog so the whole reason is read."""
        self.message.show_error(f"Refused: {reason}")
        self.layout().activate()
        self.resize(self.width(), self.sizeHint().height())

    @staticmethod
    def _number(value: float | None, decimals: int, suffix: str = "") -> QDoubleSpinBox | None:
        if value is None:
            return None
        box = QDoubleSpinBox()
        # Wide limits on purpose: the physical range is core's to enforce, with its reason.
        box.setRange(-1e6, 1e6)
        box.setDecimals(decimals)
        box.setValue(float(value))
        box.setSuffix(suffix)
        return box

    def changes(self) -> dict[str, object]:
        """Only the fields the admin changed (keyword arguments of UpdateAlarmRule)."""
        out: dict[str, object] = {}
        for name, box in (("threshold", self.threshold), ("deadband", self.deadband), ("on_delay_s", self.on_delay)):
            if box is not None and box.value() != getattr(self.rule, name):
                out[name] = box.value()
        if self.priority.currentData() != getattr(self.rule, "priority"):
            out["priority"] = self.priority.currentData()
        return out
