"""DeviceGroupService and group schedules on SQLite and PostgreSQL: groups are created and changed by operators
and admins only (audited, refusals too), a group schedule is validated on every member with failures listed per
device, and distributing it delivers to every member (a member that cannot be reached fails alone; a member
that joined after the check and whose limits the entries break is not sent to)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.audit.trail import AuditFilter, AuditResult
from core.errors import Conflict, NotFound, PermissionDenied
from core.groups import DeviceGroupInUse, DeviceGroupService, InvalidDeviceGroup
from core.groups.service import _GROUP_ID
from core.schedules.distribution import distribute
from core.schedules.errors import InvalidSchedule
from core.schedules.limits import device_limits
from core.schedules.model import Mode, ScheduleEntry, ScheduleState, ScheduleTarget, TargetKind
from core.schedules.records import DeliveryState, InvalidGroupScheduleDraft
from core.schedules.service import ScheduleService
from core.schedules.status import ScheduleStatusQuery, counts_by_state
from tests.support.schedule_rig import demo_people, register_devices

LIMITS_KW = {"bess-a": 200.0, "bess-b": 200.0, "bess-small": 50.0}


@pytest.fixture
def rig(services, clock):
    people = demo_people(services)
    register_devices(services, LIMITS_KW)
    groups = DeviceGroupService(services.db, services.audit, services.authorizer, clock)
    schedules = ScheduleService(services.db, services.audit, services.authorizer, clock,
                                lambda d: device_limits(d, 1000.0, LIMITS_KW[d], LIMITS_KW[d], 50.0), groups.members)
    return people, groups, schedules


def actions(services, action_prefix: str):
    entries = sorted(services.audit_log.query(_admin(services), AuditFilter()), key=lambda e: e.id)
    return [(e.username, e.action, e.result) for e in entries if e.action.startswith(action_prefix)]


def _admin(services):
    return services.users.authenticate("demo-admin", "North-Sea-Admin-26")


def test_operators_create_and_change_groups_and_every_change_is_audited(rig, services):
    people, groups, _ = rig
    made = groups.create(people["operator"], "north", ["bess-b", "bess-a", "bess-a"], "North sea sites")
    assert made.members == ("bess-a", "bess-b") and made.description == "North sea sites"
    assert groups.add_members(people["admin"], "north", ["bess-small", "bess-a"]).members == ("bess-a", "bess-b", "bess-small")
    assert groups.remove_members(people["operator"], "north", ["bess-b"]).members == ("bess-a", "bess-small")
    assert [g.group_id for g in groups.list(people["viewer"])] == ["north"]
    assert groups.members("north") == ("bess-a", "bess-small")
    assert [(u, a) for u, a, r in actions(services, "group.")] == [
        ("demo-operator", "group.create"), ("demo-admin", "group.add_members"), ("demo-operator", "group.remove_members")]


@pytest.mark.parametrize("role", ["viewer", "trader"])
def test_viewers_and_traders_cannot_change_groups_and_the_refusal_is_audited(rig, services, role):
    people, groups, _ = rig
    with pytest.raises(PermissionDenied):
        groups.create(people[role], "north", ["bess-a"])
    assert groups.list(people["admin"]) == []
    denied = [e for e in services.audit_log.query(_admin(services), AuditFilter()) if e.action == "permission.denied"]
    assert denied[0].resource == "group:north" and denied[0].result == AuditResult.DENIED.value


def test_bad_groups_are_refused_with_the_reason_and_nothing_is_stored(rig):
    people, groups, _ = rig
    op = people["operator"]
    with pytest.raises(InvalidDeviceGroup, match="not registered or decommissioned: bess-ghost"):
        groups.create(op, "north", ["bess-a", "bess-ghost"])
    with pytest.raises(InvalidDeviceGroup, match="group id"):
        groups.create(op, "no spaces", ["bess-a"])
    assert groups.list(op) == []
    groups.create(op, "north", ["bess-a"])
    with pytest.raises(Conflict):
        groups.create(op, "north", [])
    with pytest.raises(InvalidDeviceGroup, match="bess-b not a member"):
        groups.remove_members(op, "north", ["bess-a", "bess-b"])
    assert groups.members("north") == ("bess-a",)
    with pytest.raises(NotFound):
        groups.members("south")


def test_groups_are_renamed_and_deleted_with_their_members_and_both_are_audited(rig, services):
    people, groups, _ = rig
    groups.create(people["operator"], "north", ["bess-a", "bess-b"], "North sea sites")
    renamed = groups.rename(people["operator"], "north", "north-sea")
    assert (renamed.group_id, renamed.members, renamed.description) == ("north-sea", ("bess-a", "bess-b"), "North sea sites")
    assert [g.group_id for g in groups.list(people["viewer"])] == ["north-sea"]
    with pytest.raises(NotFound):
        groups.members("north")
    gone = groups.delete(people["admin"], "north-sea")
    assert gone.members == ("bess-a", "bess-b")
    assert groups.list(people["viewer"]) == []
    groups.create(people["operator"], "north", ["bess-a"])  # the devices and the old name are free again
    assert groups.members("north") == ("bess-a",)
    assert [(u, a, r) for u, a, r in actions(services, "group.")][1:3] == [
        ("demo-operator", "group.rename", "success"), ("demo-admin", "group.delete", "success")]


def test_renaming_and_deleting_refuse_bad_names_missing_groups_and_viewers(rig):
    people, groups, _ = rig
    groups.create(people["operator"], "north", ["bess-a"])
    groups.create(people["operator"], "south", ["bess-b"])
    with pytest.raises(Conflict, match="'south' already exists"):
        groups.rename(people["operator"], "north", "south")
    with pytest.raises(InvalidDeviceGroup, match="new group id 'north sea'"):
        groups.rename(people["operator"], "north", "north sea")
    with pytest.raises(NotFound):
        groups.rename(people["operator"], "east", "west")
    with pytest.raises(NotFound):
        groups.delete(people["operator"], "east")
    for role in ("viewer", "trader"):
        with pytest.raises(PermissionDenied):
            groups.rename(people[role], "north", "north-2")
        with pytest.raises(PermissionDenied):
            groups.delete(people[role], "north")
    assert [(g.group_id, g.members) for g in groups.list(people["viewer"])] == [("north", ("bess-a",)),
                                                                               ("south", ("bess-b",))]


def test_a_group_that_a_draft_or_live_schedule_targets_is_neither_renamed_nor_deleted(rig, services, clock):
    people, groups, schedules = rig
    groups.create(people["operator"], "north", ["bess-a", "bess-b"])
    draft = schedules.create_draft(people["operator"], ScheduleTarget.group("north"), _entries(clock, 40.0))
    with pytest.raises(DeviceGroupInUse, match=r"group north cannot be deleted: schedule version 1 \(draft\) targets it"):
        groups.delete(people["operator"], "north")
    schedules.approve(people["operator"], draft.id)
    with pytest.raises(DeviceGroupInUse, match=r"cannot be renamed: schedule version 1 \(approved\)"):
        groups.rename(people["operator"], "north", "north-sea")
    assert groups.members("north") == ("bess-a", "bess-b")
    refusals = [(a, r) for u, a, r in actions(services, "group.") if r == AuditResult.FAILURE.value]
    assert refusals == [("group.delete", "failure"), ("group.rename", "failure")]
    schedules.cancel(people["operator"], draft.id)  # a finished version keeps the name it was sent under
    assert groups.rename(people["operator"], "north", "north-sea").group_id == "north-sea"
    assert groups.delete(people["operator"], "north-sea").group_id == "north-sea"


@given(st.text(max_size=70))
def test_group_ids_are_a_safe_token_or_refused(text):
    ok = _GROUP_ID.fullmatch(text) is not None
    assert ok == (0 < len(text) <= 64 and text[0].isascii() and text[0].isalnum()
                  and all(c.isascii() and (c.isalnum() or c in "._-") for c in text))


def _entries(clock, rate_kw):
    now = clock.now()
    return [ScheduleEntry(now + timedelta(hours=1), now + timedelta(hours=2), Mode.CHARGE, rate_kw)]


def test_a_group_schedule_is_validated_on_every_member_with_failures_listed_per_device(rig, clock):
    people, groups, schedules = rig
    groups.create(people["operator"], "north", ["bess-a", "bess-small"])
    with pytest.raises(InvalidGroupScheduleDraft) as refused:
        schedules.create_draft(people["trader"], ScheduleTarget.group("north"), _entries(clock, 100.0))
    assert refused.value.failing_devices == ["bess-small"]
    assert refused.value.reports["bess-a"].ok
    assert "bess-small: entry 1" in str(refused.value) and "rate_within_limit" in str(refused.value)
    rec = schedules.create_draft(people["trader"], ScheduleTarget.group("north"), _entries(clock, 40.0))
    assert rec.schedule.target.kind is TargetKind.GROUP and rec.state is ScheduleState.DRAFT
    groups.create(people["operator"], "empty", [])
    with pytest.raises(InvalidSchedule, match="no members"):
        schedules.create_draft(people["operator"], ScheduleTarget.group("empty"), _entries(clock, 40.0))


def test_distributing_a_group_schedule_delivers_to_every_member(rig, services, clock):
    people, groups, schedules = rig
    groups.create(people["operator"], "north", ["bess-a", "bess-b", "bess-small"])
    rec = schedules.create_draft(people["operator"], ScheduleTarget.group("north"), _entries(clock, 40.0))
    schedules.approve(people["operator"], rec.id)
    sent_to = []

    async def send(device_ids, version):  # the broker refuses one member: it fails alone
        sent_to.append((tuple(device_ids), version.version))
        return {d: ("broker refused" if d == "bess-b" else None) for d in device_ids}

    with pytest.raises(PermissionDenied):
        asyncio.run(distribute(schedules, people["trader"], rec.id, send))
    assert sent_to == []
    done = asyncio.run(distribute(schedules, people["operator"], rec.id, send))
    assert sent_to == [(("bess-a", "bess-b", "bess-small"), 1)]
    assert done.state is ScheduleState.DISTRIBUTED
    states = {d.device_id: (d.state, d.error) for d in schedules.deliveries(rec.id)}
    assert states == {"bess-a": (DeliveryState.SENT, None), "bess-b": (DeliveryState.FAILED, "broker refused"),
                      "bess-small": (DeliveryState.SENT, None)}
    assert schedules.active_schedule("bess-small").id == rec.id
    status = {s.device_id: s for s in ScheduleStatusQuery(services.db, services.authorizer).fleet_status(people["viewer"])}
    assert (status["bess-a"].version, status["bess-a"].target, status["bess-a"].delivery) == (1, "group north", DeliveryState.SENT)
    assert status["bess-b"].error == "broker refused"
    assert counts_by_state(list(status.values())) == {"sent": 2, "failed": 1}


def test_a_member_that_joined_after_the_check_is_not_sent_rates_beyond_its_limits(rig, services, clock):
    """The group is checked at the draft; bess-small joins after approval and cannot take 100 kW: it is not
    sent the schedule and its delivery fails naming the rule, while the members it was checked for get it.
    A group of nothing but such members sends nothing: the version stays approved, the delivery says why."""
    people, groups, schedules = rig
    groups.create(people["operator"], "north", ["bess-a", "bess-b"])
    rec = schedules.approve(people["operator"], schedules.create_draft(
        people["operator"], ScheduleTarget.group("north"), _entries(clock, 100.0)).id)
    groups.add_members(people["operator"], "north", ["bess-small"])
    sent_to = []

    async def send(device_ids, version):
        sent_to.extend(device_ids)
        return {d: None for d in device_ids}

    done = asyncio.run(distribute(schedules, people["operator"], rec.id, send))
    assert sorted(sent_to) == ["bess-a", "bess-b"] and done.state is ScheduleState.DISTRIBUTED
    states = {d.device_id: (d.state, d.error) for d in schedules.deliveries(rec.id)}
    assert states["bess-a"] == states["bess-b"] == (DeliveryState.SENT, None)
    state, error = states["bess-small"]
    assert state is DeliveryState.FAILED
    assert "not sent" in error and "rate 100 kW exceeds the charge limit 50 kW of bess-small" in error
    assert "rate_within_limit" in error

    groups.create(people["operator"], "small", ["bess-a"])
    only_small = schedules.approve(people["operator"], schedules.create_draft(
        people["operator"], ScheduleTarget.group("small"), _entries(clock, 100.0)).id)
    groups.add_members(people["operator"], "small", ["bess-small"])
    groups.remove_members(people["operator"], "small", ["bess-a"])
    sent_to.clear()
    unsent = asyncio.run(distribute(schedules, people["operator"], only_small.id, send))
    assert sent_to == [] and unsent.state is ScheduleState.APPROVED
    assert [(d.device_id, d.state) for d in schedules.deliveries(only_small.id)] == [
        ("bess-small", DeliveryState.FAILED)]
