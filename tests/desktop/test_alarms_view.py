"""Alarm view under qtbot with the real alarm engine in a running runtime: acknowledge many, shelving needs
a reason, and the banner shows unacknowledged critical alarms until they are acknowledged."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from core.alarms import AlarmState, CommandFailed
from core.fleet.live_state import LiveState
from core.runtime.runtime import Runtime
from desktop.dialogs.alarm_dialogs import ShelveDialog
from desktop.theme import apply_theme
from tests.desktop.alarms_window import open_alarms_window
from gridroom.alarm_runtime import AlarmRuntimeService

pytestmark = pytest.mark.asyncio


@pytest.fixture
def alarm_runtime(sqlite_services, clock):
    state = LiveState()
    state.register_battery_system("rack-1", 2, 4)
    for pack in range(2):
        temps = np.array([25.0, 58.0, 25.0, 26.0]) if pack == 1 else np.full(4, 25.0)
        state.apply_cells("rack-1", pack, np.full(4, 3.3), temps, np.full(4, 50.0), np.full(4, 99.0),
                          seen_at=clock.now().timestamp())
    state.refresh_availability(clock.now().timestamp(), 10.0, 60.0)
    service = AlarmRuntimeService(sqlite_services, state, ("rack-1",))
    service.evaluate_once()
    clock.advance(11)
    service.evaluate_once()  # cell 2 of pack 2 at 58 C: cell_temp_high and cell_temp_critical
    for device in ("bess-7", "bess-9"):
        clock.advance(1)
        service.alarms.receive(CommandFailed(device, "c", "timeout: no answer within 5 s", clock.now()))
    runtime = Runtime(clock, heartbeat_s=0.05)
    runtime.add_service(service)
    runtime.start()
    yield runtime, service
    runtime.stop()


async def test_operator_acknowledges_many_and_the_critical_banner_goes_away(
        qtbot, qapp, sqlite_services, operator, alarm_runtime, layout_settings):
    apply_theme(qapp)
    runtime, service = alarm_runtime
    window = await open_alarms_window(qtbot, sqlite_services, operator, runtime, layout_settings)
    view = window.views["alarms"]
    ids = view.model.alarm_ids()
    assert ids[0] == "cell_temp_critical:rack-1/pack02/cell02"  # critical first, then newest first
    assert ids[1:] == ["command_failed:bess-9", "command_failed:bess-7", "cell_temp_high:rack-1/pack02/cell02"]
    assert window.alarm_banner_bar.isVisible() and window.alarm_banner.count == 1
    assert window.alarm_banner.label.text() == "1 critical alarm not acknowledged"
    shots = os.environ.get("GRIDROOM_SCREENSHOT_DIR")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        assert window.grab().save(str(Path(shots) / "alarms_view.png"))

    view.select_ids([ids[0], ids[1]])
    assert view.ack_button.isEnabled() and not view.shelve_button.isEnabled()
    qtbot.mouseClick(view.ack_button, Qt.MouseButton.LeftButton)
    await view.tasks.idle()
    assert service.alarms.engine.state_of(ids[0]) is AlarmState.ACTIVE_ACKED
    assert service.alarms.engine.state_of(ids[1]) is AlarmState.ACTIVE_ACKED
    assert service.alarms.engine.state_of(ids[2]) is AlarmState.ACTIVE_UNACKED
    assert not window.alarm_banner_bar.isVisible()

    view.device_filter.setText("bess-7")
    assert view.model.alarm_ids() == ["command_failed:bess-7"]
    view.device_filter.clear()
    view.tabs.setCurrentIndex(1)
    await view.tasks.idle()
    assert any(t.user == "otto" and t.cause.value == "acknowledge" for t in view.history_model._rows)


async def test_shelving_needs_a_reason(qtbot, sqlite_services, operator, alarm_runtime, layout_settings, clock):
    runtime, service = alarm_runtime
    window = await open_alarms_window(qtbot, sqlite_services, operator, runtime, layout_settings)
    view = window.views["alarms"]
    dialog = ShelveDialog("command_failed:bess-7", view)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    qtbot.keyClicks(dialog.text, "   ")
    assert not ok.isEnabled()
    qtbot.keyClicks(dialog.text, "radio link work")
    assert ok.isEnabled()
    reason, until = dialog.values(clock.now())
    assert await view.shelve("command_failed:bess-7", reason, until)
    assert service.alarms.engine.state_of("command_failed:bess-7") is AlarmState.SHELVED
    # The core refuses an empty reason too, and the view says why.
    assert not await view.shelve("command_failed:bess-9", " ", until)
    assert "reason" in view.message.text().lower()


async def test_viewer_sees_alarms_without_action_buttons(qtbot, sqlite_services, viewer, alarm_runtime, layout_settings):
    runtime, _ = alarm_runtime
    window = await open_alarms_window(qtbot, sqlite_services, viewer, runtime, layout_settings)
    view = window.views["alarms"]
    assert view.model.rowCount() == 4
    assert not view.ack_button.isVisible() and not view.ack_button.isEnabled()
