"""The main window opened on the Alarms view, as the alarm tests drive it."""

from __future__ import annotations

from desktop.main_window import MainWindow


async def open_alarms_window(qtbot, services, principal, runtime, settings, **window_options) -> MainWindow:
    """A 1440 x 900 main window for `principal`, showing Alarms, loaded. window_options go to MainWindow (e.g.
    a long pump_interval_ms where the test reads the runtime itself)."""
    window = MainWindow(services, runtime, principal, settings=settings, **window_options)
    qtbot.addWidget(window)
    window.resize(1440, 900)
    window.show()
    window.show_view("alarms")
    await window.idle()
    return window
