"""Event rules (command failure, schedule failure, ack latency, drift), chattering, and restart from a store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.alarms import (
    AckLatencyHigh,
    AlarmEngine,
    AlarmState,
    CommandFailed,
    Comparison,
    EventKind,
    EventRule,
    ForecastDriftDetected,
    Metric,
    Priority,
    ScheduleEntryFailed,
    ThresholdRule,
    TransitionCause,
)
from core.alarms.chatter import ChatterPolicy, ChatterPolicyError

S = AlarmState
EVENT_RULES = [
    EventRule("cmd_failed", EventKind.COMMAND_FAILED, Priority.WARNING, hold_s=300),
    EventRule("sched_failed", EventKind.SCHEDULE_ENTRY_FAILED, Priority.CRITICAL, hold_s=900),
    EventRule("ack_slow", EventKind.ACK_LATENCY_HIGH, Priority.WARNING, hold_s=600),
    EventRule("drift", EventKind.FORECAST_DRIFT, Priority.INFO, hold_s=3600),
]
SOC_LOW = ThresholdRule("soc_low", Metric.DEVICE_SOC_PCT, Comparison.LOW, 10.0, Priority.WARNING, deadband=2.0)


def test_each_event_kind_raises_its_alarm_and_clears_after_the_hold(make_engine, clock):
    engine = make_engine(EVENT_RULES)
    now = clock.now()
    raised = []
    raised += engine.receive(CommandFailed("dev1", "cmd-9", "timeout", now))
    raised += engine.receive(ScheduleEntryFailed("dev2", "sched-3", 4, "rate out of range", now))
    raised += engine.receive(AckLatencyHigh("dev3", 42.0, now))
    raised += engine.receive(ForecastDriftDetected("price-model-v7", 0.31, now))
    assert [(t.alarm_id, t.priority, t.value) for t in raised] == [
        ("cmd_failed:dev1", Priority.WARNING, None),
        ("sched_failed:dev2", Priority.CRITICAL, None),
        ("ack_slow:dev3", Priority.WARNING, 42.0),
        ("drift:price-model-v7", Priority.INFO, 0.31),
    ]
    clock.advance(299)
    assert engine.tick() == []
    clock.advance(1)
    assert [(t.alarm_id, t.to_state) for t in engine.tick()] == [("cmd_failed:dev1", S.RETURNED_UNACKED)]


def test_repeated_event_extends_the_hold_without_a_new_transition(make_engine, clock):
    engine = make_engine(EVENT_RULES)
    engine.receive(CommandFailed("dev1", "c1", "timeout", clock.now()))
    clock.advance(200)
    assert engine.receive(CommandFailed("dev1", "c2", "timeout", clock.now())) == []
    clock.advance(200)
    assert engine.tick() == []  # 400 s after the first, 200 s after the last
    clock.advance(100)
    assert [t.to_state for t in engine.tick()] == [S.RETURNED_UNACKED]


def test_event_without_a_rule_is_refused(make_engine, clock):
    engine = make_engine([SOC_LOW])
    with pytest.raises(TypeError, match="CommandFailed"):
        engine.receive(CommandFailed("dev1", "c1", "timeout", clock.now()))


def test_chattering_source_is_flagged(make_engine, clock, snap):
    engine = make_engine([SOC_LOW], chatter_policy=ChatterPolicy(min_activations=3, window_s=60))
    for _ in range(2):
        engine.evaluate(snap(soc_pct=[5.0, 50.0, 50.0]))
        clock.advance(10)
        engine.evaluate(snap())
        clock.advance(10)
    assert engine.chattering_alarms() == frozenset()
    engine.evaluate(snap(soc_pct=[5.0, 50.0, 50.0]))  # third activation at 40 s
    assert engine.chattering_alarms() == {"soc_low:dev0"}
    assert engine.active_alarms()[0].chattering
    assert engine.chattering_episodes() == {"soc_low:dev0": 1}


def test_slow_toggling_is_not_chattering(make_engine, clock, snap):
    engine = make_engine([SOC_LOW], chatter_policy=ChatterPolicy(min_activations=3, window_s=60))
    for _ in range(5):
        engine.evaluate(snap(soc_pct=[5.0, 50.0, 50.0]))
        clock.advance(20)
        engine.evaluate(snap())
        clock.advance(20)  # activations 40 s apart: 3 span 80 s
    assert engine.chattering_alarms() == frozenset()


def test_chattering_alarm_can_be_suppressed_with_a_note(make_engine, clock, snap):
    policy = ChatterPolicy(min_activations=3, window_s=60, suppress_for_s=600)
    engine = make_engine([SOC_LOW], chatter_policy=policy)
    out = []
    for _ in range(3):
        out += engine.evaluate(snap(soc_pct=[5.0, 50.0, 50.0]))
        clock.advance(5)
        out += engine.evaluate(snap())
        clock.advance(5)
    shelves = [t for t in out if t.cause is TransitionCause.SHELVE]
    assert len(shelves) == 1 and shelves[0].user == "system" and "chattering" in shelves[0].comment
    assert engine.state_of("soc_low:dev0") is S.SHELVED
    for _ in range(3):  # keeps toggling: silent
        assert engine.evaluate(snap(soc_pct=[5.0, 50.0, 50.0])) == []
        clock.advance(5)
        assert engine.evaluate(snap()) == []
        clock.advance(5)
    clock.advance(600)
    assert [t.to_state for t in engine.evaluate(snap())] == [S.NORMAL]


def test_chatter_policy_validation():
    with pytest.raises(ChatterPolicyError, match="min_activations"):
        ChatterPolicy(min_activations=1)
    with pytest.raises(ChatterPolicyError, match="window_s"):
        ChatterPolicy(window_s=0)


def test_engine_resumes_from_store_after_restart(make_engine, clock, snap, store):
    engine = make_engine([SOC_LOW, *EVENT_RULES])
    engine.evaluate(snap(soc_pct=[5.0, 5.0, 50.0]))
    engine.acknowledge(["soc_low:dev1"], "ann")
    engine.shelve("soc_low:dev0", "ann", "slow charge", clock.now() + timedelta(minutes=30))
    engine.receive(CommandFailed("dev2", "c1", "timeout", clock.now()))

    restarted = AlarmEngine([SOC_LOW, *EVENT_RULES], clock, store)
    assert restarted.state_of("cmd_failed:dev2") is S.ACTIVE_UNACKED
    clock.advance(1)
    assert restarted.evaluate(snap(soc_pct=[5.0, 5.0, 50.0])) == []  # nothing re-raised
    assert restarted.state_of("soc_low:dev1") is S.ACTIVE_ACKED
    assert restarted.state_of("soc_low:dev0") is S.SHELVED
    clock.advance(timedelta(minutes=30))
    out = restarted.evaluate(snap(soc_pct=[50.0, 5.0, 50.0]))
    # the shelve expired with the condition clear; the command-failure hold (restarted at boot) ran out
    assert sorted((t.alarm_id, t.to_state) for t in out) == [
        ("cmd_failed:dev2", S.RETURNED_UNACKED), ("soc_low:dev0", S.NORMAL)]
