"""The schedule editor on a real SQLite database, real ScheduleService, DeviceGroupService and a real Runtime:
checks while typing (naming entry and rule), table and timeline showing one model, copy day, shift, group apply,
import refusals with their line, and approve-then-distribute by role (core refuses whatever the buttons say).
The runtime's sender is scripted, standing in for the broker (tests/gridroom covers the real one)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from core.errors import PermissionDenied
from core.groups import DeviceGroupService
from core.runtime.runtime import Runtime
from core.schedules.distribution import distribute
from core.schedules.messages import DistributeSchedule
from core.schedules.model import Mode, ScheduleEntry, ScheduleState, ScheduleTarget, TargetKind
from core.schedules.records import DeliveryState
from desktop.models.schedule_draft_model import END, MODE, RATE, START
from desktop.views.schedule_targets import ScheduleBackend
from tests.desktop.schedule_editor_support import open_editor
from tests.support.schedule_rig import demo_people, register_devices

pytestmark = pytest.mark.asyncio
UTC = timezone.utc
LIMITS_KW = {"bess-a": 200.0, "bess-b": 200.0, "bess-small": 50.0}


def at(hour: float, day: int = 1) -> datetime:
    return datetime(2026, 1, day, tzinfo=UTC) + timedelta(hours=hour)


class ScriptedSender:
    """Stands in for the broker: every device accepts, except those named in `refuse`."""

    def __init__(self):
        self.sent: list[tuple[tuple[str, ...], int]] = []
        self.refuse: set[str] = set()

    async def __call__(self, device_ids, record):
        self.sent.append((tuple(device_ids), record.version))
        return {d: ("broker refused" if d in self.refuse else None) for d in device_ids}


@pytest.fixture
def rig(sqlite_services):
    people = demo_people(sqlite_services)
    register_devices(sqlite_services, LIMITS_KW)
    DeviceGroupService(sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer,
                       sqlite_services.clock).create(people["operator"], "north", ["bess-a", "bess-small"])
    backend = ScheduleBackend(sqlite_services)
    sender = ScriptedSender()
    runtime = Runtime(sqlite_services.clock)
    runtime.register(DistributeSchedule,
                     lambda msg: distribute(backend.schedules, msg.actor, msg.schedule_row_id, sender))
    runtime.start()
    yield type("Rig", (), dict(people=people, backend=backend, sender=sender, runtime=runtime,
                               services=sqlite_services))
    runtime.stop()


def enabled(view, action_id: str) -> bool:
    return view.registry.action(action_id).isEnabled()


def type_into(qtbot, view, row: int, column: int, text: str) -> QLineEdit:
    """Open the cell's editor, clear it and type, without committing (checks must follow each keystroke)."""
    index = view.model.index(row, column)
    view.table.setCurrentIndex(index)
    view.table.edit(index)
    editor = view.table.indexWidget(index)
    assert isinstance(editor, QLineEdit)
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    qtbot.keyClicks(editor, text)
    return editor


async def test_typing_an_overlapping_entry_names_the_entry_and_the_rule_while_typing(qtbot, rig):
    view = await open_editor(qtbot, rig)
    assert view.target == ScheduleTarget.device("bess-a")
    view.model.set_entries([ScheduleEntry(at(2), at(4), Mode.CHARGE, 100.0),
                            ScheduleEntry(at(4), at(5), Mode.DISCHARGE, 80.0)])
    assert view.check_messages() == ["All checks pass."]
    assert enabled(view, "schedules.propose")
    editor = type_into(qtbot, view, 1, START, "2026-01-01 03:30")
    assert editor.isVisible()  # still typing: nothing was committed with Enter
    messages = view.check_messages()
    assert any("entry 2 (2026-01-01 03:30-05:00 UTC) overlaps entry 1" in m and "rule: no_overlap" in m
               for m in messages), messages
    assert view.model.issues_at(1, START) and view.model.issues_at(1, END)
    assert view.model.data(view.model.index(1, START), Qt.ItemDataRole.BackgroundRole) is not None
    assert view.model.data(view.model.index(1, MODE), Qt.ItemDataRole.BackgroundRole) is None
    assert not enabled(view, "schedules.propose")
    type_into(qtbot, view, 1, RATE, "250")  # also over bess-a's 200 kW discharge limit
    assert any("entry 2" in m and "exceeds the discharge limit 200 kW of bess-a" in m and "rate_within_limit" in m
               for m in view.check_messages())
    type_into(qtbot, view, 1, START, "not a time")
    assert any("entry 2: start 'not a time' is not a time" in m for m in view.check_messages())


async def test_table_and_timeline_show_the_same_schedule(qtbot, rig):
    view = await open_editor(qtbot, rig)
    view.model.set_entries([ScheduleEntry(at(2), at(3), Mode.CHARGE, 100.0)])
    first = view.timeline.bar_rect(0)
    view.add_entry()  # the table grows: the timeline draws the new entry right after the first
    assert view.model.rowCount() == 2 and view.timeline.bar_rect(1).left() == pytest.approx(first.right())
    type_into(qtbot, view, 0, END, "2026-01-01 03:30")  # typed in the table: the bar gets longer
    assert view.timeline.bar_rect(0).width() == pytest.approx(first.width() * 1.5)
    view.timeline.move_by_pixels(1, 2 * 48.0)  # dragged two hours later on the timeline: the table follows
    assert view.model.data(view.model.index(1, START)) == "2026-01-01 05:00"
    assert view.model.data(view.model.index(1, END)) == "2026-01-01 06:00"
    view.table.selectRow(0)
    view.remove_selected()
    assert set(view.timeline.bars) == {0}


async def test_copy_a_day_and_shift_by_hours(qtbot, rig):
    view = await open_editor(qtbot, rig)
    view.model.set_entries([ScheduleEntry(at(2), at(3), Mode.CHARGE, 100.0),
                            ScheduleEntry(at(18), at(19), Mode.DISCHARGE, 120.0)])
    view.copy_day(date(2026, 1, 1), date(2026, 1, 2))
    assert view.model.entries() == (
        ScheduleEntry(at(2), at(3), Mode.CHARGE, 100.0), ScheduleEntry(at(18), at(19), Mode.DISCHARGE, 120.0),
        ScheduleEntry(at(2, 2), at(3, 2), Mode.CHARGE, 100.0), ScheduleEntry(at(18, 2), at(19, 2), Mode.DISCHARGE, 120.0))
    assert "Copied 2 entries" in view.message.text()
    view.table.selectRow(3)
    view.shift_hours_box.setValue(-1.5)
    view.shift_button.click()
    assert view.model.entries()[3] == ScheduleEntry(at(16.5, 2), at(17.5, 2), Mode.DISCHARGE, 120.0)
    view.table.clearSelection()
    view.shift(2)
    assert [e.start for e in view.model.entries()] == [at(4), at(20), at(4, 2), at(18.5, 2)]


async def test_apply_to_a_group_checks_every_member_and_lists_failures_per_device(qtbot, rig):
    view = await open_editor(qtbot, rig)
    view.model.set_entries([ScheduleEntry(at(2), at(3), Mode.CHARGE, 100.0)])
    assert view.check_messages() == ["All checks pass."]  # fine on bess-a alone
    assert view.group_box.currentText() == "north"
    view.group_button.click()
    await view.tasks.idle()
    assert view.target == ScheduleTarget.group("north")
    assert view.members_label.text() == "members: bess-a, bess-small"
    assert [m for m in view.check_messages() if "rate_within_limit" in m] == [
        "bess-small: entry 1 (2026-01-01 02:00-03:00 UTC): rate 100 kW exceeds the charge limit 50 kW of bess-small "
        "(rule: rate_within_limit)"]
    assert "fails on bess-small (1 of 2 devices)" in view.message.text()
    assert not enabled(view, "schedules.propose")
    type_into(qtbot, view, 0, RATE, "40")
    assert view.check_messages() == ["All checks pass."]
    await view.propose()
    assert view.record.schedule.target.kind is TargetKind.GROUP and view.record.state is ScheduleState.DRAFT


async def test_a_bad_csv_is_refused_with_its_line_and_nothing_changes(qtbot, rig, tmp_path):
    view = await open_editor(qtbot, rig)
    kept = (ScheduleEntry(at(2), at(3), Mode.CHARGE, 100.0),)
    view.model.set_entries(kept)
    bad = tmp_path / "plan.csv"
    bad.write_text("start,end,mode,rate_kw\n2026-01-01T05:00Z,2026-01-01T06:00Z,2,50\n"
                   "2026-01-01T06:00Z,2026-01-01T07:00Z,sideways,50\n")
    assert not await view.import_file(bad)
    assert view.message.kind == "error" and "line 3: mode 'sideways' is not 1 (discharge) or 2 (charge)" in view.message.text()
    assert any(m.startswith("plan.csv: line 3:") for m in view.check_messages())
    assert view.model.entries() == kept
    good = tmp_path / "plan.json"
    assert await view.export_file(good)
    view.model.set_entries([])
    assert await view.import_file(good) and view.model.entries() == kept


async def test_operator_approves_then_distributes_a_group_schedule_to_every_member(qtbot, rig):
    view = await open_editor(qtbot, rig)
    await view.apply_to_group("north")
    view.model.set_entries([ScheduleEntry(at(2), at(3), Mode.CHARGE, 40.0)])
    assert enabled(view, "schedules.propose") and not enabled(view, "schedules.approve")
    assert not enabled(view, "schedules.distribute")
    await view.propose()
    assert enabled(view, "schedules.approve") and not enabled(view, "schedules.distribute")
    await view.approve()
    assert view.record.state is ScheduleState.APPROVED and enabled(view, "schedules.distribute")
    rig.sender.refuse = {"bess-small"}
    await view.distribute()
    assert rig.sender.sent == [(("bess-a", "bess-small"), 1)]
    assert view.record.state is ScheduleState.DISTRIBUTED
    assert "sent to 1 of 2 device(s). Failed: bess-small (broker refused)" in view.message.text()
    states = {d.device_id: d.state for d in rig.backend.schedules.deliveries(view.record.id)}
    assert states == {"bess-a": DeliveryState.SENT, "bess-small": DeliveryState.FAILED}
    await view.compare_with_active()  # the draft equals what bess-a now runs
    diff = [view.differences.item(i).text() for i in range(view.differences.count())]
    assert diff == ["No differences from active version 1."]


async def test_compare_lists_added_removed_and_changed_entries(qtbot, rig):
    view = await open_editor(qtbot, rig)
    svc, op = rig.backend.schedules, rig.people["operator"]
    rec = svc.create_draft(op, ScheduleTarget.device("bess-a"), [ScheduleEntry(at(2), at(3), Mode.CHARGE, 100.0),
                                                                 ScheduleEntry(at(5), at(6), Mode.CHARGE, 100.0)])
    svc.approve(op, rec.id)
    await asyncio.wrap_future(rig.runtime.submit(DistributeSchedule(op, rec.id)))
    view.model.set_entries([ScheduleEntry(at(2), at(3), Mode.CHARGE, 120.0), ScheduleEntry(at(8), at(9), Mode.DISCHARGE, 50.0)])
    await view.compare_with_active()
    diff = [view.differences.item(i).text() for i in range(view.differences.count())]
    assert diff == ["+ added   2026-01-01 08:00–09:00 UTC discharge 50 kW",
                    "− removed 2026-01-01 05:00–06:00 UTC charge 100 kW",
                    "~ changed 2026-01-01 02:00–03:00 UTC charge 100 kW: rate_kw 100 kW → 120 kW"]
    assert view.timeline.active and len(view.timeline.active) == 2
    await view.load_active()
    assert view.model.entries() == rec.entries


async def test_a_trader_proposes_but_cannot_approve_or_distribute(qtbot, rig):
    view = await open_editor(qtbot, rig, "trader")
    view.model.set_entries([ScheduleEntry(at(2), at(3), Mode.CHARGE, 100.0)])
    assert enabled(view, "schedules.propose")
    await view.propose()
    assert view.record.state is ScheduleState.DRAFT and view.record.schedule.created_by == "demo-trader"
    assert not enabled(view, "schedules.approve") and not enabled(view, "schedules.distribute")
    await view.approve()  # the button is off; core refuses regardless
    assert view.message.kind == "error" and "not allowed to approve schedule" in view.message.text()
    op = rig.people["operator"]
    rig.backend.schedules.approve(op, view.record.id)
    with pytest.raises(PermissionDenied):
        await asyncio.wrap_future(rig.runtime.submit(DistributeSchedule(rig.people["trader"], view.record.id)))
    view.record = rig.backend.schedules.get(view.record.id)
    await view.distribute()
    assert "Not distributed" in view.message.text() and "not allowed to distribute schedule" in view.message.text()
    assert rig.sender.sent == []


async def test_a_viewer_can_neither_propose_nor_approve(qtbot, rig):
    view = await open_editor(qtbot, rig, "viewer")
    view.model.set_entries([ScheduleEntry(at(2), at(3), Mode.CHARGE, 100.0)])
    for action_id in ("schedules.propose", "schedules.approve", "schedules.distribute"):
        assert not enabled(view, action_id), action_id
    await view.propose()
    assert view.message.kind == "error" and "not allowed to propose schedule" in view.message.text()
    draft = rig.backend.schedules.create_draft(rig.people["operator"], ScheduleTarget.device("bess-a"),
                                               view.model.entries())
    with pytest.raises(PermissionDenied):
        rig.backend.schedules.approve(rig.people["viewer"], draft.id)
    assert rig.backend.schedules.get(draft.id).state is ScheduleState.DRAFT
