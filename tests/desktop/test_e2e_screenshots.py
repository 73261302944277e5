"""End to end, offscreen: a fresh SQLite database with demo users, sign-in through the login dialog, every
view opened as a dock, and screenshots at 1440x900 for docs/screenshots (looked at by a person)."""

from __future__ import annotations

from datetime import timedelta
import os
import tempfile
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog

from core.auth.roles import Role
from core.errors import GridRoomError
from core.runtime.runtime import Runtime
from desktop.dialogs.login import LoginDialog
from desktop.main_window import MainWindow
from desktop.theme import apply_theme
from tests.desktop.conftest import STRONG, TEMP, make_user

# The committed pictures in docs/screenshots are refreshed by scripts/screenshots.sh, which points this variable
# there; an ordinary test run writes to a temporary folder so it leaves the work tree clean.
SCREENSHOTS = Path(os.environ.get("GRIDROOM_SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="gridroom-shots-"))


def _demo_fleet_staff(services, clock) -> None:
    """The people of a small control room, with a realistic week of account activity."""
    services.users.create_first_admin("chief", STRONG, "Charlotte Chief")
    chief = services.users.authenticate("chief", STRONG, host="ctrl-ws-01")
    for name, role, display in (("otto", Role.OPERATOR, "Otto Operator"), ("olga", Role.OPERATOR, "Olga Nightshift"),
                                ("tess", Role.TRADER, "Tess Trader"), ("vera", Role.VIEWER, "Vera Viewer")):
        make_user(services, chief, name, role, display_name=display)
        clock.advance(timedelta(hours=7))
    services.users.create_user(chief, "nina", Role.VIEWER, TEMP, "Nina Newhire")
    services.users.create_user(chief, "sam", Role.OPERATOR, TEMP, "Sam Contractor")
    services.users.deactivate(chief, "sam")
    vera = services.users.authenticate("vera", STRONG, host="lobby-screen")
    try:
        services.users.create_user(vera, "intruder", Role.ADMIN, TEMP)  # refused and audited
    except GridRoomError:
        pass
    clock.advance(timedelta(minutes=20))
    for _ in range(5):  # tess is still locked out when the screenshots are taken
        try:
            services.users.authenticate("tess", "Tess-Guess-0000", host="trading-07")
        except GridRoomError:
            pass
    clock.advance(timedelta(minutes=3))


@pytest.mark.asyncio
async def test_sign_in_open_every_view_and_save_screenshots(qtbot, qapp, sqlite_services, clock, layout_settings):
    apply_theme(qapp)
    _demo_fleet_staff(sqlite_services, clock)

    login = LoginDialog(sqlite_services.users, host="ctrl-ws-01")
    qtbot.addWidget(login)
    login.show()
    qtbot.keyClicks(login.username, "chief")
    qtbot.keyClicks(login.password, STRONG)
    qtbot.mouseClick(login.sign_in_button, Qt.MouseButton.LeftButton)
    await login.tasks.idle()
    assert login.result() == QDialog.DialogCode.Accepted
    login.grab().save(str(SCREENSHOTS / "login_dialog.png"))

    runtime = Runtime(clock, heartbeat_s=0.05)
    runtime.start()
    try:
        window = MainWindow(sqlite_services, runtime, login.principal, settings=layout_settings)
        qtbot.addWidget(window)
        window.resize(1440, 900)
        window.show()
        await window.idle()
        window.pump.pump()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shots = {"fleet": "main_window.png", "users": "users_view.png", "audit": "audit_view.png"}
        for view_id, filename in shots.items():
            window.registry.action(f"view.{view_id}").trigger()
            assert not window.docks[view_id].visibleRegion().isEmpty(), f"{view_id} is not on screen"
            image = window.grab()
            assert (image.width(), image.height()) == (1440, 900)
            assert image.save(str(SCREENSHOTS / filename))
    finally:
        runtime.stop()

    users = window.views["users"]
    assert users.model.rowCount() == 7
    assert window.views["audit"].model.rowCount() > 20
    for filename in shots.values():
        assert (SCREENSHOTS / filename).stat().st_size > 20_000
    assert not QApplication.activePopupWidget()
