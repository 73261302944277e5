"""Desktop start-up: Qt application on the qasync loop, first-run admin, sign-in, password change,
main window; on close: save the layout, sign out (audited), stop the runtime."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from typing import Callable

import qasync
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox
from pyqtgraph.util.garbage_collector import GarbageCollector

from core.auth.principal import Principal
from core.errors import GridRoomError
from core.fleet.context import FleetContext
from core.runtime.runtime import Runtime
from core.services import CoreServices
from desktop.dialogs.change_password import ChangePasswordDialog
from desktop.dialogs.first_admin import FirstAdminDialog
from desktop.dialogs.login import LoginDialog
from desktop.main_window import MainWindow
from desktop.tasks import call_core, run_dialog
from desktop.theme import apply_theme

log = logging.getLogger(__name__)

EXIT_OK, EXIT_CANCELLED, EXIT_FAILED = 0, 1, 2


class DesktopSession:
    """One sign-in to close, as a coroutine on the Qt loop. Testable without run_desktop."""

    def __init__(self, services_factory: Callable[[], CoreServices], runtime_factory: Callable[[], Runtime], *,
                 demo_login: tuple[str, str] | None = None, settings: QSettings | None = None,
                 fleet: FleetContext | None = None) -> None:
        self.fleet = fleet
        self.services_factory = services_factory
        self.runtime_factory = runtime_factory
        self.demo_login = demo_login
        self.settings = settings
        self.services: CoreServices | None = None
        self.runtime: Runtime | None = None
        self.window: MainWindow | None = None

    async def run(self) -> int:
        try:
            self.services = services = await call_core(self.services_factory)
        except GridRoomError as exc:  # unreachable server, corrupt file, newer schema: say so and stop
            await self._fatal("GridRoom cannot open its database", str(exc))
            return EXIT_FAILED
        try:
            principal = await self._sign_in(services)
            if principal is None:
                return EXIT_CANCELLED
            return await self._run_main_window(services, principal)
        finally:
            await call_core(services.close)

    async def _sign_in(self, services: CoreServices) -> Principal | None:
        username, notice = "", ""
        if not await call_core(services.users.has_admin):
            first = FirstAdminDialog(services.users)
            if not await run_dialog(first):
                return None
            username, notice = first.created.username, "Administrator created. Sign in with the new password."
        principal = None
        if self.demo_login is not None:
            try:
                principal = await call_core(services.users.authenticate, *self.demo_login)
            except GridRoomError as exc:
                username, notice = self.demo_login[0], f"Demo sign-in failed: {exc}"
        if principal is None:
            login = LoginDialog(services.users, username=username, notice=notice)
            if not await run_dialog(login):
                return None
            principal = login.principal
        if principal.must_change_password:
            change = ChangePasswordDialog(services.users, principal, required=True)
            if not await run_dialog(change):
                await call_core(services.users.logout, principal)
                return None
            principal = change.principal
        return principal

    async def _run_main_window(self, services: CoreServices, principal: Principal) -> int:
        self.runtime = runtime = self.runtime_factory()
        try:
            await call_core(runtime.start)
        except RuntimeError as exc:
            await self._fatal("The GridRoom runtime did not start", str(exc))
            await call_core(services.users.logout, principal)
            return EXIT_FAILED
        closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.window = window = MainWindow(services, runtime, principal, settings=self.settings, fleet=self.fleet)
        window.closed.connect(lambda: closed.done() or closed.set_result(None))
        window.show()
        if os.environ.get("GRIDROOM_STARTUP_PROBE"):
            # benchmarks/startup.py: say when the first frame is up, then close as an operator would.
            QTimer.singleShot(0, lambda: (print("gridroom: window shown", flush=True), window.close()))
        try:
            await closed
            await window.idle()
        finally:
            await call_core(services.users.logout, principal)
            await call_core(runtime.stop)
        return EXIT_OK

    def request_quit(self) -> None:
        """Ctrl+C or SIGTERM: close like the operator would (sign-out audited, runtime stopped, layout saved)."""
        if self.window is not None:
            self.window.close()
            return
        for widget in QApplication.topLevelWidgets():  # a sign-in dialog: cancel it, which ends the session
            if isinstance(widget, QDialog) and widget.isVisible():
                widget.reject()

    async def _fatal(self, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Critical, title, text)
        await run_dialog(box)


def run_desktop(services_factory: Callable[[], CoreServices], runtime_factory: Callable[[], Runtime], *,
                demo_login: tuple[str, str] | None = None, settings: QSettings | None = None,
                fleet: FleetContext | None = None, gui_thread_gc: bool = False) -> int:
    """Run the desktop app until the main window closes (or sign-in is cancelled); returns the exit code.

    `services_factory` opens the database (it runs off the GUI thread); `runtime_factory` builds an
    unstarted Runtime; `demo_login` signs in without the dialog (falls back to it on failure); `fleet` is
    the live picture and fleet services the fleet, device and battery views read (None: empty views).
    `gui_thread_gc` (the real app, not tests that share one process) moves garbage collection onto a GUI timer.
    """
    app = QApplication.instance() or QApplication(sys.argv)
    # Python collects cycles in whichever thread allocates when a threshold is crossed; here that is often the
    # runtime or a worker thread, and a widget freed there makes Qt delete it off the GUI thread (a crash).
    # pyqtgraph's collector turns automatic collection off and collects on a GUI timer instead.
    collector = GarbageCollector(interval=0.25) if gui_thread_gc else None
    app.setApplicationName("GridRoom")
    apply_theme(app)
    # The flow closes dialogs before the main window exists; that must not end the application.
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    session = DesktopSession(services_factory, runtime_factory, demo_login=demo_login, settings=settings,
                             fleet=fleet)
    previous = {sig: signal.signal(sig, lambda *_: QTimer.singleShot(0, session.request_quit))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return loop.run_until_complete(session.run())
    finally:
        if collector is not None:
            collector.timer.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        asyncio.set_event_loop(None)
        loop.close()
