"""Manual commands from the device detail view: through a real Runtime to a real CommandService (audit,
permissions, limits in core). The gateway is scripted, standing in for the device (the MQTT driver
is exercised against real devices in the driver tests)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt

from core.commands.history import CommandHistory
from core.commands.messages import SendDeviceCommand
from core.commands.model import CommandDeliveryError, CommandKind, CommandLimits, CommandStatus, DeviceCommand
from core.commands.service import CommandService
from core.errors import PermissionDenied
from core.fleet.context import FleetContext
from core.fleet.live_state import LiveState
from core.runtime.runtime import Runtime
from desktop.actions import ActionRegistry
from desktop.dialogs.confirm_command import ConfirmCommandDialog
from desktop.views.device_detail_view import DeviceDetailView
from tests.support.qt_wait import until

pytestmark = pytest.mark.asyncio


class ScriptedGateway:
    def __init__(self):
        self.sent: list[DeviceCommand] = []
        self.answer = None  # None: ack with readback; an exception: raise it; "hang": never answer

    async def send(self, command, command_id, timeout_s):
        self.sent.append(command)
        if self.answer == "hang":
            await asyncio.Event().wait()
        if isinstance(self.answer, Exception):
            raise self.answer
        return {"power_kw": -command.rate_kw if command.kind is CommandKind.CHARGE else command.rate_kw}


@pytest.fixture
def rig(sqlite_services, clock):
    """LiveState with two devices (one online, one offline), a CommandService behind a running Runtime."""
    live = LiveState()
    live.register("bess-1", name="Lille 1", site="Lille Depot", capacity_kwh=400.0,
                  max_charge_kw=100.0, max_discharge_kw=120.0)
    live.register("bess-off", name="Arras 2", site="Arras Yard", max_charge_kw=100.0, max_discharge_kw=100.0)
    live.apply_telemetry_batch([("bess-1", {"soc_pct": 55.0, "power_kw": 0.0, "voltage_v": 780.0,
                                            "temp_c": 24.0, "mode": 0})], time.time())
    live.mark_offline("bess-off", "connection lost")
    limits = {"bess-1": CommandLimits("bess-1", 100.0, 120.0, online=True),
              "bess-off": CommandLimits("bess-off", 100.0, 100.0, online=False,
                                        last_seen=clock.now() - timedelta(minutes=7))}
    history = CommandHistory()
    gateway = ScriptedGateway()
    service = CommandService(sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer,
                             limits.__getitem__, gateway, history, clock, timeout_s=0.2)
    runtime = Runtime(clock)
    runtime.register(SendDeviceCommand, lambda msg: service.execute(msg.actor, msg.command))
    runtime.start()
    yield type("Rig", (), dict(live=live, gateway=gateway, runtime=runtime, fleet=FleetContext(live, history),
                               limits=limits))
    runtime.stop()


async def open_detail(qtbot, rig, principal, services, device_id="bess-1") -> DeviceDetailView:
    view = DeviceDetailView(rig.fleet, rig.runtime, principal, tick_ms=3_600_000)
    qtbot.addWidget(view)
    registry = ActionRegistry(view)
    registry.add_all(view.action_specs())
    view.use_actions(registry)
    registry.apply_permissions(principal, services.authorizer)
    view.registry = registry
    await view.load_device(device_id)
    return view


async def click_and_confirm(qtbot, view, action_id: str, accept: bool = True) -> None:
    qtbot.mouseClick(view.commands.buttons[action_id], Qt.MouseButton.LeftButton)
    await until(lambda: view.commands.findChild(ConfirmCommandDialog) is not None
                and view.commands.findChild(ConfirmCommandDialog).isVisible())
    dialog = view.commands.findChild(ConfirmCommandDialog)
    assert "bess-1" in dialog.summary.text()
    dialog.accept() if accept else dialog.reject()
    await view.commands.tasks.idle()
    dialog.deleteLater()


async def test_operator_charge_is_confirmed_sent_and_acknowledged(qtbot, sqlite_services, operator, rig):
    view = await open_detail(qtbot, rig, operator, sqlite_services)
    assert view.commands.buttons["device.charge"].isEnabled()
    view.commands.rate.setValue(40.0)
    started = time.monotonic()
    await click_and_confirm(qtbot, view, "device.charge")
    assert time.monotonic() - started < 1.0
    assert rig.gateway.sent == [DeviceCommand("bess-1", CommandKind.CHARGE, 40.0)]
    text = view.commands.result.text()
    assert text.startswith("Acknowledged in") and "bess-1 confirmed: charge at 40 kW" in text
    assert "readback: power_kw -40" in text
    assert view.history_model.rowCount() == 1
    assert view.history_model.index(0, 2).data() == "acked"
    assert view.error_log.toPlainText() == ""


async def test_cancelled_confirmation_sends_nothing(qtbot, sqlite_services, operator, rig):
    view = await open_detail(qtbot, rig, operator, sqlite_services)
    await click_and_confirm(qtbot, view, "device.idle", accept=False)
    assert rig.gateway.sent == [] and view.commands.result.text().startswith("Cancelled")


async def test_viewer_sees_buttons_disabled_and_core_refuses_a_direct_call(qtbot, sqlite_services, viewer, rig):
    view = await open_detail(qtbot, rig, viewer, sqlite_services)
    assert not any(button.isEnabled() for button in view.commands.buttons.values())
    with pytest.raises(PermissionDenied):
        await asyncio.wrap_future(rig.runtime.submit(
            SendDeviceCommand(viewer, DeviceCommand("bess-1", CommandKind.DISCHARGE, 10.0))))
    assert rig.gateway.sent == []


async def test_rate_above_the_limit_or_negative_is_refused_inline_with_the_limit_named(
        qtbot, sqlite_services, operator, rig):
    view = await open_detail(qtbot, rig, operator, sqlite_services)
    view.commands.rate.setValue(150.0)
    assert "150 kW exceeds bess-1's charge limit of 100 kW" in view.commands.rate_check.text()
    qtbot.mouseClick(view.commands.buttons["device.charge"], Qt.MouseButton.LeftButton)
    await view.commands.tasks.idle()
    assert view.commands.findChild(ConfirmCommandDialog) is None  # never asked, never sent
    assert view.commands.result.text() == "Not sent: 150 kW exceeds bess-1's charge limit of 100 kW"
    view.commands.rate.setValue(-5.0)
    assert "rate must be a positive number of kW (got -5)" in view.commands.rate_check.text()
    assert rig.gateway.sent == []


async def test_core_refusal_is_shown_verbatim_when_the_gui_does_not_know_the_limits(
        qtbot, sqlite_services, operator, rig):
    rig.live.register("bess-2")  # no limits in its metadata: only core knows them
    rig.limits["bess-2"] = CommandLimits("bess-2", 50.0, 50.0, online=True)
    rig.live.apply_telemetry_batch([("bess-2", {"soc_pct": 40.0})], time.time())
    view = await open_detail(qtbot, rig, operator, sqlite_services, "bess-2")
    view.commands.rate.setValue(80.0)
    assert view.commands.rate_check.text() == ""
    await _confirm_for(qtbot, view, "device.discharge", "bess-2")
    assert view.commands.result.text() == "Refused: 80 kW exceeds bess-2's discharge limit of 50 kW"
    assert view.commands.result.kind == "error"
    assert view.history_model.index(0, 2).data() == "refused"
    assert "discharge at 80 kW refused" in view.error_log.toPlainText()


async def test_offline_device_is_refused_and_the_operator_is_told_why(qtbot, sqlite_services, operator, rig):
    view = await open_detail(qtbot, rig, operator, sqlite_services, "bess-off")
    await _confirm_for(qtbot, view, "device.idle", "bess-off", warning="offline")
    assert view.commands.result.text().startswith("Refused: bess-off is offline (last seen")
    assert "command not sent" in view.commands.result.text()
    assert rig.gateway.sent == []


async def test_timeout_and_device_rejection_are_clear(qtbot, sqlite_services, operator, rig):
    view = await open_detail(qtbot, rig, operator, sqlite_services)
    rig.gateway.answer = "hang"
    await click_and_confirm(qtbot, view, "device.discharge")
    assert view.commands.result.text() == "No answer (timeout): bess-1 did not answer within 0.2 s"
    rig.gateway.answer = CommandDeliveryError(CommandStatus.REJECTED, "bess-1 rejected: in local control")
    await click_and_confirm(qtbot, view, "device.discharge")
    assert view.commands.result.text() == "Rejected by the device: bess-1 rejected: in local control"
    assert [view.history_model.index(r, 2).data() for r in range(2)] == ["rejected", "timeout"]
    log = view.error_log.toPlainText()
    assert "timeout: bess-1 did not answer" in log and "rejected: bess-1 rejected: in local control" in log


async def _confirm_for(qtbot, view, action_id: str, device_id: str, warning: str = "") -> None:
    qtbot.mouseClick(view.commands.buttons[action_id], Qt.MouseButton.LeftButton)
    await until(lambda: view.commands.findChild(ConfirmCommandDialog) is not None)
    dialog = view.commands.findChild(ConfirmCommandDialog)
    assert device_id in dialog.summary.text()
    if warning:
        assert warning in dialog.warning.text()
    dialog.accept()
    await view.commands.tasks.idle()
