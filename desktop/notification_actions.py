"""The main window's notification side: the "Notification preferences…" and "Notification channels…"
actions, desktop notifications for the signed-in user (tray or toast), the optional beep for new critical
alarms, and the status-bar count of failed notifications."""

from __future__ import annotations

import asyncio
from typing import Sequence

from PySide6.QtCore import QObject

from core.alarms.messages import AlarmTransitionsPublished
from core.alarms.priorities import Priority
from core.alarms.states import AlarmState
from core.alarms.transitions import TransitionCause
from core.auth.roles import Permission
from core.notifications.channel_settings import NotificationSetupService
from core.notifications.messages import render_short, render_subject
from core.notifications.preferences import NotificationPreferenceService, UserNotificationSettings
from core.notifications.runtime_messages import (
    DesktopNotificationPublished,
    NotificationFailurePublished,
    NotificationSetupProblems,
    ReloadNotificationSetup,
)
from desktop.actions import ActionSpec
from desktop.dialogs.notification_dialogs import ChannelSettingsDialog, NotificationPreferencesDialog
from desktop.tasks import call_core, run_dialog
from desktop.widgets.desktop_notifier import DesktopNotifier


class NotificationActions(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        s = window.services
        self.principal = window.principal
        self.preferences = NotificationPreferenceService(s.db, s.audit, s.authorizer, s.clock)
        self.setup = NotificationSetupService(s.db, s.audit, s.authorizer, s.clock, s.secrets)
        self.mine = UserNotificationSettings(self.principal.username)
        self.notifier = DesktopNotifier(window)
        self.dialog: NotificationPreferencesDialog | ChannelSettingsDialog | None = None
        self.saving: asyncio.Task | None = None  # the last save started from a dialog
        window.registry.add_all([
            ActionSpec("notifications.preferences", "Notification &preferences…", None, Permission.VIEW_FLEET,
                       "&File", False, lambda: window.tasks.start(self.edit_preferences()),
                       "Choose how alarms reach you: desktop, e-mail, SMS, minimum priority, sound"),
            ActionSpec("notifications.channels", "Notification &channels…", None, Permission.MANAGE_SETTINGS,
                       "&File", False, lambda: window.tasks.start(self.edit_channels()),
                       "Set up SMTP, webhooks, the SMS gateway and the escalation chain"),
        ])
        pump = window.pump
        pump.subscribe(DesktopNotificationPublished, self.on_desktop_notifications)
        pump.subscribe(AlarmTransitionsPublished, self.on_alarm_transitions)
        pump.subscribe(NotificationFailurePublished,
                       lambda events: window.status.show_failed_notifications(events[-1].failed_total))
        pump.subscribe(NotificationSetupProblems, lambda events: window.status.show_notification_problems(
            events[-1].problems))

    async def load(self) -> None:
        """Read the signed-in user's preferences (desktop on/off, sound)."""
        try:
            self.mine = await call_core(self.preferences.get, self.principal)
        except Exception:  # e.g. a device identity: keep the defaults, never block the window
            pass

    # -- runtime events --------------------------------------------------------------------------
    def on_desktop_notifications(self, events: Sequence[DesktopNotificationPublished]) -> None:
        mine = [e.notification for e in events if e.notification.recipient == self.principal.username]
        if not mine or not self.mine.desktop_enabled:
            return
        last = mine[-1]
        body = render_short(last, 300) + (f"\n(and {len(mine) - 1} more)" if len(mine) > 1 else "")
        self.notifier.notify(render_subject(last), body, last.priority is Priority.CRITICAL)

    def on_alarm_transitions(self, events: Sequence[AlarmTransitionsPublished]) -> None:
        if not self.mine.sound_enabled:
            return
        new_critical = any(t.to_state is AlarmState.ACTIVE_UNACKED and t.priority is Priority.CRITICAL
                           and t.cause is TransitionCause.CONDITION_ACTIVE
                           for e in events for t in e.transitions)
        if new_critical:
            self.notifier.beep()

    # -- dialogs ----------------------------------------------------------------------------------
    async def edit_preferences(self) -> bool:
        current = await call_core(self.preferences.get, self.principal)
        dialog = NotificationPreferencesDialog(current, self.window)
        self.dialog = dialog
        dialog.save_requested.connect(lambda: self._start_save(self._save_preferences(dialog)))
        accepted = await run_dialog(dialog)
        self.dialog = None
        return accepted

    def _start_save(self, coro) -> None:
        self.saving = self.window.tasks.start(coro)

    async def _save_preferences(self, dialog: NotificationPreferencesDialog) -> None:
        try:
            self.mine = await call_core(self.preferences.save, self.principal, dialog.settings())
        except Exception as exc:  # the reason names the field
            dialog.message.show_error(f"Not saved: {exc}")
            return
        dialog.accept()
        self.window.status.showMessage("Notification preferences saved.", 5000)

    async def edit_channels(self) -> bool:
        setup = await call_core(self.setup.load, self.principal)
        dialog = ChannelSettingsDialog(setup, self.window.services.secrets.available()[0], self.window)
        self.dialog = dialog
        dialog.save_requested.connect(lambda: self._start_save(self._save_channels(dialog)))
        accepted = await run_dialog(dialog)
        self.dialog = None
        return accepted

    async def _save_channels(self, dialog: ChannelSettingsDialog) -> None:
        steps, priorities = dialog.escalation()

        def save() -> None:
            for settings, secret in dialog.channel_settings():
                self.setup.save_channel(self.principal, settings, secret)
            self.setup.save_escalation(self.principal, steps, priorities)

        try:
            await call_core(save)
        except Exception as exc:
            dialog.message.show_error(f"Not saved: {exc}")
            return
        try:
            problems = await asyncio.wrap_future(self.window.runtime.submit(ReloadNotificationSetup()))
        except Exception as exc:  # no notification service in this runtime: applies at the next start
            problems = (f"saved; applies when the runtime restarts ({exc})",)
        dialog.accept()
        self.window.status.show_notification_problems(tuple(problems))
        self.window.status.showMessage("Notification channels saved." if not problems else
                                       "Notification channels saved with problems: " + "; ".join(problems), 10000)
