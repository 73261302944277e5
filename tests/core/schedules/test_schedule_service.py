"""ScheduleService on SQLite and PostgreSQL: lifecycle, permissions, supersession, ack checks, execution log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.audit.trail import AuditFilter
from core.errors import PermissionDenied
from core.schedules.errors import IllegalScheduleTransition
from core.schedules.model import Mode, ScheduleEntry, ScheduleState, ScheduleTarget
from core.schedules.records import AckOutcome, DeliveryState, InvalidScheduleDraft, ScheduleAck
from core.schedules.service import ScheduleService
from tests.core.schedules.factories import limits
from tests.support.people import make_people

DEV = ScheduleTarget.device("bess-0007")


@pytest.fixture
def setup(services, clock):
    people = make_people(services)
    svc = ScheduleService(services.db, services.audit, services.authorizer, clock,
                          limits_of=lambda device_id: limits(device_id=device_id))
    return svc, people, clock


def entries_from(clock, *spans, rate=100.0):
    now = clock.now()
    return [ScheduleEntry(now + timedelta(minutes=a), now + timedelta(minutes=b), Mode.CHARGE, rate) for a, b in spans]


def ack(rec, entry, rate=100.0, ok=True, error=None):
    start = rec.entries[entry].start
    return ScheduleAck(rec.schedule_id, rec.version, entry, rate, start, rec.entries[entry].end, ok, error)


def test_lifecycle_to_completed_with_every_step_audited(setup, services):
    svc, p, clock = setup
    rec = svc.create_draft(p["tom"], DEV, entries_from(clock, (10, 20), (20, 30)))
    assert (rec.state, rec.version, rec.schedule.created_by) == (ScheduleState.DRAFT, 1, "tom")
    rec = svc.approve(p["olga"], rec.id)
    assert rec.schedule.approved_by == "olga"
    svc.authorize_distribution(p["olga"], rec.id)
    rec = svc.mark_distributed(p["olga"], rec.id, ["bess-0007"])
    assert rec.state is ScheduleState.DISTRIBUTED
    assert svc.delivery(rec.id, "bess-0007").state is DeliveryState.SENT
    assert svc.record_ack("bess-0007", ack(rec, 0)).outcome is AckOutcome.STORED
    assert svc.get(rec.id).state is ScheduleState.ACKNOWLEDGED
    assert svc.delivery(rec.id, "bess-0007").state is DeliveryState.EXECUTING
    assert svc.record_ack("bess-0007", ack(rec, 0)).outcome is AckOutcome.DUPLICATE
    assert svc.record_ack("bess-0007", ack(rec, 1)).outcome is AckOutcome.STORED
    assert svc.get(rec.id).state is ScheduleState.COMPLETED
    assert svc.delivery(rec.id, "bess-0007").state is DeliveryState.COMPLETED
    assert [e.ack.entry for e in svc.execution_log(device_id="bess-0007")] == [0, 1]
    actions = [e.action for e in services.audit_log.query(p["chief"], AuditFilter(action="schedule."))]
    for needed in ("schedule.create", "schedule.approve", "schedule.distribute", "schedule.acknowledge",
                   "schedule.complete", "schedule.acks"):
        assert needed in actions
    # Delivery changes are in the batch rows (one per ack batch): newest first, so the completing batch leads.
    batches = [e.detail for e in services.audit_log.query(p["chief"], AuditFilter(action="schedule.acks"))]
    assert batches[0]["deliveries"] == {"completed": 1} and batches[-1]["deliveries"] == {"executing": 1}


def test_permissions_viewer_cannot_approve_trader_cannot_approve_or_distribute(setup):
    svc, p, clock = setup
    with pytest.raises(PermissionDenied):
        svc.create_draft(p["vic"], DEV, entries_from(clock, (10, 20)))
    rec = svc.create_draft(p["tom"], DEV, entries_from(clock, (10, 20)))
    for who in ("vic", "tom"):
        with pytest.raises(PermissionDenied):
            svc.approve(p[who], rec.id)
    svc.approve(p["olga"], rec.id)
    with pytest.raises(PermissionDenied):
        svc.authorize_distribution(p["tom"], rec.id)
    svc.authorize_distribution(p["olga"], rec.id)


def test_invalid_draft_is_refused_and_a_draft_cannot_be_distributed(setup):
    svc, p, clock = setup
    with pytest.raises(InvalidScheduleDraft) as err:
        svc.create_draft(p["olga"], DEV, entries_from(clock, (10, 30), (20, 40), rate=900.0))
    assert "overlaps" in str(err.value) and "exceeds" in str(err.value)
    rec = svc.create_draft(p["olga"], DEV, entries_from(clock, (10, 20)))
    with pytest.raises(IllegalScheduleTransition):
        svc.authorize_distribution(p["olga"], rec.id)


def test_newer_version_supersedes_and_old_cannot_come_back(setup):
    svc, p, clock = setup
    v1 = svc.approve(p["olga"], svc.create_draft(p["olga"], DEV, entries_from(clock, (10, 20))).id)
    svc.mark_distributed(p["olga"], v1.id, ["bess-0007"])
    v2 = svc.create_draft(p["olga"], DEV, entries_from(clock, (30, 40)))
    assert (v2.schedule_id, v2.version) == (v1.schedule_id, 2)
    svc.approve(p["olga"], v2.id)
    svc.mark_distributed(p["olga"], v2.id, ["bess-0007"])
    svc.mark_distributed(p["olga"], v2.id, ["bess-0007"])  # idempotent
    assert svc.get(v1.id).state is ScheduleState.SUPERSEDED
    assert svc.delivery(v1.id, "bess-0007").state is DeliveryState.SUPERSEDED
    assert len(svc.deliveries(v2.id)) == 1
    assert svc.active_schedule("bess-0007").version == 2
    v3 = svc.create_draft(p["olga"], DEV, entries_from(clock, (50, 60)))
    assert svc.approve(p["olga"], v3.id).version == 3
    with pytest.raises(IllegalScheduleTransition):
        svc.authorize_distribution(p["olga"], v1.id)


def test_acks_checked_against_version_device_and_entry_and_counted(setup):
    svc, p, clock = setup
    rec = svc.approve(p["olga"], svc.create_draft(p["olga"], DEV, entries_from(clock, (10, 20))).id)
    svc.mark_distributed(p["olga"], rec.id, ["bess-0007"])
    assert svc.record_ack("bess-0099", ack(rec, 0)).reason == "wrong device"
    wrong_version = ScheduleAck(rec.schedule_id, 9, 0, 100.0, clock.now(), None, True)
    assert svc.record_ack("bess-0007", wrong_version).reason == "unknown schedule version"
    bad_entry = ScheduleAck(rec.schedule_id, 1, 5, 100.0, clock.now(), None, True)
    assert svc.record_ack("bess-0007", bad_entry).reason == "unknown entry"
    assert dict(svc.ack_rejects) == {"wrong device": 1, "unknown schedule version": 1, "unknown entry": 1}
    assert svc.execution_log() == []


def test_deviation_and_negative_ack(setup):
    svc, p, clock = setup
    rec = svc.approve(p["olga"], svc.create_draft(p["olga"], DEV, entries_from(clock, (10, 20), (20, 30))).id)
    svc.mark_distributed(p["olga"], rec.id, ["bess-0007", "bess-0008"])
    svc.record_ack("bess-0007", ack(rec, 0, rate=50.0))
    d = svc.delivery(rec.id, "bess-0007")
    assert d.state is DeliveryState.DEVIATING and "planned 100" in d.error
    svc.record_ack("bess-0008", ack(rec, 0, rate=0.0, ok=False, error="rejected: schedule expired"))
    assert svc.delivery(rec.id, "bess-0008").state is DeliveryState.FAILED


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spans=st.lists(st.tuples(st.integers(1, 600), st.integers(1, 120)), min_size=1, max_size=6))
def test_accepted_schedules_never_overlap(sqlite_services, clock, spans):
    svc = ScheduleService(sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer, clock,
                          limits_of=lambda device_id: limits(device_id=device_id))
    from core.auth.principal import SYSTEM
    entries = entries_from(clock, *[(a, a + n) for a, n in spans])
    try:
        rec = svc.create_draft(SYSTEM, DEV, entries)
    except InvalidScheduleDraft:
        return
    stored = rec.entries
    assert all(a.end <= b.start for a, b in zip(stored, stored[1:]))
    assert svc.get(rec.id).entries == stored


def test_a_batch_of_acks_is_checked_in_order_and_a_duplicate_inside_it_is_not_stored(setup):
    svc, p, clock = setup
    rec = svc.approve(p["olga"], svc.create_draft(p["olga"], DEV, entries_from(clock, (10, 20), (20, 30))).id)
    svc.mark_distributed(p["olga"], rec.id, ["bess-0007"])
    results = svc.record_acks([("bess-0007", ack(rec, 0)), ("bess-0007", ack(rec, 0)), ("bess-0042", ack(rec, 1)),
                               ("bess-0007", ack(rec, 1))])
    assert [r.outcome for r in results] == [AckOutcome.STORED, AckOutcome.DUPLICATE, AckOutcome.REJECTED,
                                            AckOutcome.STORED]
    assert len(svc.execution_log()) == 2 and svc.get(rec.id).state is ScheduleState.COMPLETED
