"""Escalation policy: which channels are due when, once per step, filtered by user preferences."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from core.alarms import Comparison, Metric, Priority, ThresholdRule
from core.alarms.escalation import (
    Channel,
    EscalationPolicy,
    EscalationPolicyError,
    EscalationStep,
    EscalationTracker,
    NotificationPreferences,
    default_escalation,
    due_steps,
)

CELL_HOT = ThresholdRule("cell_hot", Metric.CELL_TEMP_C, Comparison.HIGH, 55.0, Priority.CRITICAL, deadband=2.0)
SOC_LOW = ThresholdRule("soc_low", Metric.DEVICE_SOC_PCT, Comparison.LOW, 10.0, Priority.WARNING, deadband=2.0)
ANN = NotificationPreferences("ann")  # every channel
BOB = NotificationPreferences("bob", channels=frozenset({Channel.DESKTOP, Channel.EMAIL}))


def hot(snap, celsius=60.0):
    temps = np.full((2, 3), 25.0)
    temps[0, 0] = celsius
    return snap(cell_temp_c=temps, soc_pct=[5.0, 50.0, 50.0])


def test_due_steps_is_pure():
    policy = default_escalation()
    assert due_steps(policy, 0.0, frozenset()) == (0,)
    assert due_steps(policy, 5.0, frozenset({0})) == (1,)
    assert due_steps(policy, 20.0, frozenset()) == (0, 1, 2)
    assert due_steps(policy, 20.0, frozenset({0, 1, 2})) == ()


def test_chain_fires_each_step_once_as_time_passes(make_engine, clock, snap):
    engine = make_engine([CELL_HOT, SOC_LOW])
    tracker = EscalationTracker(default_escalation())
    engine.evaluate(hot(snap))
    sent = tracker.due(engine.active_alarms(), clock.now(), [ANN, BOB])
    assert [(n.user, n.channel) for n in sent] == [("ann", Channel.DESKTOP), ("bob", Channel.DESKTOP)]
    assert all(n.alarm_id == "cell_hot:bs1/pack01/cell01" for n in sent)  # warning soc_low does not escalate
    clock.advance(timedelta(minutes=4, seconds=59))
    assert tracker.due(engine.active_alarms(), clock.now(), [ANN, BOB]) == []
    clock.advance(1)
    sent = tracker.due(engine.active_alarms(), clock.now(), [ANN, BOB])
    assert [(n.user, n.channel, n.step_index) for n in sent] == [("ann", Channel.EMAIL, 1), ("bob", Channel.EMAIL, 1)]
    clock.advance(timedelta(minutes=10))
    sent = tracker.due(engine.active_alarms(), clock.now(), [ANN, BOB])
    assert [(n.user, n.channel) for n in sent] == [("ann", Channel.SMS)]  # bob takes no SMS
    clock.advance(timedelta(hours=1))
    assert tracker.due(engine.active_alarms(), clock.now(), [ANN, BOB]) == []


def test_acknowledging_stops_the_chain_and_a_new_activation_restarts_it(make_engine, clock, snap):
    engine = make_engine([CELL_HOT])
    tracker = EscalationTracker(default_escalation())
    engine.evaluate(hot(snap))
    tracker.due(engine.active_alarms(), clock.now(), [ANN])
    clock.advance(60)
    engine.acknowledge(["cell_hot:bs1/pack01/cell01"], "ann")
    clock.advance(timedelta(minutes=30))
    assert tracker.due(engine.active_alarms(), clock.now(), [ANN]) == []
    engine.evaluate(snap())  # clears
    clock.advance(60)
    engine.evaluate(hot(snap))  # activates again
    assert [n.channel for n in tracker.due(engine.active_alarms(), clock.now(), [ANN])] == [Channel.DESKTOP]


def test_late_evaluation_sends_every_overdue_step_at_once(make_engine, clock, snap):
    engine = make_engine([CELL_HOT])
    tracker = EscalationTracker(default_escalation())
    engine.evaluate(hot(snap))
    clock.advance(timedelta(minutes=16))
    sent = tracker.due(engine.active_alarms(), clock.now(), [ANN])
    assert [n.channel for n in sent] == [Channel.DESKTOP, Channel.EMAIL, Channel.SMS]
    assert sent[-1].elapsed_min == pytest.approx(16.0)


def test_min_priority_preference_filters_less_urgent_alarms(make_engine, clock, snap):
    policy = EscalationPolicy((EscalationStep(Channel.EMAIL, 0.0),),
                              priorities=frozenset({Priority.CRITICAL, Priority.WARNING}))
    critical_only = NotificationPreferences("cara", min_priority=Priority.CRITICAL)
    engine = make_engine([CELL_HOT, SOC_LOW])
    engine.evaluate(hot(snap))
    sent = EscalationTracker(policy).due(engine.active_alarms(), clock.now(), [critical_only, ANN])
    assert sorted((n.user, n.alarm_id.split(":")[0]) for n in sent) == [
        ("ann", "cell_hot"), ("ann", "soc_low"), ("cara", "cell_hot")]


@pytest.mark.parametrize(("steps", "match"), [
    ((), "at least one step"),
    ((EscalationStep(Channel.EMAIL, -1.0),), ">= 0"),
    ((EscalationStep(Channel.EMAIL, 5.0), EscalationStep(Channel.SMS, 1.0)), "time order"),
    ((EscalationStep("pigeon", 1.0),), "unknown channel"),
])
def test_policy_validation(steps, match):
    with pytest.raises(EscalationPolicyError, match=match):
        EscalationPolicy(steps)
