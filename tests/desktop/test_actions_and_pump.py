"""The action registry enables by role in one place; the event pump dispatches one batch per subscriber."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMainWindow, QToolBar

from core.auth.roles import Permission, Role
from core.runtime.messages import Heartbeat, RuntimeState, RuntimeStateChanged
from desktop.actions import ActionRegistry, ActionSpec
from desktop.event_pump import EventPump
from tests.desktop.conftest import make_user


def _registry(window: QMainWindow, calls: list[str]) -> ActionRegistry:
    registry = ActionRegistry(window)
    for action_id, permission, menu in (
        ("help.about", None, "&Help"),
        ("fleet.show", Permission.VIEW_FLEET, "&View"),
        ("device.command", Permission.COMMAND_DEVICE, "&Fleet"),
        ("users.create", Permission.MANAGE_USERS, "&Users"),
    ):
        registry.add(ActionSpec(action_id, action_id, None, permission, menu, True, lambda a=action_id: calls.append(a)))
    return registry


@pytest.mark.parametrize(
    ("role", "enabled"),
    [
        (Role.ADMIN, {"help.about", "fleet.show", "device.command", "users.create"}),
        (Role.OPERATOR, {"help.about", "fleet.show", "device.command"}),
        (Role.TRADER, {"help.about", "fleet.show"}),
        (Role.VIEWER, {"help.about", "fleet.show"}),
    ],
)
def test_registry_enables_actions_by_role(qtbot, sqlite_services, admin, role, enabled):
    principal = admin if role is Role.ADMIN else make_user(sqlite_services, admin, "pat", role)
    window = QMainWindow()
    qtbot.addWidget(window)
    calls: list[str] = []
    registry = _registry(window, calls)
    registry.apply_permissions(principal, sqlite_services.authorizer)
    assert {i for i in registry.ids() if registry.action(i).isEnabled()} == enabled


def test_context_availability_never_overrides_a_refused_permission(qtbot, sqlite_services, admin):
    viewer = make_user(sqlite_services, admin, "vera", Role.VIEWER)
    window = QMainWindow()
    qtbot.addWidget(window)
    registry = _registry(window, [])
    registry.apply_permissions(viewer, sqlite_services.authorizer)
    registry.set_available("users.create", True)
    assert not registry.action("users.create").isEnabled()
    registry.set_available("fleet.show", False)
    assert not registry.action("fleet.show").isEnabled()
    registry.set_available("fleet.show", True)
    assert registry.action("fleet.show").isEnabled()


def test_menus_and_toolbar_are_built_from_the_registry(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    calls: list[str] = []
    registry = _registry(window, calls)
    menus = registry.build_menus(window.menuBar(), ("&View", "&Help"))
    assert list(menus) == ["&View", "&Help", "&Fleet", "&Users"]
    toolbar = QToolBar()
    registry.build_toolbar(toolbar)
    assert [a.objectName() for a in toolbar.actions()] == ["help.about", "fleet.show", "device.command", "users.create"]
    menus["&Fleet"].actions()[0].trigger()
    assert calls == ["device.command"]
    with pytest.raises(ValueError, match="registered twice"):
        registry.add(ActionSpec("help.about", "again", None, None, None, False, lambda: None))


class _Source:
    def __init__(self, events):
        self.events = list(events)

    def drain_events(self, max_items=10_000):
        batch, self.events = self.events[:max_items], self.events[max_items:]
        return batch


def test_event_pump_hands_each_subscriber_one_batch(qtbot, clock):
    beats = [Heartbeat(clock.now()) for _ in range(5000)]
    states = [RuntimeStateChanged(RuntimeState.STARTING, clock.now()), RuntimeStateChanged(RuntimeState.RUNNING, clock.now())]
    source = _Source(beats[:2500] + states + beats[2500:])
    pump = EventPump(source)
    heartbeat_calls, state_calls = [], []
    pump.subscribe(Heartbeat, heartbeat_calls.append)
    pump.subscribe(RuntimeStateChanged, state_calls.append)
    pump.subscribe(RuntimeStateChanged, lambda events: 1 / 0)  # a faulty subscriber does not stop others
    assert pump.pump() == 5002
    assert len(heartbeat_calls) == 1 and len(heartbeat_calls[0]) == 5000
    assert state_calls == [states]
    assert pump.pump() == 0 and len(heartbeat_calls) == 1


def test_event_pump_timer_drains_without_being_called(qtbot, clock):
    source = _Source([Heartbeat(clock.now())])
    pump = EventPump(source, interval_ms=10)
    seen = []
    pump.subscribe(Heartbeat, seen.append)
    pump.start()
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=2000)
    pump.stop()
    assert not pump.running
