"""The alarm actions and notification GUI under qtbot, with the real alarm engine and notification service
in a running runtime: unshelve, out of service and back, the admin rule editor refusing a bad threshold or
deadband with core's reason, the alarm-load panel, notification preferences and channel dialogs, desktop
notifications with the optional beep, and a failed notification visible in the log and the status bar.
Screenshots (-k screenshot) of the rule editor and the alarm-load panel go to GRIDROOM_SCREENSHOT_DIR."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import numpy as np
import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from core.alarms import AlarmState, CommandFailed
from core.alarms.priorities import Priority
from core.audit.trail import AuditFilter
from core.auth.roles import Role
from core.fleet.live_state import LiveState
from core.notifications.channel_settings import SECRET_NAMES, NotificationSetupService
from core.notifications.preferences import NotificationPreferenceService, UserNotificationSettings
from core.notifications.runtime_messages import DesktopNotificationPublished, EscalateNow, ReloadNotificationSetup
from core.notifications.tables import NotificationChannelRow
from core.runtime.runtime import Runtime
from desktop.dialogs.alarm_dialogs import OutOfServiceDialog
from desktop.dialogs.notification_dialogs import ChannelSettingsDialog, NotificationPreferencesDialog
from desktop.theme import apply_theme
from gridroom.alarm_runtime import AlarmRuntimeService
from gridroom.notification_runtime import NotificationRuntimeService
from tests.desktop.conftest import make_user
from tests.desktop.test_e2e_screenshots import SCREENSHOTS
from tests.desktop.alarms_window import open_alarms_window
from tests.support.qt_wait import until

QUIET_PUMP = {"pump_interval_ms": 60_000}  # the tests drive the runtime themselves

pytestmark = pytest.mark.asyncio


@pytest.fixture
def alarm_stack(sqlite_services, clock, memory_keyring):
    state = LiveState()
    state.register_battery_system("rack-1", 2, 4)
    for pack in range(2):
        temps = np.array([25.0, 58.0, 25.0, 26.0]) if pack == 1 else np.full(4, 25.0)
        state.apply_cells("rack-1", pack, np.full(4, 3.3), temps, np.full(4, 50.0), np.full(4, 99.0),
                          seen_at=clock.now().timestamp())
    state.refresh_availability(clock.now().timestamp(), 10.0, 60.0)
    alarms = AlarmRuntimeService(sqlite_services, state, ("rack-1",), period_s=3600)
    alarms.evaluate_once()
    clock.advance(11)
    alarms.evaluate_once()  # cell 2 of pack 2 at 58 C: cell_temp_high and cell_temp_critical
    for device in ("bess-7", "bess-9"):
        clock.advance(1)
        alarms.alarms.receive(CommandFailed(device, "c", "timeout: no answer within 5 s", clock.now()))
    notify = NotificationRuntimeService(sqlite_services, alarms.alarms, check_every_s=3600)
    runtime = Runtime(clock, heartbeat_s=3600)
    runtime.add_service(alarms)
    runtime.add_service(notify)
    runtime.start()
    yield runtime, alarms, notify
    runtime.stop()


async def test_operator_unshelves_and_takes_a_device_out_of_service_and_back(
        qtbot, sqlite_services, operator, alarm_stack, layout_settings, clock):
    runtime, alarms, _ = alarm_stack
    alarms.alarms.shelve(operator, "command_failed:bess-9", "radio work", clock.now() + timedelta(hours=4))
    window = await open_alarms_window(qtbot, sqlite_services, operator, runtime, layout_settings, **QUIET_PUMP)
    view = window.views["alarms"]
    view.select_ids(["command_failed:bess-9"])
    assert view.unshelve_button.isEnabled() and not view.shelve_button.isEnabled()
    qtbot.mouseClick(view.unshelve_button, Qt.MouseButton.LeftButton)
    await view.tasks.idle()
    assert alarms.alarms.engine.state_of("command_failed:bess-9") is AlarmState.ACTIVE_UNACKED
    assert view.message.text() == "Unshelved command_failed:bess-9."

    view.select_ids(["command_failed:bess-7"])
    qtbot.mouseClick(view.out_of_service_button, Qt.MouseButton.LeftButton)
    await until(lambda: view.findChild(OutOfServiceDialog) is not None)
    dialog = view.findChild(OutOfServiceDialog)
    assert dialog.device.text() == "bess-7"  # taken from the selected alarm
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert not ok.isEnabled()  # a reason is required
    qtbot.keyClicks(dialog.text, "inverter swap")
    assert ok.isEnabled()
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    await view.tasks.idle()
    assert alarms.alarms.engine.state_of("command_failed:bess-7") is AlarmState.OUT_OF_SERVICE

    view.select_ids(["command_failed:bess-7"])
    assert view.return_button.isEnabled() and not view.unshelve_button.isEnabled()
    qtbot.mouseClick(view.return_button, Qt.MouseButton.LeftButton)
    await view.tasks.idle()
    assert alarms.alarms.engine.state_of("command_failed:bess-7") is AlarmState.ACTIVE_UNACKED
    with sqlite_services.db.session() as s:
        actions = [e.action for e in sqlite_services.audit.query(s, AuditFilter(action="alarm."))]
    assert {"alarm.unshelve", "alarm.out_of_service", "alarm.return_to_service"} <= set(actions)


async def test_operator_has_no_rule_editor(qtbot, sqlite_services, operator, alarm_stack, layout_settings):
    runtime, _, _ = alarm_stack
    window = await open_alarms_window(qtbot, sqlite_services, operator, runtime, layout_settings, **QUIET_PUMP)
    view = window.views["alarms"]
    assert view.rules_panel is None
    assert [view.tabs.tabText(i) for i in range(view.tabs.count())] == ["Active", "History", "Alarm load",
                                                                         "Notifications"]
    assert not window.registry.action("notifications.channels").isEnabled()
    assert window.registry.action("notifications.preferences").isEnabled()


async def test_rule_edit_refused_with_the_reason_then_saved_and_audited_screenshot(
        qtbot, qapp, sqlite_services, admin, alarm_stack, layout_settings):
    apply_theme(qapp)
    runtime, alarms, _ = alarm_stack
    window = await open_alarms_window(qtbot, sqlite_services, admin, runtime, layout_settings, **QUIET_PUMP)
    view = window.views["alarms"]
    view.show_tab(view.rules_panel)
    panel = view.rules_panel
    await view.tasks.idle()
    panel.select_rule("cell_temp_high")
    assert panel.edit_button.isEnabled()
    qtbot.mouseClick(panel.edit_button, Qt.MouseButton.LeftButton)
    await until(lambda: panel.dialog is not None)
    dialog = panel.dialog
    assert dialog.threshold.value() == 45.0
    dialog.threshold.setValue(500.0)  # beyond the physical range of a cell temperature
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not await panel.saving
    assert "Refused" in dialog.message.text() and "threshold" in dialog.message.text() and "outside the physical range" in dialog.message.text()
    assert dialog.isVisible()  # still open: the admin corrects the value
    dialog.threshold.setValue(47.0)
    dialog.deadband.setValue(400.0)  # wider than the whole range
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not await panel.saving
    assert "deadband" in dialog.message.text()
    assert "not smaller than the range width" in dialog.message.text()
    if SCREENSHOTS:
        assert dialog.grab().save(str(SCREENSHOTS / "alarm_rule_editor.png"))
    rule = next(r for r in alarms.alarms.engine.rules if r.rule_id == "cell_temp_high")
    assert rule.threshold == 45.0  # nothing refused was applied
    dialog.deadband.setValue(3.0)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert await panel.saving
    await panel.tasks.idle()
    assert not dialog.isVisible()
    rule = next(r for r in alarms.alarms.engine.rules if r.rule_id == "cell_temp_high")
    assert (rule.threshold, rule.deadband) == (47.0, 3.0)
    with sqlite_services.db.session() as s:
        entries = sqlite_services.audit.query(s, AuditFilter(action="alarm.rule_update"))
    assert [e.result for e in entries][:3] == ["success", "failure", "failure"]
    assert entries[0].detail["new"]["threshold"] == 47.0
    row = panel.model.records().index(rule)
    assert panel.model.index(row, 2).data() == "47 C"  # the table shows the rule now in force


async def test_alarm_load_panel_shows_the_eemua_figures_screenshot(
        qtbot, qapp, sqlite_services, admin, alarm_stack, layout_settings, clock):
    apply_theme(qapp)
    runtime, alarms, _ = alarm_stack
    for i in range(14):  # a flood: with the 4 from the fixture, 18 new alarms within five minutes
        clock.advance(20)
        alarms.alarms.receive(CommandFailed(f"bess-{20 + i}", f"c{i}", "rejected", clock.now()))
    window = await open_alarms_window(qtbot, sqlite_services, admin, runtime, layout_settings, **QUIET_PUMP)
    view = window.views["alarms"]
    view.show_tab(view.load_panel)
    await view.tasks.idle()
    panel = view.load_panel
    await panel.tasks.idle()
    report = panel.report
    # 18 from the test and the fixture, plus what the runtime's own evaluation at start-up raised.
    assert report is not None and report.new_alarms >= 18
    assert panel.values["new"].text() == str(report.new_alarms)
    assert panel.values["peak"].text() == str(report.new_alarms)  # all in the last 10 minutes, one operator
    assert panel.values["floods"].text() == "1 (0.7 %)"  # 1 of 144 windows in 24 h
    assert "over what EEMUA 191 calls manageable" not in panel.verdict.text()  # the 24 h average is low
    assert panel.bad_actors.rowCount() == len(report.top_alarms) <= 10
    assert panel.bad_actors.index(0, 1).data() == report.top_alarms[0][0]
    assert "EEMUA 191" in panel.verdict.text()
    if SCREENSHOTS:
        assert window.grab().save(str(SCREENSHOTS / "alarm_load_panel.png"))


async def test_preferences_dialog_refuses_a_bad_address_then_saves_and_the_sound_follows_the_toggle(
        qtbot, sqlite_services, operator, alarm_stack, layout_settings, clock):
    runtime, alarms, _ = alarm_stack
    window = await open_alarms_window(qtbot, sqlite_services, operator, runtime, layout_settings, **QUIET_PUMP)
    window.registry.action("notifications.preferences").trigger()
    await until(lambda: window.findChild(NotificationPreferencesDialog) is not None)
    dialog = window.findChild(NotificationPreferencesDialog)
    assert not dialog.sound.isChecked()  # off by default
    dialog.email_enabled.setChecked(True)
    qtbot.keyClicks(dialog.email, "otto-at-example.org")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    await window.notifications.saving
    assert "Not saved" in dialog.message.text() and "e-mail address" in dialog.message.text() and dialog.isVisible()
    dialog.email.setText("otto@example.org")
    dialog.sound.setChecked(True)
    dialog.min_priority.setCurrentIndex(dialog.min_priority.findData(Priority.CRITICAL))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    await window.notifications.saving
    assert not dialog.isVisible()
    stored = NotificationPreferenceService(sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer,
                                           sqlite_services.clock).get(operator)
    assert (stored.email, stored.email_enabled, stored.sound_enabled, stored.min_priority) == (
        "otto@example.org", True, True, Priority.CRITICAL)

    # A new critical alarm beeps now (a new warning does not); desktop notifications addressed to this
    # user show (as a toast offscreen, where there is no tray), others' do not.
    notifier = window.notifications.notifier
    alarms.alarms.receive(CommandFailed("bess-5", "c5", "t", clock.now()))  # a warning
    window.pump.pump()
    assert notifier.beeps == 0
    temps = np.array([61.0, 25.0, 25.0, 25.0])
    alarms.live_state.apply_cells("rack-1", 0, np.full(4, 3.3), temps, np.full(4, 50.0), np.full(4, 99.0),
                                  seen_at=clock.now().timestamp())
    alarms.evaluate_once()
    clock.advance(6)  # past the 5 s on-delay of cell_temp_critical
    assert any(t.alarm_id == "cell_temp_critical:rack-1/pack01/cell01" for t in alarms.evaluate_once())
    runtime.publish(DesktopNotificationPublished(_notification("otto")))
    runtime.publish(DesktopNotificationPublished(_notification("someone-else")))
    window.pump.pump()
    assert notifier.beeps == 1
    [(title, body)] = notifier.shown
    assert title == "[GridRoom CRITICAL] cell_temp_critical:rack-1/pack02/cell02 on rack-1/pack02/cell02"
    assert "Cell temperature critical" in body
    assert notifier.tray is not None or notifier.toast.isVisible()


def _notification(recipient: str):
    from datetime import datetime, timezone

    from core.alarms.escalation import Channel
    from core.notifications.messages import AlarmNotification
    return AlarmNotification("cell_temp_critical:rack-1/pack02/cell02", Priority.CRITICAL, "rack-1/pack02/cell02",
                             "cell_temp_critical", "Cell temperature critical", datetime(2026, 1, 1, tzinfo=timezone.utc),
                             AlarmState.ACTIVE_UNACKED, recipient, Channel.DESKTOP, 0)


async def test_admin_channel_dialog_keeps_secrets_in_the_keyring_and_reloads_the_runtime(
        qtbot, sqlite_services, admin, alarm_stack, layout_settings, memory_keyring):
    runtime, _, notify = alarm_stack
    window = await open_alarms_window(qtbot, sqlite_services, admin, runtime, layout_settings, **QUIET_PUMP)
    window.registry.action("notifications.channels").trigger()
    await until(lambda: window.findChild(ChannelSettingsDialog) is not None)
    dialog = window.findChild(ChannelSettingsDialog)
    dialog.slack_enabled.setChecked(True)
    dialog.slack_url.setText("https://hooks.example.org/services/T1/B2/s3cretTOKEN")
    dialog.pd_enabled.setChecked(True)  # no routing key: refused, and said so
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    await window.notifications.saving
    assert "pagerduty: enabling it needs its routing key" in dialog.message.text()
    dialog.pd_enabled.setChecked(False)
    dialog.step_enabled[next(iter(dialog.step_enabled))].setChecked(True)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    await window.notifications.saving
    assert not dialog.isVisible()
    await window.idle()
    assert memory_keyring.store[("gridroom", SECRET_NAMES["slack"])].endswith("s3cretTOKEN")
    with sqlite_services.db.session() as s:
        rows = {r.channel: r.settings_json for r in s.execute(select(NotificationChannelRow)).scalars()}
    assert rows and all("s3cretTOKEN" not in text for text in rows.values())
    assert "slack" in notify.dispatcher.channel_names  # the runtime rebuilt its channels
    setup = NotificationSetupService(sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer,
                                     sqlite_services.clock, sqlite_services.secrets).load(admin)
    assert setup.slack.enabled and "slack" in setup.secrets_stored


async def test_a_failed_notification_shows_in_the_log_tab_and_the_status_bar(
        qtbot, sqlite_services, admin, alarm_stack, layout_settings, clock):
    runtime, alarms, notify = alarm_stack
    otto = make_user(sqlite_services, admin, "olga", Role.OPERATOR)
    NotificationSetupService(sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer, clock,
                             sqlite_services.secrets).save_escalation(admin, [("email", 0)], {"critical"})
    NotificationPreferenceService(sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer,
                                  clock).save(otto, UserNotificationSettings("olga", "olga@example.org",
                                                                             email_enabled=True))
    loop = asyncio.get_running_loop()
    logged = loop.create_future()

    def on_logged(attempts) -> None:  # the start-up check may log a desktop delivery first: wait for the failure
        if any(not a.record.ok for a in attempts):
            loop.call_soon_threadsafe(lambda: logged.done() or logged.set_result(attempts))
    notify.log_listeners.append(on_logged)
    window = await open_alarms_window(qtbot, sqlite_services, admin, runtime, layout_settings, **QUIET_PUMP)
    assert not window.status.notifications_label.isVisible()
    await asyncio.wrap_future(runtime.submit(ReloadNotificationSetup()))  # the new escalation chain
    await asyncio.wrap_future(runtime.submit(EscalateNow()))  # no e-mail channel configured: fails at once
    await asyncio.wait_for(logged, 10)
    window.pump.pump()
    view = window.views["alarms"]
    await view.tasks.idle()
    await view.notifications_panel.tasks.idle()
    assert window.status.notifications_label.isVisible()
    assert window.status.notifications_label.text() == "1 notification failed"
    assert "could not be delivered" in view.message.text()
    panel = view.notifications_panel
    assert "no email channel is configured" in panel.message.text()
    [entry] = [e for e in panel.model.records() if not e.ok]  # (a desktop delivery may be listed too)
    assert (entry.recipient, entry.channel_kind, entry.ok, entry.final) == ("olga", "email", False, True)
    assert panel.model.index(panel.model.records().index(entry), 1).data() == "Failed"
