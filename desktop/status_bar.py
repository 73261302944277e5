"""The status bar: database, runtime, signed-in user, and a plain warning when secrets cannot be kept."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from core.auth.principal import Principal
from core.runtime.messages import Heartbeat, RuntimeState, RuntimeStateChanged
from desktop.summary import RUNTIME_WORDS, DatabaseSummary, local_time
from desktop.theme import Abnormal, abnormal

KEYRING_WARNING = "No secure keyring: secrets cannot be saved"


def _abnormal_style(kind: Abnormal) -> str:
    colour = abnormal(kind)
    return f"background: {colour.background}; color: {colour.text}; padding: 0 8px;"


class ControlStatusBar(QStatusBar):
    def __init__(self, principal: Principal, runtime_state: RuntimeState, keyring: tuple[bool, str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self.database_label = QLabel("Database: checking…")
        self.runtime_label = QLabel()
        self.user_label = QLabel(f"Signed in: {principal.username} ({principal.role.value})")
        self.keyring_label = QLabel(KEYRING_WARNING)
        self.notifications_label = QLabel()  # failed alarm notifications: a failure is itself visible
        self._state = runtime_state
        self._last_beat = None
        for label in (self.database_label, self.runtime_label):
            self.addWidget(label)
        self.addPermanentWidget(self.notifications_label)
        self.notifications_label.setVisible(False)
        self.notifications_label.setStyleSheet(_abnormal_style(Abnormal.WARNING))
        self.addPermanentWidget(self.keyring_label)
        self.addPermanentWidget(self.user_label)
        ok, message = keyring
        self.keyring_label.setVisible(not ok)
        self.keyring_label.setToolTip(message)
        self.keyring_label.setStyleSheet(_abnormal_style(Abnormal.WARNING))
        self._render_runtime()

    def show_database(self, summary: DatabaseSummary) -> None:
        self.database_label.setText(f"Database: {summary.one_line()}")
        self.database_label.setStyleSheet("" if summary.healthy else _abnormal_style(Abnormal.WARNING))

    def show_failed_notifications(self, count: int) -> None:
        """How many alarm notifications could not be delivered since start-up (hidden at zero)."""
        self.notifications_label.setText(f"{count} notification{'s' if count != 1 else ''} failed")
        self.notifications_label.setToolTip("Alarm notifications that could not be delivered: "
                                            "see Alarms › Notifications")
        self.notifications_label.setVisible(count > 0)

    def show_notification_problems(self, problems: tuple[str, ...]) -> None:
        """Channels the runtime had to leave out (shown as a warning until the set-up is fixed)."""
        if problems:
            self.notifications_label.setText("Notification set-up incomplete")
            self.notifications_label.setToolTip("\n".join(problems))
        self.notifications_label.setVisible(bool(problems) or self.notifications_label.text().endswith("failed"))

    # Event-pump subscribers: one call per drained batch; only the newest event matters.
    def on_runtime_state(self, events: Sequence[RuntimeStateChanged]) -> None:
        self._state = events[-1].state
        self._render_runtime()

    def on_heartbeat(self, events: Sequence[Heartbeat]) -> None:
        self._last_beat = events[-1].at
        self._render_runtime()

    def _render_runtime(self) -> None:
        text = f"Runtime: {RUNTIME_WORDS[self._state]}"
        if self._last_beat is not None and self._state is RuntimeState.RUNNING:
            text += f" · heartbeat {local_time(self._last_beat, '%H:%M:%S')}"
        self.runtime_label.setText(text)
        abnormal_state = self._state in (RuntimeState.FAILED, RuntimeState.STOPPED)
        self.runtime_label.setStyleSheet(_abnormal_style(Abnormal.CRITICAL) if abnormal_state else "")
