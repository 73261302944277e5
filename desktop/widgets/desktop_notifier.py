"""Desktop notifications: a system-tray message when the desktop has a tray, otherwise (offscreen, some
kiosks) a toast inside the main window; plus the optional beep for new critical alarms."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QStyle, QSystemTrayIcon, QVBoxLayout, QWidget

from desktop.theme import Abnormal, abnormal

TOAST_MS = 10_000


class Toast(QFrame):
    """A message in the bottom-right corner of its window that hides itself (or on click)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("toast")
        self.title = QLabel()
        self.body = QLabel()
        self.body.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(self.title)
        layout.addWidget(self.body)
        self.setFixedWidth(380)
        self._timer = QTimer(self, singleShot=True, interval=TOAST_MS)
        self._timer.timeout.connect(self.hide)
        window.installEventFilter(self)
        self.hide()

    def show_message(self, title: str, body: str, critical: bool) -> None:
        colour = abnormal(Abnormal.CRITICAL if critical else Abnormal.WARNING)
        self.setStyleSheet(f"#toast {{ background: {colour.background}; border: 1px solid {colour.text}; }}"
                           f"QLabel {{ color: {colour.text}; }}")
        self.title.setText(f"<b>{title}</b>")
        self.body.setText(body)
        self.adjustSize()
        self._place()
        self.show()
        self.raise_()
        self._timer.start()

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False

    def _place(self) -> None:
        parent = self.parentWidget()
        margin = 16 + (parent.statusBar().height() if hasattr(parent, "statusBar") else 0)
        self.move(parent.width() - self.width() - 16, parent.height() - self.height() - margin)


class DesktopNotifier(QObject):
    """Shows alarm notifications to the signed-in user, in the tray or as a toast."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.toast = Toast(window)
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            icon = window.windowIcon()
            if icon.isNull():
                icon = window.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            self.tray = QSystemTrayIcon(icon, self)
            self.tray.setToolTip("GridRoom alarms")
            self.tray.show()
        self.shown: list[tuple[str, str]] = []  # (title, body), newest last: what the user was told
        self.beeps = 0

    def notify(self, title: str, body: str, critical: bool) -> None:
        self.shown.append((title, body))
        if self.tray is not None:
            icon = QSystemTrayIcon.MessageIcon.Critical if critical else QSystemTrayIcon.MessageIcon.Warning
            self.tray.showMessage(title, body, icon, TOAST_MS)
        else:
            self.toast.show_message(title, body, critical)

    def beep(self) -> None:
        """The optional sound for a new critical alarm (the platform's alert sound)."""
        self.beeps += 1
        QApplication.beep()



