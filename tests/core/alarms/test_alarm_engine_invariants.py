"""Lifecycle invariants of the engine under random readings and operator actions (hypothesis)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.alarms import (
    AlarmEngine,
    AlarmError,
    AlarmState,
    Comparison,
    InMemoryAlarmStore,
    Metric,
    Priority,
    ThresholdRule,
    TransitionCause,
)
from core.alarms.bank import STATE_ORDER
from core.clock import ManualClock

from .conftest import SnapshotBuilder

S = AlarmState
RULE = ThresholdRule("soc_low", Metric.DEVICE_SOC_PCT, Comparison.LOW, 10.0, Priority.WARNING,
                     deadband=2.0, on_delay_s=3.0, off_delay_s=2.0)
IDS = ["soc_low:dev0", "soc_low:dev1", "soc_low:dev2"]

steps = st.one_of(
    st.tuples(st.just("reading"), st.lists(st.sampled_from([0.0, 9.0, 11.0, 13.0, 50.0, np.nan]),
                                           min_size=3, max_size=3)),
    st.tuples(st.just("advance"), st.integers(0, 900)),
    st.tuples(st.just("ack"), st.lists(st.sampled_from(IDS), max_size=3)),
    st.tuples(st.just("shelve"), st.tuples(st.sampled_from(IDS), st.integers(-60, 90_000))),
    st.tuples(st.just("unshelve"), st.sampled_from(IDS)),
    st.tuples(st.just("oos"), st.sampled_from(["dev0", "dev1", "dev2"])),
    st.tuples(st.just("rts"), st.sampled_from(["dev0", "dev1", "dev2"])),
    st.tuples(st.just("tick"), st.none()),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(steps, max_size=40))
def test_random_sequences_never_reach_an_illegal_state(sequence):
    clock, store = ManualClock(), InMemoryAlarmStore()
    engine = AlarmEngine([RULE], clock, store)
    snap = SnapshotBuilder()
    engine.evaluate(snap())
    for kind, arg in sequence:
        try:
            if kind == "reading":
                engine.evaluate(snap(soc_pct=arg))
            elif kind == "advance":
                clock.advance(arg)
            elif kind == "ack":
                engine.acknowledge(arg, "op")
            elif kind == "shelve":
                engine.shelve(arg[0], "op", "test", clock.now() + timedelta(seconds=arg[1]))
            elif kind == "unshelve":
                engine.unshelve(arg, "op")
            elif kind == "oos":
                engine.set_out_of_service(arg, "op", "maintenance")
            elif kind == "rts":
                engine.return_to_service(arg, "op")
            else:
                engine.tick()
        except AlarmError:
            pass  # refusals are typed; the invariants below must hold regardless
        bank = engine._banks["soc_low"]
        for row in range(bank.size):
            state = STATE_ORDER[int(bank.state[row])]
            # the state agrees with the debounced condition whenever the alarm is in service
            if state in (S.ACTIVE_UNACKED, S.ACTIVE_ACKED):
                assert bank.cond[row]
            if state in (S.NORMAL, S.RETURNED_UNACKED):
                assert not bank.cond[row]
    # the journal chains: each record starts where the previous one of the same alarm ended
    last: dict[str, AlarmState] = {}
    for t in store.transitions:
        assert t.from_state is last.get(t.alarm_id, S.NORMAL)
        if t.cause is TransitionCause.COMMENT:
            assert t.from_state is t.to_state
        last[t.alarm_id] = t.to_state
    for alarm_id, state in last.items():
        assert engine.state_of(alarm_id) is state
