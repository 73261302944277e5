"""Set-based ack recording on SQLite and PostgreSQL: one batch mixing good, duplicate, wrong-device,
unknown-version and unknown-entry acks; one audit row per batch; alarm events; the delivered state (receipts);
fleet-wide batches summarised in one lifecycle audit row per action."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.audit.trail import AuditFilter
from core.auth.principal import SYSTEM
from core.schedules.ack_batch import BATCH_ACTOR
from core.alarms.inputs import AckLatencyHigh, ScheduleEntryFailed
from core.schedules.alarm_inputs import alarm_input_of
from core.schedules.events import ScheduleAckLate, ScheduleAckRejected, ScheduleDeliveryChanged
from core.schedules.lifecycle_audit import LIFECYCLE_ROWS_PER_BATCH, SUMMARY_RESOURCE
from core.schedules.model import Mode, ScheduleEntry, ScheduleState, ScheduleTarget
from core.schedules.records import AckOutcome, DeliveryState, ScheduleAck, ScheduleReceipt
from core.schedules.service import ScheduleService
from tests.core.schedules.factories import limits


@pytest.fixture
def svc(services, clock):
    events: list[object] = []
    service = ScheduleService(services.db, services.audit, services.authorizer, clock,
                              limits_of=lambda device_id: limits(device_id=device_id), on_event=events.append)
    service.events = events  # the test reads what the alarm engine would get
    return service


def distributed(svc, clock, device_id, spans=((10, 20),), rate=100.0, mark=True):
    now = clock.now()
    entries = [ScheduleEntry(now + timedelta(minutes=a), now + timedelta(minutes=b), Mode.CHARGE, rate)
               for a, b in spans]
    rec = svc.approve(SYSTEM, svc.create_draft(SYSTEM, ScheduleTarget.device(device_id), entries).id)
    return svc.mark_distributed(SYSTEM, rec.id, [device_id]) if mark else rec


def ack(rec, entry, rate=100.0, ok=True, error=None, ended=True):
    e = rec.entries[entry]
    return ScheduleAck(rec.schedule_id, rec.version, entry, rate, e.start, e.end if ended else None, ok, error)


def services_query(services, action):
    with services.db.session() as s:
        return services.audit.query(s, AuditFilter(action=action))


def test_a_mixed_batch_is_checked_item_by_item_counted_and_audited_in_one_row(svc, services, clock):
    a = distributed(svc, clock, "bess-0001")
    b = distributed(svc, clock, "bess-0002", spans=((10, 20), (20, 30)))
    svc.record_ack("bess-0001", ack(a, 0))  # already logged before the batch
    before = len(services_query(services, "schedule.acks"))
    unknown_version = ScheduleAck(a.schedule_id, 7, 0, 100.0, a.entries[0].start, a.entries[0].end, True)
    batch = [
        ("bess-0002", ack(b, 0)),             # stored
        ("bess-0001", ack(a, 0)),             # duplicate of a logged ack
        ("bess-0002", ack(b, 0)),             # duplicate inside the batch
        ("bess-0001", ack(b, 1)),             # wrong device
        ("bess-0001", unknown_version),       # unknown version
        ("bess-0002", ScheduleAck(b.schedule_id, 1, 5, 1.0, clock.now(), None, True)),  # unknown entry
        ("bess-0002", ack(b, 1, rate=50.0)),  # stored, deviating
    ]
    results = svc.record_acks(batch)
    assert [r.outcome for r in results] == [AckOutcome.STORED, AckOutcome.DUPLICATE, AckOutcome.DUPLICATE,
                                            AckOutcome.REJECTED, AckOutcome.REJECTED, AckOutcome.REJECTED,
                                            AckOutcome.STORED]
    assert [r.reason for r in results if r.outcome is AckOutcome.REJECTED] == [
        "wrong device", "unknown schedule version", "unknown entry"]
    assert svc.ack_duplicates == 2
    assert dict(svc.ack_rejects) == {"wrong device": 1, "unknown schedule version": 1, "unknown entry": 1}
    assert [(e.device_id, e.ack.entry) for e in svc.execution_log()] == [("bess-0001", 0), ("bess-0002", 0),
                                                                         ("bess-0002", 1)]
    deviating = svc.delivery(b.id, "bess-0002")
    assert deviating.state is DeliveryState.DEVIATING and "planned 100" in deviating.error

    rows = services_query(services, "schedule.acks")
    assert len(rows) == before + 1  # one row for the whole batch
    detail = rows[0].detail
    assert rows[0].result == "denied"  # it held rejected acks
    assert (detail["items"], detail["stored"], detail["duplicates"]) == (7, 2, 2)
    assert detail["rejected"] == {"wrong device": 1, "unknown schedule version": 1, "unknown entry": 1}
    assert detail["schedules"] == sorted({a.schedule_id, b.schedule_id})
    assert {r["reason"] for r in detail["rejected_items"]} == set(detail["rejected"])
    assert detail["deliveries"] == {"executing": 1, "deviating": 1}
    # Lifecycle: one row per schedule and batch; both were acknowledged and completed by their acks.
    completes = services_query(services, "schedule.complete")
    assert sorted(e.resource for e in completes) == sorted(f"schedule:{r.schedule_id}" for r in (a, b))
    assert all(e.detail["steps"] == ["acknowledge", "complete"] for e in completes)
    with services.db.session() as s:
        assert services.audit.verify(s).intact

    rejected = [e for e in svc.events if isinstance(e, ScheduleAckRejected)]
    assert sorted(e.reason for e in rejected) == ["unknown entry", "unknown schedule version", "wrong device"]
    assert [(e.device_id, e.state) for e in svc.events if isinstance(e, ScheduleDeliveryChanged)] == [
        ("bess-0002", "deviating")]


def test_a_failed_batch_stores_nothing_and_counts_nothing(svc, clock, monkeypatch):
    a = distributed(svc, clock, "bess-0001")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(svc.audit, "append_many", broken)
    with pytest.raises(RuntimeError):
        svc.record_acks([("bess-0001", ack(a, 0)), ("bess-0009", ack(a, 0))])
    assert svc.execution_log() == [] and svc.ack_duplicates == 0 and not svc.ack_rejects and svc.events == []
    assert svc.delivery(a.id, "bess-0001").state is DeliveryState.SENT


def test_receipt_moves_the_delivery_to_delivered_then_acks_to_completed(svc, clock):
    rec = distributed(svc, clock, "bess-0001", spans=((10, 20), (20, 30)))
    receipt = ScheduleReceipt(rec.schedule_id, rec.version, clock.now())
    assert svc.record_ack("bess-0001", receipt).outcome is AckOutcome.STORED
    d = svc.delivery(rec.id, "bess-0001")
    assert d.state is DeliveryState.DELIVERED and d.delivered_at == clock.now() and d.acked_entries == 0
    assert svc.get(rec.id).state is ScheduleState.DISTRIBUTED  # a receipt is not an executed entry
    assert svc.record_ack("bess-0001", receipt).outcome is AckOutcome.DUPLICATE
    assert svc.record_ack("bess-0002", receipt).reason == "wrong device"
    svc.record_ack("bess-0001", ack(rec, 0, ended=False))  # running
    assert svc.delivery(rec.id, "bess-0001").state is DeliveryState.EXECUTING
    svc.record_acks([("bess-0001", ack(rec, 0)), ("bess-0001", ack(rec, 1))])  # final ack completes entry 0
    assert svc.delivery(rec.id, "bess-0001").state is DeliveryState.COMPLETED
    assert svc.get(rec.id).state is ScheduleState.COMPLETED
    assert [(e.ack.entry, e.ack.ended_at is not None) for e in svc.execution_log()] == [(0, True), (1, True)]


def test_a_receipt_that_overtakes_the_broker_confirmation_is_kept(svc, clock):
    """The device can hold the version before the publisher records it as sent: the version's own target
    vouches for the device, and marking it distributed afterwards keeps `delivered`."""
    rec = distributed(svc, clock, "bess-0001", mark=False)
    assert svc.record_ack("bess-0001", ScheduleReceipt(rec.schedule_id, rec.version, clock.now())).outcome \
        is AckOutcome.STORED
    assert svc.record_ack("bess-0002", ScheduleReceipt(rec.schedule_id, rec.version, clock.now())).reason \
        == "wrong device"
    clock.advance(timedelta(seconds=1))
    svc.mark_distributed(SYSTEM, rec.id, ["bess-0001"])
    d = svc.delivery(rec.id, "bess-0001")
    assert d.state is DeliveryState.DELIVERED and d.sent_at == clock.now()
    assert svc.get(rec.id).state is ScheduleState.DISTRIBUTED


def test_negative_ack_fails_the_delivery_and_the_schedule_and_raises_an_event(svc, clock):
    rec = distributed(svc, clock, "bess-0001")
    svc.record_ack("bess-0001", ack(rec, 0, rate=0.0, ok=False, error="rejected: schedule expired"))
    assert svc.delivery(rec.id, "bess-0001").state is DeliveryState.FAILED
    assert svc.get(rec.id).state is ScheduleState.FAILED
    assert [(e.state, e.reason) for e in svc.events] == [("failed", "rejected: schedule expired")]


def test_distributing_many_versions_at_once_supersedes_older_ones(svc, clock, services):
    first = distributed(svc, clock, "bess-0001")
    newer = svc.approve(SYSTEM, svc.create_draft(SYSTEM, ScheduleTarget.device("bess-0001"), first.entries).id)
    other = distributed(svc, clock, "bess-0002", mark=False)
    svc.mark_distributed_many(SYSTEM, [(newer.id, ["bess-0001"]), (other.id, ["bess-0002"])])
    svc.mark_distributed_many(SYSTEM, [(newer.id, ["bess-0001"]), (other.id, ["bess-0002"])])  # idempotent
    assert svc.get(first.id).state is ScheduleState.SUPERSEDED
    assert svc.delivery(first.id, "bess-0001").state is DeliveryState.SUPERSEDED
    assert {svc.get(r.id).state for r in (newer, other)} == {ScheduleState.DISTRIBUTED}
    assert [len(svc.deliveries(r.id)) for r in (newer, other)] == [1, 1]
    assert len(services_query(services, "schedule.supersede")) == 1


def test_a_fleet_wide_batch_is_audited_in_one_row_per_action_listing_every_schedule(svc, clock, services):
    n = LIFECYCLE_ROWS_PER_BATCH + 1
    recs = [distributed(svc, clock, f"bess-{i:04d}", mark=False) for i in range(n)]
    svc.mark_distributed_many(SYSTEM, [(r.id, [r.schedule.target.id]) for r in recs])
    svc.record_acks([(r.schedule.target.id, ScheduleReceipt(r.schedule_id, r.version, clock.now())) for r in recs])
    svc.record_acks([(r.schedule.target.id, ack(r, 0)) for r in recs])
    assert {svc.get(r.id).state for r in recs} == {ScheduleState.COMPLETED}

    (distribute,) = services_query(services, "schedule.distribute")
    assert (distribute.resource, distribute.username, distribute.detail["count"]) == (SUMMARY_RESOURCE, "system", n)
    assert distribute.detail["fields"] == ["schedule_id", "version", "row", "target"]
    assert distribute.detail["transitions"] == {"approved->distributed": [
        [r.schedule_id, r.version, r.id, r.schedule.target.id] for r in recs]}
    (complete,) = services_query(services, "schedule.complete")
    assert complete.username == BATCH_ACTOR
    assert sorted(s[0] for s in complete.detail["transitions"]["distributed->completed (acknowledge, complete)"]) \
        == sorted(r.schedule_id for r in recs)
    assert services_query(services, "schedule.acknowledge") == []  # the one-entry schedules completed at once
    with services.db.session() as s:
        assert services.audit.verify(s).intact


def test_a_late_entry_ack_raises_ack_late_and_a_deviation_names_its_entry(svc, clock):
    rec = distributed(svc, clock, "bess-0003", spans=((10, 20), (20, 30)))
    clock.advance(timedelta(minutes=30))  # both entries are over: acks now are 10 and 0 minutes late
    svc.record_acks([("bess-0003", ack(rec, 0)), ("bess-0003", ack(rec, 1, rate=40.0))])
    late = [e for e in svc.events if isinstance(e, ScheduleAckLate)]
    assert [(e.device_id, e.entry, e.latency_s) for e in late] == [("bess-0003", 0, 600.0)]  # limit 300 s
    deviating = [e for e in svc.events if isinstance(e, ScheduleDeliveryChanged)]
    assert [(e.device_id, e.state, e.entry) for e in deviating] == [("bess-0003", "deviating", 1)]


def test_schedule_events_become_the_alarm_engine_inputs(clock):
    now = clock.now()
    failed = alarm_input_of(ScheduleDeliveryChanged("bess-1", "s-1", 2, "deviating", "ran at 40 kW", now, 1))
    assert isinstance(failed, ScheduleEntryFailed)
    assert (failed.device_id, failed.schedule_id, failed.entry_index) == ("bess-1", "s-1 v2", 1)
    assert "deviating: ran at 40 kW" == failed.reason
    slow = alarm_input_of(ScheduleAckLate("bess-1", "s-1", 2, 0, 612.5, now))
    assert isinstance(slow, AckLatencyHigh) and slow.value == 612.5
    assert alarm_input_of(ScheduleAckRejected("bess-1", "s-1", 2, 0, "wrong device", now)) is None
