"""Threshold and offline rules on snapshots: delay-on, deadband, off-delay, missing readings, pack metrics."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from core.alarms import (
    AlarmState,
    Availability,
    BatterySystemSnapshot,
    Comparison,
    DeviceOfflineRule,
    FleetSnapshot,
    Metric,
    Priority,
    SnapshotError,
    ThresholdRule,
    TransitionCause,
)

S = AlarmState
H, L = Comparison.HIGH, Comparison.LOW


def temp_rule(**kw):
    fields = dict(deadband=2.0, on_delay_s=10.0)
    fields.update(kw)
    return ThresholdRule("cell_temp_high", Metric.CELL_TEMP_C, H, 45.0, Priority.WARNING, **fields)


def cell_temps(hot=None, value=25.0, base=25.0):
    temps = np.full((2, 3), base)
    if hot is not None:
        temps[hot] = value
    return temps


def test_condition_shorter_than_on_delay_never_alarms(make_engine, clock, snap, store):
    engine = make_engine([temp_rule(on_delay_s=10.0)])
    for _ in range(3):  # 9 s above threshold, then back
        assert engine.evaluate(snap(cell_temp_c=cell_temps((0, 1), 50.0))) == []
        clock.advance(3)
    assert engine.evaluate(snap()) == []
    clock.advance(3)
    # and the timer restarted: another 9 s excursion stays quiet too
    for _ in range(4):
        assert engine.evaluate(snap(cell_temp_c=cell_temps((0, 1), 50.0))) == []
        clock.advance(3)
    assert store.transitions == []


def test_condition_held_for_on_delay_alarms_once(make_engine, clock, snap):
    engine = make_engine([temp_rule(on_delay_s=10.0)])
    start = clock.now()
    out = []
    for _ in range(6):
        out += engine.evaluate(snap(cell_temp_c=cell_temps((1, 2), 47.0)))
        clock.advance(5)
    assert len(out) == 1
    t = out[0]
    assert (t.alarm_id, t.source_id, t.from_state, t.to_state) == (
        "cell_temp_high:bs1/pack02/cell03", "bs1/pack02/cell03", S.NORMAL, S.ACTIVE_UNACKED)
    assert t.value == 47.0 and t.cause is TransitionCause.CONDITION_ACTIVE
    assert t.at == start + timedelta(seconds=10)  # the tick 10 s after the first exceedance


def test_noise_inside_deadband_does_not_toggle(make_engine, clock, snap):
    engine = make_engine([temp_rule(on_delay_s=0.0, deadband=2.0)])
    assert len(engine.evaluate(snap(cell_temp_c=cell_temps((0, 0), 45.5)))) == 1
    rng = np.random.default_rng(7)
    for noisy in 45.0 + rng.uniform(-1.9, 1.9, size=200):  # crosses 45 many times, never below 43
        clock.advance(1)
        assert engine.evaluate(snap(cell_temp_c=cell_temps((0, 0), noisy))) == []
    clock.advance(1)
    out = engine.evaluate(snap(cell_temp_c=cell_temps((0, 0), 42.9)))
    assert [(t.from_state, t.to_state) for t in out] == [(S.ACTIVE_UNACKED, S.RETURNED_UNACKED)]


def test_low_rule_mirrors_the_deadband(make_engine, clock, snap):
    rule = ThresholdRule("soc_low", Metric.DEVICE_SOC_PCT, L, 10.0, Priority.WARNING, deadband=2.0)
    engine = make_engine([rule])
    assert [t.source_id for t in engine.evaluate(snap(soc_pct=[9.0, 50.0, 10.0]))] == ["dev0", "dev2"]
    clock.advance(1)
    assert engine.evaluate(snap(soc_pct=[11.9, 50.0, 11.0])) == []
    clock.advance(1)
    assert [t.source_id for t in engine.evaluate(snap(soc_pct=[12.1, 50.0, 11.0]))] == ["dev0"]


def test_off_delay_keeps_alarm_until_clear_for_long_enough(make_engine, clock, snap):
    engine = make_engine([temp_rule(on_delay_s=0.0, off_delay_s=30.0)])
    engine.evaluate(snap(cell_temp_c=cell_temps((0, 0), 50.0)))
    for _ in range(3):
        clock.advance(10)
        assert engine.evaluate(snap()) == []  # clear for 0, 10, 20 s
    clock.advance(10)
    assert [t.to_state for t in engine.evaluate(snap())] == [S.RETURNED_UNACKED]


def test_missing_reading_keeps_the_alarm_as_it_was(make_engine, clock, snap):
    engine = make_engine([temp_rule(on_delay_s=0.0)])
    engine.evaluate(snap(cell_temp_c=cell_temps((0, 0), 50.0)))
    clock.advance(1)
    assert engine.evaluate(snap(cell_temp_c=cell_temps((0, 0), np.nan))) == []
    assert engine.state_of("cell_temp_high:bs1/pack01/cell01") is S.ACTIVE_UNACKED



def test_missing_reading_does_not_restart_the_on_delay(make_engine, clock, snap):
    engine = make_engine([temp_rule(on_delay_s=10.0)])
    assert engine.evaluate(snap(cell_temp_c=cell_temps((1, 1), 50.0))) == []
    clock.advance(5)
    assert engine.evaluate(snap(cell_temp_c=cell_temps((1, 1), np.nan))) == []
    clock.advance(5)
    out = engine.evaluate(snap(cell_temp_c=cell_temps((1, 1), 50.0)))
    assert [t.source_id for t in out] == ["bs1/pack02/cell02"]


def test_pack_imbalance_and_temperature_spread(make_engine, clock, snap):
    rules = [
        ThresholdRule("imb", Metric.PACK_IMBALANCE_V, H, 0.05, Priority.WARNING, deadband=0.01),
        ThresholdRule("spread", Metric.PACK_TEMP_SPREAD_C, H, 8.0, Priority.WARNING, deadband=1.0),
    ]
    engine = make_engine(rules)
    voltage = np.full((2, 3), 3.30)
    voltage[1, 0] = 3.24  # pack 2: 60 mV spread
    temps = np.full((2, 3), 25.0)
    temps[0, 2] = 34.0  # pack 1: 9 C spread
    out = engine.evaluate(snap(voltage_v=voltage, cell_temp_c=temps))
    assert sorted(t.alarm_id for t in out) == ["imb:bs1/pack02", "spread:bs1/pack01"]
    assert {t.alarm_id: t.value for t in out}["imb:bs1/pack02"] == pytest.approx(0.06)


def test_cell_voltage_high_and_low_on_the_same_metric(make_engine, snap):
    rules = [
        ThresholdRule("v_high", Metric.CELL_VOLTAGE_V, H, 3.60, Priority.WARNING, deadband=0.01),
        ThresholdRule("v_low", Metric.CELL_VOLTAGE_V, L, 2.70, Priority.CRITICAL, deadband=0.01),
    ]
    voltage = np.full((2, 3), 3.3)
    voltage[0, 0], voltage[1, 2] = 3.62, 2.6
    out = make_engine(rules).evaluate(snap(voltage_v=voltage))
    assert sorted(t.alarm_id for t in out) == ["v_high:bs1/pack01/cell01", "v_low:bs1/pack02/cell03"]


def test_offline_rule_with_delay(make_engine, clock, snap):
    engine = make_engine([DeviceOfflineRule("offline", Priority.WARNING, on_delay_s=60.0)])
    offline, stale = int(Availability.OFFLINE), int(Availability.STALE)
    assert engine.evaluate(snap(availability=[offline, stale, 0])) == []
    clock.advance(30)
    assert engine.evaluate(snap(availability=[offline, stale, 0])) == []
    clock.advance(30)
    out = engine.evaluate(snap(availability=[offline, stale, 0]))
    assert [(t.alarm_id, t.to_state) for t in out] == [("offline:dev0", S.ACTIVE_UNACKED)]
    clock.advance(1)
    out = engine.evaluate(snap(availability=[stale, stale, 0]))  # stale is not offline: clears
    assert [(t.alarm_id, t.to_state) for t in out] == [("offline:dev0", S.RETURNED_UNACKED)]


def test_layout_change_keeps_state_of_surviving_sources(make_engine, clock):
    rule = ThresholdRule("soc_low", Metric.DEVICE_SOC_PCT, L, 10.0, Priority.WARNING, deadband=2.0)
    engine = make_engine([rule])

    def fleet(ids, soc):
        n = len(ids)
        return FleetSnapshot(tuple(ids), np.asarray(soc, float), np.full(n, 25.0), np.zeros(n))

    engine.evaluate(fleet(["a", "b"], [5.0, 50.0]))
    engine.acknowledge(["soc_low:a"], "op")
    clock.advance(1)
    out = engine.evaluate(fleet(["c", "a"], [5.0, 5.0]))  # b left, c joined, a moved
    assert [t.alarm_id for t in out] == ["soc_low:c"]
    assert engine.state_of("soc_low:a") is S.ACTIVE_ACKED


def test_inconsistent_snapshots_are_refused(make_engine):
    engine = make_engine([temp_rule()])
    with pytest.raises(SnapshotError, match="2 entries for 3 devices"):
        FleetSnapshot(("a", "b", "c"), np.zeros(2), np.zeros(3), np.zeros(3))
    with pytest.raises(SnapshotError, match="unique"):
        engine.evaluate(FleetSnapshot(("a", "a"), np.zeros(2), np.zeros(2), np.zeros(2)))
    with pytest.raises(SnapshotError, match="differ"):
        BatterySystemSnapshot("bs1", np.zeros((2, 3)), np.zeros((3, 2)))
