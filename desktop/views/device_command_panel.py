"""Manual commands for the device shown in the detail view: charge / discharge at X kW, idle, maintenance.

The flow of one command: inline check against the device's known limits (the same rule text core uses)
-> confirmation naming device, action and rate -> SendDeviceCommand through the runtime to CommandService
(permission, limits, availability and audit are core's) -> the outcome, in words, within a second.
Enablement by role comes from the ActionRegistry (Permission.COMMAND_DEVICE), never from this panel.
"""

from __future__ import annotations

import asyncio
import math
from typing import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDoubleSpinBox, QGridLayout, QHBoxLayout, QLabel, QToolButton, QWidget

from core.auth.principal import Principal
from core.auth.roles import Permission
from core.commands.checks import refusal_reason
from core.commands.messages import SendDeviceCommand
from core.commands.model import CommandKind, CommandLimits, CommandOutcome, CommandRefused, CommandStatus, DeviceCommand
from core.errors import GridRoomError
from core.runtime.runtime import Runtime, RuntimeNotRunning
from desktop.actions import ActionRegistry, ActionSpec
from desktop.dialogs.confirm_command import ConfirmCommandDialog
from desktop.models.device_directory import DeviceMeta
from desktop.tasks import UiTasks, run_dialog
from desktop.theme import Abnormal, abnormal
from desktop.widgets.message_area import MessageArea

COMMAND_ACTIONS = {
    "device.charge": (CommandKind.CHARGE, "Charge…"),
    "device.discharge": (CommandKind.DISCHARGE, "Discharge…"),
    "device.idle": (CommandKind.IDLE, "Idle…"),
    "device.maintenance": (CommandKind.MAINTENANCE, "Set maintenance…"),
}
FAILURE_WORDS = {CommandStatus.REJECTED: "Rejected by the device", CommandStatus.TIMEOUT: "No answer (timeout)",
                 CommandStatus.FAILED: "Failed"}


class DeviceCommandPanel(QWidget):
    command_finished = Signal(object)  # CommandOutcome (or None when refused before sending)

    def __init__(self, runtime: Runtime, principal: Principal, device_state: Callable[[], tuple[bool, bool]],
                 parent: QWidget | None = None) -> None:
        """device_state() -> (online, in_maintenance) of the shown device, from LiveState."""
        super().__init__(parent)
        self.runtime = runtime
        self.principal = principal
        self.device_state = device_state
        self.tasks = UiTasks()
        self.device: DeviceMeta | None = None
        self.registry: ActionRegistry | None = None
        self.last_outcome: CommandOutcome | None = None
        self.rate = QDoubleSpinBox()
        self.rate.setRange(-100_000, 100_000)  # out-of-range input is explained, not silently clamped
        self.rate.setDecimals(1)
        self.rate.setSuffix(" kW")
        self.rate.setValue(10.0)
        self.rate_check = QLabel("")
        self.rate_check.setWordWrap(True)
        self.rate_check.setStyleSheet(f"color: {abnormal(Abnormal.CRITICAL).ink};")
        self.limits_label = QLabel("Limits: —")
        self.limits_label.setObjectName("muted")
        self.result = MessageArea()
        self.buttons: dict[str, QToolButton] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(QLabel("Rate"), 0, 0)
        grid.addWidget(self.rate, 0, 1)
        grid.addWidget(self.limits_label, 0, 2, 1, 3)
        row = QHBoxLayout()
        for action_id in COMMAND_ACTIONS:
            button = QToolButton()
            button.setText(COMMAND_ACTIONS[action_id][1])
            button.setEnabled(False)  # until the registry says the role may command
            self.buttons[action_id] = button
            row.addWidget(button)
        row.addStretch(1)
        grid.addLayout(row, 1, 0, 1, 5)
        grid.addWidget(self.rate_check, 2, 0, 1, 5)
        grid.addWidget(self.result, 3, 0, 1, 5)
        grid.setColumnStretch(5, 1)
        self.rate.valueChanged.connect(lambda _v: self._check_rate())

    # -- actions ---------------------------------------------------------------------------------
    def action_specs(self) -> list[ActionSpec]:
        return [ActionSpec(action_id, title, None, Permission.COMMAND_DEVICE, "Co&mmands", False,
                           lambda kind=kind: self.request(kind), f"{kind.value.capitalize()} the shown device")
                for action_id, (kind, title) in COMMAND_ACTIONS.items()]

    def use_actions(self, registry: ActionRegistry) -> None:
        self.registry = registry
        for action_id, button in self.buttons.items():
            button.setDefaultAction(registry.action(action_id))
        self._update_availability()

    def _update_availability(self, busy: bool = False) -> None:
        if self.registry is not None:
            for action_id in COMMAND_ACTIONS:
                self.registry.set_available(action_id, self.device is not None and not busy)

    # -- device ----------------------------------------------------------------------------------
    def show_device(self, meta: DeviceMeta | None) -> None:
        self.device = meta
        if meta is not None and meta.limits_known:
            self.limits_label.setText(f"Limits: charge ≤ {meta.max_charge_kw:g} kW, discharge ≤ {meta.max_discharge_kw:g} kW")
        else:
            self.limits_label.setText("Limits: checked by GridRoom when sent")
        self.result.clear_message()
        self._check_rate()
        self._update_availability()

    def inline_refusal(self, kind: CommandKind) -> str | None:
        """The rule core would apply, on the limits known here (None when it may be asked)."""
        if self.device is None:
            return "no device is shown"
        rate = self.rate.value() if kind.needs_rate else 0.0
        _online, maintenance = self.device_state()
        return refusal_reason(DeviceCommand(self.device.device_id, kind, rate), _limits(self.device, maintenance))

    def _check_rate(self) -> None:
        reasons = {self.inline_refusal(k) for k in (CommandKind.CHARGE, CommandKind.DISCHARGE)} - {None}
        self.rate_check.setText("\n".join(sorted(reasons)) if self.device is not None else "")

    # -- the command flow ------------------------------------------------------------------------
    def request(self, kind: CommandKind) -> None:
        self.tasks.start(self.send(kind))

    async def send(self, kind: CommandKind) -> None:
        if self.device is None:
            return
        reason = self.inline_refusal(kind)
        if reason is not None:
            self.result.show_error(f"Not sent: {reason}")
            self.command_finished.emit(None)
            return
        command = DeviceCommand(self.device.device_id, kind, self.rate.value() if kind.needs_rate else 0.0)
        online, _ = self.device_state()
        warning = "" if online else "The device is offline: GridRoom will refuse the command, or queue it if " \
                                    "the device accepts queued commands."
        dialog = ConfirmCommandDialog(command, self.device.name, warning, self)
        if not await run_dialog(dialog):
            self.result.show_info(f"Cancelled: {command.describe()} was not sent.")
            return
        self._update_availability(busy=True)
        self.result.show_info(f"Sending {command.describe()} to {command.device_id}…")
        try:
            outcome = await asyncio.wrap_future(self.runtime.submit(SendDeviceCommand(self.principal, command)))
        except CommandRefused as exc:  # core's own words, verbatim: they name the limit
            self.result.show_error(f"Refused: {exc}")
            outcome = exc.outcome
        except (GridRoomError, RuntimeNotRunning) as exc:  # PermissionDenied, runtime stopped, ...
            self.result.show_error(f"Not sent: {exc}")
            outcome = None
        else:
            self._show_outcome(outcome)
        finally:
            self._update_availability(busy=False)
        self.last_outcome = outcome
        self.command_finished.emit(outcome)

    def _show_outcome(self, outcome: CommandOutcome) -> None:
        latency = f"{outcome.latency_s:.2f} s"
        if outcome.status is CommandStatus.ACKED:
            readback = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in outcome.readback.items())
            self.result.show_info(f"Acknowledged in {latency}: {outcome.message}" + (f" (readback: {readback})" if readback else ""))
        elif outcome.status is CommandStatus.QUEUED:
            self.result.show_warning(f"Queued: {outcome.message}")
        else:
            self.result.show_error(f"{FAILURE_WORDS.get(outcome.status, outcome.status.value)}: {outcome.message}")


def _limits(meta: DeviceMeta, in_maintenance: bool) -> CommandLimits:
    inf = math.inf
    return CommandLimits(meta.device_id, meta.max_charge_kw if meta.limits_known else inf,
                         meta.max_discharge_kw if meta.limits_known else inf, online=True, in_maintenance=in_maintenance)
