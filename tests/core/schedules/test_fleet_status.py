"""ScheduleStatusQuery.fleet_status on SQLite and PostgreSQL: the database picks each device's newest delivery.

With several versions per device (device schedules, group schedules, superseded ones, drafts never sent) only the
newest delivery shows, with the entry count of that version; ties and never-sent deliveries are ordered as the
former all-rows-in-Python query ordered them, which a copy of that query checks here on a crafted history."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from core.devices.tables import DeviceRow
from core.groups import DeviceGroupService
from core.schedules.distribution import distribute
from core.schedules.limits import device_limits
from core.schedules.model import Mode, ScheduleEntry, ScheduleTarget
from core.schedules.records import DeliveryState, entries_from_json, entries_to_json
from core.schedules.service import ScheduleService
from core.schedules.status import DeviceScheduleStatus, ScheduleStatusQuery
from core.schedules.tables import ScheduleDeliveryRow, ScheduleRow
from tests.support.schedule_rig import demo_people, register_devices

UTC = timezone.utc
DEVICES = ("bess-a", "bess-b", "bess-c", "bess-d")


@pytest.fixture
def rig(services, clock):
    people = demo_people(services)
    register_devices(services, {d: 200.0 for d in DEVICES})
    groups = DeviceGroupService(services.db, services.audit, services.authorizer, clock)
    schedules = ScheduleService(services.db, services.audit, services.authorizer, clock,
                                lambda d: device_limits(d, 1000.0, 200.0, 200.0, 50.0), groups.members)
    return people, groups, schedules, ScheduleStatusQuery(services.db, services.authorizer)


def _entries(clock, count: int) -> list[ScheduleEntry]:
    start = clock.now() + timedelta(hours=1)
    return [ScheduleEntry(start + timedelta(hours=i), start + timedelta(hours=i + 1), Mode.CHARGE, 50.0)
            for i in range(count)]


def _send(schedules, operator, target: ScheduleTarget, entries: list[ScheduleEntry]) -> int:
    async def accept(device_ids, _version):
        return {d: None for d in device_ids}

    draft = schedules.create_draft(operator, target, entries)
    schedules.approve(operator, draft.id)
    return asyncio.run(distribute(schedules, operator, draft.id, accept)).version


def test_only_the_newest_version_of_each_device_shows_with_its_own_entry_count(rig, clock):
    people, groups, schedules, status = rig
    op = people["operator"]
    groups.create(op, "north", ["bess-b", "bess-c"])
    assert _send(schedules, op, ScheduleTarget.device("bess-a"), _entries(clock, 1)) == 1
    assert _send(schedules, op, ScheduleTarget.group("north"), _entries(clock, 1)) == 1
    clock.advance(timedelta(minutes=5))
    assert _send(schedules, op, ScheduleTarget.device("bess-a"), _entries(clock, 2)) == 2  # supersedes version 1
    schedules.create_draft(op, ScheduleTarget.device("bess-a"), _entries(clock, 5))  # version 3, never sent
    clock.advance(timedelta(minutes=5))
    assert _send(schedules, op, ScheduleTarget.group("north"), _entries(clock, 3)) == 2
    clock.advance(timedelta(minutes=5))
    assert _send(schedules, op, ScheduleTarget.device("bess-b"), _entries(clock, 4)) == 1  # newer than the group's

    rows = status.fleet_status(people["viewer"])
    assert [r.device_id for r in rows] == list(DEVICES)
    shown = {r.device_id: (r.target, r.version, r.schedule_state, r.delivery, r.entries) for r in rows}
    assert shown == {
        "bess-a": ("device bess-a", 2, "distributed", DeliveryState.SENT, 2),
        "bess-b": ("device bess-b", 1, "distributed", DeliveryState.SENT, 4),
        "bess-c": ("group north", 2, "distributed", DeliveryState.SENT, 3),
        "bess-d": ("", None, None, None, 0),
    }
    assert rows[3].state_word == "none"
    assert rows == _former_fleet_status(status.db)


def test_ties_and_never_sent_deliveries_are_ordered_as_before_and_history_of_gone_devices_stays(rig, services):
    people, _, _, status = rig
    t0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
    with services.db.session() as s:
        versions = []
        for version, entries in enumerate((1, 2, 3, 4, 5), start=1):
            row = ScheduleRow(schedule_id="sched-x", version=version, target_kind="device", target_id="x",
                              state="distributed", source="manual", created_by="demo-operator", created_at=t0,
                              entries_json=_json(entries, t0))
            s.add(row)
            s.flush()
            versions.append(row.id)
        v1, v2, v3, v4, v5 = versions

        def deliver(device_id, row_id, sent_at, state="sent", acked=0, error=None):
            s.add(ScheduleDeliveryRow(schedule_row_id=row_id, device_id=device_id, state=state, sent_at=sent_at,
                                      acked_entries=acked, error=error))

        deliver("bess-a", v1, t0)  # same moment: the later version row wins
        deliver("bess-a", v2, t0, acked=1)
        deliver("bess-b", v3, t0 - timedelta(hours=1), "completed", acked=3)  # sent beats never sent
        deliver("bess-b", v5, None, "failed", error="broker refused")
        deliver("bess-c", v4, None, "failed", error="first")  # neither sent: the later version row
        deliver("bess-c", v5, None, "failed", error="second")
        deliver("bess-gone", v1, t0 + timedelta(hours=2), "superseded")  # no longer registered
        deliver("bess-gone", v4, t0 + timedelta(hours=3), "executing", acked=2)
        s.execute(DeviceRow.__table__.update().where(DeviceRow.device_id == "bess-d").values(active=False))

    rows = status.fleet_status(people["viewer"])
    shown = {r.device_id: (r.version, r.delivery, r.acked_entries, r.entries, r.error) for r in rows}
    assert shown == {
        "bess-a": (2, DeliveryState.SENT, 1, 2, None),
        "bess-b": (3, DeliveryState.COMPLETED, 3, 3, None),
        "bess-c": (5, DeliveryState.FAILED, 0, 5, "second"),
        "bess-gone": (4, DeliveryState.EXECUTING, 2, 4, None),
    }  # bess-d: decommissioned and never sent anything, so not listed
    assert rows == _former_fleet_status(services.db)


def test_a_large_history_gives_one_row_per_device(rig, services, clock):
    people, _, _, status = rig
    t0 = clock.now()
    with services.db.session() as s:
        rows = [ScheduleRow(schedule_id=f"sched-{d}", version=v, target_kind="device", target_id=d, state="superseded",
                            source="manual", created_by="demo-operator", created_at=t0, entries_json=_json(v, t0))
                for d in DEVICES for v in range(1, 31)]
        s.add_all(rows)
        s.flush()
        s.add_all(ScheduleDeliveryRow(schedule_row_id=r.id, device_id=r.target_id, state="superseded",
                                      sent_at=t0 + timedelta(minutes=r.version), acked_entries=r.version)
                  for r in rows)
    result = status.fleet_status(people["viewer"])
    assert [(r.device_id, r.version, r.entries, r.acked_entries) for r in result] == [(d, 30, 30, 30) for d in DEVICES]
    assert result == _former_fleet_status(services.db)


def _json(count: int, start: datetime) -> str:
    return entries_to_json(tuple(ScheduleEntry(start + timedelta(hours=i), start + timedelta(hours=i + 1), Mode.CHARGE,
                                               10.0) for i in range(count)))


def _former_fleet_status(db) -> list[DeviceScheduleStatus]:
    """The query fleet_status replaced (every delivery row loaded, the newest per device kept in Python): the
    reference its results must stay identical to."""
    with db.session() as s:
        rows = s.execute(select(ScheduleDeliveryRow, ScheduleRow)
                         .join(ScheduleRow, ScheduleRow.id == ScheduleDeliveryRow.schedule_row_id)
                         .order_by(ScheduleDeliveryRow.device_id, ScheduleDeliveryRow.sent_at.desc().nulls_last(),
                                   ScheduleRow.id.desc())).all()
        devices = s.execute(select(DeviceRow.device_id).where(DeviceRow.active)).scalars().all()
    newest: dict[str, DeviceScheduleStatus] = {}
    for d, sch in rows:
        if d.device_id in newest:
            continue
        newest[d.device_id] = DeviceScheduleStatus(
            d.device_id, sch.schedule_id, sch.version, f"{sch.target_kind} {sch.target_id}", sch.state,
            DeliveryState(d.state) if d.state else None, d.sent_at, d.last_ack_at, d.acked_entries,
            len(entries_from_json(sch.entries_json)), d.error)
    for device_id in devices:
        newest.setdefault(device_id, DeviceScheduleStatus(device_id, None, None, "", None, None, None, None, 0, 0,
                                                          None))
    return [newest[k] for k in sorted(newest)]
