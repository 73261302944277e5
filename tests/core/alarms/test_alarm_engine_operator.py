"""Operator actions: acknowledge many, comments, shelving with expiry, out-of-service, alarm list order."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from core.alarms import (
    AlarmState,
    Comparison,
    DeviceOfflineRule,
    IllegalTransitionError,
    Metric,
    OperatorActionRefusedError,
    Priority,
    ThresholdRule,
    TransitionCause,
    UnknownAlarmError,
)

S = AlarmState
SOC_LOW = ThresholdRule("soc_low", Metric.DEVICE_SOC_PCT, Comparison.LOW, 10.0, Priority.WARNING, deadband=2.0)
CELL_HOT = ThresholdRule("cell_hot", Metric.CELL_TEMP_C, Comparison.HIGH, 55.0, Priority.CRITICAL, deadband=2.0)
OFFLINE = DeviceOfflineRule("offline", Priority.INFO)


@pytest.fixture
def engine(make_engine):
    return make_engine([SOC_LOW, CELL_HOT, OFFLINE])


def test_acknowledge_many_only_touches_unacknowledged(engine, clock, snap, store):
    engine.evaluate(snap(soc_pct=[5.0, 5.0, 5.0]))
    engine.acknowledge(["soc_low:dev2"], "ann")
    clock.advance(1)
    engine.evaluate(snap(soc_pct=[5.0, 20.0, 5.0]))  # dev1 returns unacked
    out = engine.acknowledge(["soc_low:dev0", "soc_low:dev1", "soc_low:dev2"], "bob", comment="seen")
    assert [(t.alarm_id, t.from_state, t.to_state) for t in out] == [
        ("soc_low:dev0", S.ACTIVE_UNACKED, S.ACTIVE_ACKED),
        ("soc_low:dev1", S.RETURNED_UNACKED, S.NORMAL),
    ]
    assert all(t.user == "bob" and t.comment == "seen" and t.cause is TransitionCause.ACKNOWLEDGE for t in out)
    assert store.transitions[-2:] == out
    assert [a.alarm_id for a in engine.active_alarms()] == ["soc_low:dev0", "soc_low:dev2"]


def test_acknowledge_with_an_unknown_id_acknowledges_nothing(engine, snap):
    engine.evaluate(snap(soc_pct=[5.0, 50.0, 50.0]))
    with pytest.raises(UnknownAlarmError, match="soc_low:nope"):
        engine.acknowledge(["soc_low:dev0", "soc_low:nope"], "ann")
    assert engine.state_of("soc_low:dev0") is S.ACTIVE_UNACKED
    with pytest.raises(OperatorActionRefusedError, match="user"):
        engine.acknowledge(["soc_low:dev0"], " ")


def test_comments_are_journaled_without_changing_state(engine, clock, snap, store):
    engine.evaluate(snap(soc_pct=[5.0, 50.0, 50.0]))
    clock.advance(60)
    out = engine.comment("soc_low:dev0", "ann", "site crew informed")
    assert len(out) == 1 and out[0].cause is TransitionCause.COMMENT
    assert out[0].from_state is out[0].to_state is S.ACTIVE_UNACKED
    assert out[0].comment == "site crew informed" and out[0].at == clock.now()
    assert engine.comments("soc_low:dev0") == tuple(out)
    assert store.load_active()[0].cause is TransitionCause.CONDITION_ACTIVE  # comments are not state
    with pytest.raises(OperatorActionRefusedError, match="text"):
        engine.comment("soc_low:dev0", "ann", "")


def test_shelved_alarm_returns_unacked_when_still_active_at_expiry(engine, clock, snap):
    engine.evaluate(snap(soc_pct=[5.0, 50.0, 50.0]))
    until = clock.now() + timedelta(hours=2)
    out = engine.shelve("soc_low:dev0", "ann", "known: device in slow charge", until)
    assert out[0].to_state is S.SHELVED and out[0].shelved_until == until
    assert engine.active_alarms() == []
    assert [a.shelved_until for a in engine.active_alarms(include_suppressed=True)] == [until]
    clock.advance(timedelta(hours=1, minutes=59))
    assert engine.evaluate(snap(soc_pct=[5.0, 50.0, 50.0])) == []
    clock.advance(timedelta(minutes=1))
    out = engine.evaluate(snap(soc_pct=[5.0, 50.0, 50.0]))
    assert [(t.from_state, t.to_state, t.cause) for t in out] == [
        (S.SHELVED, S.ACTIVE_UNACKED, TransitionCause.SHELVE_EXPIRED)]


def test_shelved_alarm_that_cleared_meanwhile_returns_to_normal_on_tick(engine, clock, snap):
    engine.evaluate(snap(soc_pct=[5.0, 50.0, 50.0]))
    engine.shelve("soc_low:dev0", "ann", "test", clock.now() + timedelta(minutes=10))
    clock.advance(60)
    assert engine.evaluate(snap()) == []  # cleared while shelved: silent
    clock.advance(timedelta(minutes=9))
    assert [t.to_state for t in engine.tick()] == [S.NORMAL]


def test_unshelve_by_operator(engine, clock, snap):
    engine.evaluate(snap(soc_pct=[5.0, 50.0, 50.0]))
    engine.shelve("soc_low:dev0", "ann", "test", clock.now() + timedelta(minutes=10))
    out = engine.unshelve("soc_low:dev0", "bob")
    assert [(t.to_state, t.user) for t in out] == [(S.ACTIVE_UNACKED, "bob")]
    clock.advance(timedelta(minutes=11))
    assert engine.tick() == []  # the expired shelve is gone, nothing fires twice
    with pytest.raises(IllegalTransitionError, match="not shelved"):
        engine.unshelve("soc_low:dev0", "bob")


@pytest.mark.parametrize(("reason", "delta", "match"), [
    ("", timedelta(hours=1), "reason"),
    ("ok", timedelta(seconds=0), "not in the future"),
    ("ok", timedelta(hours=-1), "not in the future"),
    ("ok", timedelta(hours=24, seconds=1), "capped"),
])
def test_shelve_refusals(engine, clock, snap, reason, delta, match):
    engine.evaluate(snap(soc_pct=[5.0, 50.0, 50.0]))
    with pytest.raises(OperatorActionRefusedError, match=match):
        engine.shelve("soc_low:dev0", "ann", reason, clock.now() + delta)
    assert engine.state_of("soc_low:dev0") is S.ACTIVE_UNACKED


def test_shelve_refuses_naive_until(engine, snap):
    engine.evaluate(snap(soc_pct=[5.0, 50.0, 50.0]))
    with pytest.raises(OperatorActionRefusedError, match="naive"):
        engine.shelve("soc_low:dev0", "ann", "x", datetime(2030, 1, 1))


def test_out_of_service_suppresses_without_losing_the_condition(engine, clock, snap):
    hot = np.full((2, 3), 25.0)
    hot[0, 0] = 60.0
    engine.evaluate(snap(soc_pct=[5.0, 50.0, 50.0], cell_temp_c=hot))
    out = engine.set_out_of_service("bs1", "ann", "cell replacement")
    # Every alarm of the system goes out of service (the journal stays complete), devices stay.
    assert len(out) == 6 and {t.to_state for t in out} == {S.OUT_OF_SERVICE}
    assert {t.from_state for t in out if t.source_id == "bs1/pack01/cell01"} == {S.ACTIVE_UNACKED}
    assert all(t.user == "ann" and t.comment == "cell replacement" for t in out)
    assert [a.alarm_id for a in engine.active_alarms()] == ["soc_low:dev0"]
    clock.advance(1)
    hot[1, 1] = 61.0  # a new condition during maintenance: tracked, not annunciated
    assert engine.evaluate(snap(soc_pct=[5.0, 50.0, 50.0], cell_temp_c=hot)) == []
    hot[0, 0] = 25.0  # the first one clears during maintenance
    assert engine.evaluate(snap(soc_pct=[5.0, 50.0, 50.0], cell_temp_c=hot)) == []
    out = engine.return_to_service("bs1", "ann")
    assert len(out) == 6 and {t.from_state for t in out} == {S.OUT_OF_SERVICE}
    assert [t.alarm_id for t in out if t.to_state is S.ACTIVE_UNACKED] == ["cell_hot:bs1/pack02/cell02"]
    with pytest.raises(OperatorActionRefusedError, match="not out of service"):
        engine.return_to_service("bs1", "ann")


def test_out_of_service_device_and_its_shelved_alarm(engine, clock, snap):
    engine.evaluate(snap(soc_pct=[5.0, 50.0, 50.0], availability=[2, 0, 0]))
    engine.shelve("soc_low:dev0", "ann", "x", clock.now() + timedelta(hours=1))
    out = engine.set_out_of_service("dev0", "ann", "inverter swap")
    assert sorted((t.alarm_id, t.from_state) for t in out) == [
        ("offline:dev0", S.ACTIVE_UNACKED), ("soc_low:dev0", S.SHELVED)]
    with pytest.raises(IllegalTransitionError, match="cannot be shelved"):
        engine.shelve("offline:dev0", "ann", "x", clock.now() + timedelta(hours=1))
    clock.advance(timedelta(hours=2))
    assert engine.tick() == []  # the shelve was replaced by maintenance; its expiry does nothing
    assert {t.to_state for t in engine.return_to_service("dev0", "ann")} == {S.ACTIVE_UNACKED}


def test_active_alarms_sorted_by_priority_then_newest(engine, clock, snap):
    engine.evaluate(snap(soc_pct=[5.0, 50.0, 50.0], availability=[0, 2, 0]))
    clock.advance(10)
    hot = np.full((2, 3), 25.0)
    hot[1, 0] = 60.0
    engine.evaluate(snap(soc_pct=[5.0, 5.0, 50.0], availability=[0, 2, 0], cell_temp_c=hot))
    rows = engine.active_alarms()
    assert [a.alarm_id for a in rows] == [
        "cell_hot:bs1/pack02/cell01", "soc_low:dev1", "soc_low:dev0", "offline:dev1"]
    assert rows[0].priority is Priority.CRITICAL and rows[0].value == 60.0
