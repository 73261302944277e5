"""The fleet-wide schedule status view over real deliveries (counts per state, filters), and the screenshots of
the editor and the status view (GRIDROOM_SCREENSHOT_DIR, else a temp folder: `-k screenshot`)."""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from core.schedules.model import Mode, ScheduleEntry, ScheduleTarget
from core.schedules.records import ScheduleAck
from desktop.theme import apply_theme
from desktop.views.schedule_status_view import ScheduleStatusView
from tests.desktop.test_schedule_editor import LIMITS_KW, at, open_editor, rig  # noqa: F401  (fixture)
from tests.support.schedule_rig import register_devices

pytestmark = pytest.mark.asyncio
SCREENSHOTS = os.environ.get("GRIDROOM_SCREENSHOT_DIR")


async def _distribute(rig, target: ScheduleTarget, entries) -> int:
    from core.schedules.messages import DistributeSchedule
    svc, op = rig.backend.schedules, rig.people["operator"]
    rec = svc.create_draft(op, target, entries)
    svc.approve(op, rec.id)
    await asyncio.wrap_future(rig.runtime.submit(DistributeSchedule(op, rec.id)))
    return rec.id


async def _fleet_with_schedules(rig):
    """bess-a and bess-small via group north (bess-small refused by the broker), bess-b alone, acked and off plan."""
    register_devices(rig.services, {"bess-c": 200.0, "bess-d": 200.0})
    plan = [ScheduleEntry(at(2), at(3), Mode.CHARGE, 40.0), ScheduleEntry(at(3), at(4), Mode.DISCHARGE, 40.0)]
    rig.sender.refuse = {"bess-small"}
    await _distribute(rig, ScheduleTarget.group("north"), plan)
    rig.sender.refuse = set()
    row = await _distribute(rig, ScheduleTarget.device("bess-b"), plan)
    rec = rig.backend.schedules.get(row)
    rig.services.clock.advance(timedelta(hours=3))
    rig.backend.schedules.record_ack("bess-b", ScheduleAck(rec.schedule_id, 1, 0, 25.0, at(2), at(3), True))
    await _distribute(rig, ScheduleTarget.device("bess-c"), [ScheduleEntry(at(5), at(6), Mode.CHARGE, 100.0)])


async def open_status(qtbot, rig) -> ScheduleStatusView:
    view = ScheduleStatusView(rig.services, rig.people["viewer"], backend=rig.backend, refresh_ms=3_600_000)
    qtbot.addWidget(view)
    view.resize(1300, 420)
    view.show()
    await view.refresh()
    return view


async def test_status_shows_each_devices_version_delivery_and_counts_and_filters(qtbot, rig):
    await _fleet_with_schedules(rig)
    view = await open_status(qtbot, rig)
    rows = {r.device_id: r for r in view.model.records()}
    assert set(rows) == {"bess-a", "bess-b", "bess-c", "bess-d", "bess-small"}
    assert (rows["bess-a"].target, rows["bess-a"].version, rows["bess-a"].state_word) == ("group north", 1, "sent")
    assert (rows["bess-small"].state_word, rows["bess-small"].error) == ("failed", "broker refused")
    assert rows["bess-b"].state_word == "deviating" and rows["bess-b"].last_ack_at is not None
    assert rows["bess-d"].state_word == "none" and rows["bess-d"].schedule_id is None
    assert view.counts.text() == "sent 2   ·   deviating 1   ·   failed 1   ·   none 1"
    view.state_box.setCurrentIndex(view.state_box.findData("failed"))
    assert view.visible_devices() == ["bess-small"]
    view.state_box.setCurrentIndex(0)
    view.text_box.setText("north")
    assert sorted(view.visible_devices()) == ["bess-a", "bess-small"]
    assert view.shown.text() == "2 of 5 devices shown"


async def test_device_detail_shows_the_active_version_and_its_execution_history(qtbot, rig):
    from core.fleet.context import FleetContext
    from core.fleet.live_state import LiveState
    from desktop.views.device_detail_view import DeviceDetailView

    await _fleet_with_schedules(rig)
    live = LiveState()
    live.register("bess-b", name="Bess B", site="Rotterdam Harbour", max_charge_kw=200.0, max_discharge_kw=200.0)
    view = DeviceDetailView(FleetContext(live), rig.runtime, rig.people["viewer"], tick_ms=3_600_000,
                            schedule_of=rig.backend.device_schedule)
    qtbot.addWidget(view)
    await view.load_device("bess-b")
    lines = view.schedule.text().splitlines()
    assert lines[0].startswith("Active: sch-") and "version 1 (acknowledged, device bess-b)" in lines[0]
    assert lines[1] == "  01-01 02:00–03:00 UTC charge 40 kW"
    assert lines[-2:] == ["Executed (newest first):", "  v1 entry 1 at 01-01 02:00 UTC: 25 kW, ok"]


async def test_screenshot_of_the_schedule_editor_and_status(qtbot, qapp, rig):
    apply_theme(qapp)
    await _fleet_with_schedules(rig)
    editor = await open_editor(qtbot, rig)
    editor.resize(1440, 860)
    await editor.set_target(ScheduleTarget.device("bess-c"))
    editor.model.set_entries([
        ScheduleEntry(at(4), at(5), Mode.CHARGE, 150.0), ScheduleEntry(at(5), at(6), Mode.CHARGE, 120.0),
        ScheduleEntry(at(5.5), at(7), Mode.DISCHARGE, 180.0), ScheduleEntry(at(9), at(11), Mode.DISCHARGE, 250.0),
        ScheduleEntry(at(13), at(15), Mode.CHARGE, 120.0), ScheduleEntry(at(18), at(20), Mode.DISCHARGE, 160.0)])
    await editor.compare_with_active()
    assert any("no_overlap" in m for m in editor.check_messages())
    status = await open_status(qtbot, rig)
    for _ in range(5):  # let Qt lay the views out before the pictures are taken
        await asyncio.sleep(0)
    folder = Path(SCREENSHOTS or tempfile.mkdtemp(prefix="gridroom-shots-"))
    folder.mkdir(parents=True, exist_ok=True)
    assert editor.grab().save(str(folder / "schedule_editor.png"))
    assert status.grab().save(str(folder / "schedule_status.png"))
    assert (folder / "schedule_editor.png").stat().st_size > 20_000
