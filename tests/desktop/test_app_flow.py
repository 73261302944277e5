"""run_desktop end to end on the real qasync loop: first run, sign-in, main window, sign-out on close.

A timer plays the operator: each tick it looks at the visible top-level window and does the next step.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from core.audit.trail import AuditFilter
from core.auth.principal import SYSTEM
from core.runtime.messages import RuntimeState
from core.runtime.runtime import Runtime
from core.services import CoreServices
from core.storage.database import Database
from desktop.app import EXIT_CANCELLED, EXIT_OK, run_desktop
from desktop.dialogs.first_admin import FirstAdminDialog
from desktop.dialogs.login import LoginDialog
from desktop.main_window import MainWindow
from tests.desktop.conftest import STRONG


class _Operator:
    def __init__(self, steps: dict[type, callable]) -> None:
        self.steps = steps
        self.seen: list[str] = []
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    def tick(self) -> None:
        for widget in QApplication.topLevelWidgets():
            step = self.steps.get(type(widget))
            if step and widget.isVisible() and not getattr(widget, "_handled", False):
                if hasattr(widget, "tasks") and widget.tasks.busy:
                    return
                widget._handled = True
                self.seen.append(type(widget).__name__)
                step(widget)
                return


def _fill_first_admin(dialog: FirstAdminDialog) -> None:
    dialog.username.setText("chief")
    dialog.display_name.setText("Chief Admin")
    dialog.fields.password.setText(STRONG)
    dialog.fields.confirm.setText(STRONG)
    QtBot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)


def _sign_in(dialog: LoginDialog) -> None:
    assert dialog.username.text() == "chief"  # prefilled after the first-run dialog
    dialog.password.setText(STRONG)
    QtBot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)


def test_first_run_sign_in_and_close(qapp, sqlite_database_url, clock, layout_settings):
    runtimes: list[Runtime] = []

    def runtime_factory() -> Runtime:
        runtimes.append(Runtime(clock, heartbeat_s=0.05))
        return runtimes[-1]

    robot = _Operator({FirstAdminDialog: _fill_first_admin, LoginDialog: _sign_in, MainWindow: lambda w: w.close()})
    code = run_desktop(lambda: CoreServices.build(Database.open(sqlite_database_url), clock=clock), runtime_factory,
                       settings=layout_settings)
    robot.timer.stop()
    assert code == EXIT_OK
    assert robot.seen == ["FirstAdminDialog", "LoginDialog", "MainWindow"]
    assert runtimes[0].state is RuntimeState.STOPPED
    assert layout_settings.contains("layout/chief/state")
    services = CoreServices.build(Database.open(sqlite_database_url), clock=clock)
    try:
        actions = [e.action for e in reversed(services.audit_log.query(SYSTEM, AuditFilter(username="chief")))]
    finally:
        services.close()
    assert actions == ["auth.login", "auth.logout"]


def test_demo_login_skips_the_dialog_and_cancelled_login_exits(qapp, sqlite_services, admin, clock, layout_settings):
    url = sqlite_services.db.url
    robot = _Operator({MainWindow: lambda w: w.close()})
    code = run_desktop(lambda: CoreServices.build(Database.open(url), clock=clock), lambda: Runtime(clock),
                       demo_login=("chief", STRONG), settings=layout_settings)
    robot.timer.stop()
    assert code == EXIT_OK and robot.seen == ["MainWindow"]

    notices: list[str] = []

    def read_and_cancel(dialog: LoginDialog) -> None:
        notices.append(dialog.message.text())
        dialog.reject()

    robot = _Operator({LoginDialog: read_and_cancel})  # wrong demo password: the dialog explains
    code = run_desktop(lambda: CoreServices.build(Database.open(url), clock=clock), lambda: Runtime(clock),
                       demo_login=("chief", "Wrong-Password-1"), settings=layout_settings)
    robot.timer.stop()
    assert code == EXIT_CANCELLED and robot.seen == ["LoginDialog"]
    assert notices == ["Demo sign-in failed: wrong user name or password"]


def test_sigterm_closes_the_window_like_the_operator_would(qapp, sqlite_services, admin, clock, layout_settings):
    """Ctrl+C in the terminal or a service manager's SIGTERM: sign-out is audited and the runtime stops."""
    import os
    import signal

    from core.audit.trail import AuditFilter

    url = sqlite_services.db.url
    runtimes: list[Runtime] = []

    def runtime_factory() -> Runtime:
        runtimes.append(Runtime(clock))
        return runtimes[-1]

    robot = _Operator({MainWindow: lambda w: os.kill(os.getpid(), signal.SIGTERM)})
    code = run_desktop(lambda: CoreServices.build(Database.open(url), clock=clock), runtime_factory,
                       demo_login=("chief", STRONG), settings=layout_settings)
    robot.timer.stop()
    assert code == EXIT_OK and robot.seen == ["MainWindow"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the app's handler is gone again
    from core.runtime.messages import RuntimeState

    assert runtimes[0].state is RuntimeState.STOPPED
    with sqlite_services.db.session() as s:
        assert sqlite_services.audit.query(s, AuditFilter(action="auth.logout", username="chief"))
