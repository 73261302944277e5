"""Dock layout and window geometry, saved per user so each operator gets their own arrangement back."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

from core.settings import config_dir

# Bump when the set of docks changes incompatibly, so an old saved state is ignored instead of misapplied.
LAYOUT_VERSION = 1


def default_settings() -> QSettings:
    """An INI file in GridRoom's own config folder (GRIDROOM_DATA_DIR moves it for tests)."""
    path = config_dir() / "desktop-layout.ini"
    path.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path), QSettings.Format.IniFormat)


class LayoutStore:
    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def _key(self, username: str, what: str) -> str:
        return f"layout/{username}/{what}"

    def save(self, username: str, window: QMainWindow) -> None:
        self.settings.setValue(self._key(username, "geometry"), window.saveGeometry())
        self.settings.setValue(self._key(username, "state"), window.saveState(LAYOUT_VERSION))
        self.settings.sync()

    def restore(self, username: str, window: QMainWindow) -> bool:
        """Apply the user's saved layout; False when there is none (or it is from another version)."""
        geometry = self.settings.value(self._key(username, "geometry"))
        state = self.settings.value(self._key(username, "state"))
        if isinstance(geometry, QByteArray):
            window.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            return window.restoreState(state, LAYOUT_VERSION)
        return False

    def forget(self, username: str) -> None:
        self.settings.remove(f"layout/{username}")
        self.settings.sync()
