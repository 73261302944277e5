"""Device groups in the GUI on a real SQLite database with the real DeviceGroupService: the groups window opens
from the schedule editor (Schedules menu), operators create a group from several selected fleet devices,
remove members, rename and delete, and the editor's target picker follows; viewers see groups but every
change is disabled (and core refuses anyway); refusals (a taken name, a group a draft targets) show core's
reason and change nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget

from core.errors import PermissionDenied
from core.groups import DeviceGroupService
from core.runtime.runtime import Runtime
from core.schedules.model import Mode, ScheduleEntry, ScheduleTarget, TargetKind
from desktop.dialogs.group_dialogs import ConfirmDeleteGroupDialog, RenameGroupDialog
from desktop.views.device_groups_panel import DeviceGroupsPanel
from desktop.views.schedule_editor_view import ScheduleEditorView
from desktop.views.schedule_targets import ScheduleBackend
from tests.desktop.schedule_editor_support import open_editor
from tests.support.schedule_rig import demo_people, register_devices

pytestmark = pytest.mark.asyncio
LIMITS_KW = {"bess-a": 200.0, "bess-b": 200.0, "bess-c": 200.0, "bess-d": 100.0}


@pytest.fixture
def rig(sqlite_services):
    people = demo_people(sqlite_services)
    register_devices(sqlite_services, LIMITS_KW)
    backend = ScheduleBackend(sqlite_services)
    runtime = Runtime(sqlite_services.clock)
    runtime.start()
    yield type("Rig", (), dict(people=people, backend=backend, runtime=runtime, services=sqlite_services))
    runtime.stop()


async def open_groups(qtbot, view: ScheduleEditorView) -> DeviceGroupsPanel:
    """Schedules menu -> Device groups…, as the operator would, then wait for its first load."""
    assert view.registry.action("schedules.groups").isEnabled()
    view.registry.action("schedules.groups").trigger()
    dialog = view.groups_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.addWidget(dialog)
    await dialog.panel.tasks.idle()
    return dialog.panel


def pick(qtbot, widget: QListWidget, item) -> None:
    """Ctrl+click: add one item to the selection, as a person multi-selects."""
    widget.scrollToItem(item)
    qtbot.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     widget.visualItemRect(item).center())


async def settle(view: ScheduleEditorView, panel: DeviceGroupsPanel) -> None:
    await panel.tasks.idle()
    await view.tasks.idle()


def editor_ids(view: ScheduleEditorView) -> list[str]:
    return [view.id_box.itemText(i) for i in range(view.id_box.count())]


def apply_to_group_choices(view: ScheduleEditorView) -> list[str]:
    return [view.group_box.itemText(i) for i in range(view.group_box.count())]


async def test_an_operator_creates_a_group_of_three_removes_one_and_the_editor_lists_it(qtbot, rig):
    view = await open_editor(qtbot, rig, "operator")
    assert apply_to_group_choices(view) == []
    panel = await open_groups(qtbot, view)
    assert [panel.fleet.item(i).data(Qt.ItemDataRole.UserRole) for i in range(panel.fleet.count())] == list(LIMITS_KW)
    assert not panel.create_button.isEnabled()  # no name yet

    qtbot.keyClicks(panel.new_id, "north-sea")
    qtbot.keyClicks(panel.new_description, "North sea sites")
    for device_id in ("bess-a", "bess-b", "bess-d"):
        pick(qtbot, panel.fleet, panel.fleet_item(device_id))
    assert panel.selected_fleet_devices() == ["bess-a", "bess-b", "bess-d"]
    assert panel.create_button.isEnabled()
    qtbot.mouseClick(panel.create_button, Qt.MouseButton.LeftButton)
    await settle(view, panel)

    assert panel.message.kind == "info" and "Created group north-sea with 3 devices" in panel.message.text()
    assert panel.selected_group_id() == "north-sea"
    assert panel.member_ids() == ["bess-a", "bess-b", "bess-d"]
    assert not panel.fleet_item("bess-a").flags() & Qt.ItemFlag.ItemIsEnabled  # already a member
    assert panel.fleet_item("bess-c").flags() & Qt.ItemFlag.ItemIsEnabled
    assert panel.new_id.text() == ""
    assert apply_to_group_choices(view) == ["north-sea"]
    assert view.choices.groups == {"north-sea": ("bess-a", "bess-b", "bess-d")}

    pick(qtbot, panel.members, panel.member_item("bess-b"))
    assert panel.remove_button.isEnabled()
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    await settle(view, panel)
    assert panel.member_ids() == ["bess-a", "bess-d"]
    assert "Removed bess-b from north-sea" in panel.message.text()
    assert rig.backend.groups.members("north-sea") == ("bess-a", "bess-d")

    # The editor's target picker lists the group with its current members and checks a draft on each.
    view.kind_box.setCurrentIndex(view.kind_box.findData(TargetKind.GROUP))
    await view.tasks.idle()
    assert editor_ids(view) == ["north-sea"]
    assert view.target == ScheduleTarget.group("north-sea")
    assert view.members_label.text() == "members: bess-a, bess-d"
    assert view.choices.groups == {"north-sea": ("bess-a", "bess-d")}


async def test_adding_members_to_the_groups_the_editor_targets_checks_the_draft_on_the_new_member(qtbot, rig):
    view = await open_editor(qtbot, rig, "operator")
    panel = await open_groups(qtbot, view)
    await panel.create("north", ["bess-a"])
    await settle(view, panel)
    await view.set_target(ScheduleTarget.group("north"))
    start = rig.services.clock.now() + timedelta(hours=1)
    view.model.set_entries([ScheduleEntry(start, start + timedelta(hours=1), Mode.CHARGE, 150.0)])
    assert view.check_messages() == ["All checks pass."]

    pick(qtbot, panel.fleet, panel.fleet_item("bess-d"))  # 100 kW: too small for the 150 kW entry
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    await settle(view, panel)
    assert panel.member_ids() == ["bess-a", "bess-d"]
    assert view.target == ScheduleTarget.group("north")  # the operator's choice stays
    assert view.members_label.text() == "members: bess-a, bess-d"
    assert any("bess-d" in m and "rate_within_limit" in m for m in view.check_messages())


async def test_a_viewer_sees_groups_but_cannot_change_them(qtbot, rig):
    DeviceGroupService(rig.services.db, rig.services.audit, rig.services.authorizer, rig.services.clock).create(
        rig.people["operator"], "north", ["bess-a", "bess-c"], "North")
    view = await open_editor(qtbot, rig, "viewer")
    panel = await open_groups(qtbot, view)
    assert [(g.group_id, g.members) for g in panel.model.records()] == [("north", ("bess-a", "bess-c"))]
    panel.select("north")
    assert panel.member_ids() == ["bess-a", "bess-c"]
    pick(qtbot, panel.members, panel.member_item("bess-a"))
    pick(qtbot, panel.fleet, panel.fleet_item("bess-b"))
    qtbot.keyClicks(panel.new_id, "south")
    assert panel.read_only_note.isVisible()
    assert not panel.new_id.isEnabled() and panel.new_id.text() == ""
    for action_id in ("groups.create", "groups.add_members", "groups.remove_members", "groups.rename",
                      "groups.delete"):
        assert not panel.registry.action(action_id).isEnabled(), action_id
    assert not panel.remove_button.isEnabled() and not panel.add_button.isEnabled()
    assert panel.registry.action("groups.refresh").isEnabled()
    with pytest.raises(PermissionDenied):  # what the disabled buttons would have asked, core refuses
        rig.backend.groups.remove_members(rig.people["viewer"], "north", ["bess-a"])
    assert rig.backend.groups.members("north") == ("bess-a", "bess-c")


async def test_a_duplicate_group_name_is_refused_with_the_reason_and_nothing_changes(qtbot, rig):
    view = await open_editor(qtbot, rig, "operator")
    panel = await open_groups(qtbot, view)
    await panel.create("north", ["bess-a", "bess-b"])
    await settle(view, panel)

    qtbot.keyClicks(panel.new_id, "north")
    pick(qtbot, panel.fleet, panel.fleet_item("bess-c"))
    qtbot.mouseClick(panel.create_button, Qt.MouseButton.LeftButton)
    await settle(view, panel)
    assert panel.message.kind == "error"
    assert panel.message.isVisible() and "a device group 'north' already exists" in panel.message.text()
    assert panel.new_id.text() == "north"  # kept, to be corrected
    assert [(g.group_id, g.members) for g in panel.model.records()] == [("north", ("bess-a", "bess-b"))]
    assert rig.backend.groups.members("north") == ("bess-a", "bess-b")

    await panel.create("south", [])
    await panel.rename("south", "north")
    assert "a device group 'north' already exists" in panel.message.text()
    await panel.create("bad name", ["bess-a"])
    assert "group id 'bad name'" in panel.message.text()
    assert [g.group_id for g in panel.model.records()] == ["north", "south"]


async def test_rename_and_delete_ask_first_and_a_group_a_draft_targets_is_kept_with_the_reason(qtbot, rig):
    view = await open_editor(qtbot, rig, "operator")
    panel = await open_groups(qtbot, view)
    await panel.create("north", ["bess-a", "bess-b"])
    await settle(view, panel)
    await view.set_target(ScheduleTarget.group("north"))

    panel.registry.action("groups.rename").trigger()
    rename = await _dialog(qtbot, panel, RenameGroupDialog)
    rename.new_id.setText("north-sea")
    rename.accept()
    await settle(view, panel)
    assert [g.group_id for g in panel.model.records()] == ["north-sea"]
    assert view.target == ScheduleTarget.group("north-sea")  # the renamed group took the old one's place
    assert editor_ids(view) == ["north-sea"]

    start = rig.services.clock.now() + timedelta(hours=1)
    rig.backend.schedules.create_draft(rig.people["operator"], ScheduleTarget.group("north-sea"),
                                       [ScheduleEntry(start, start + timedelta(hours=1), Mode.CHARGE, 50.0)])
    panel.registry.action("groups.delete").trigger()
    confirm = await _dialog(qtbot, panel, ConfirmDeleteGroupDialog)
    confirm.accept()
    await settle(view, panel)
    assert panel.message.kind == "error"
    assert "group north-sea cannot be deleted: schedule version 1 (draft) targets it" in panel.message.text()
    assert [g.group_id for g in panel.model.records()] == ["north-sea"]

    await panel.create("south", ["bess-c"])
    await settle(view, panel)
    panel.select("south")
    panel.registry.action("groups.delete").trigger()
    (await _dialog(qtbot, panel, ConfirmDeleteGroupDialog)).accept()
    await settle(view, panel)
    assert "Deleted group south" in panel.message.text()
    assert [g.group_id for g in panel.model.records()] == ["north-sea"]
    assert apply_to_group_choices(view) == ["north-sea"]


async def _dialog(qtbot, panel: DeviceGroupsPanel, kind):
    """The dialog an interactive action opened (run_dialog shows it window-modally, without a nested loop)."""
    for _ in range(50):
        found = [w for w in panel.findChildren(kind) if w.isVisible()]
        if found:
            qtbot.addWidget(found[0])
            return found[0]
        await asyncio.sleep(0)  # let the action's task reach run_dialog: a loop turn, not a timed wait
    raise AssertionError(f"no {kind.__name__} opened")
