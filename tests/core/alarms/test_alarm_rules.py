"""Rule validation: bad rules are refused with a typed error naming the field and the reason."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.alarms import (
    METRIC_RANGES,
    Chemistry,
    Comparison,
    DeviceOfflineRule,
    EventKind,
    EventRule,
    Metric,
    Priority,
    RuleValidationError,
    ThresholdRule,
    UnknownMetricError,
    default_rules,
)
from core.alarms.rules import validate_rule_set

W = Priority.WARNING


def rule(**overrides):
    fields = dict(rule_id="r", metric=Metric.CELL_TEMP_C, comparison=Comparison.HIGH, threshold=45.0,
                  priority=W, deadband=2.0, on_delay_s=5.0)
    fields.update(overrides)
    return ThresholdRule(**fields)


def test_valid_rule_accepts_strings_for_enums():
    r = rule(metric="cell_voltage_v", comparison="low", threshold=2.7, deadband=0.01)
    assert r.metric is Metric.CELL_VOLTAGE_V and r.comparison is Comparison.LOW


@pytest.mark.parametrize(("overrides", "field", "reason"), [
    (dict(threshold=float("nan")), "threshold", "finite"),
    (dict(threshold=math.inf), "threshold", "finite"),
    (dict(threshold="45"), "threshold", "finite"),
    (dict(threshold=151.0), "threshold", "outside the physical range -40.0..150.0"),
    (dict(metric=Metric.CELL_VOLTAGE_V, threshold=5.1, deadband=0.0), "threshold", "outside"),
    (dict(metric=Metric.DEVICE_SOC_PCT, threshold=-1.0, comparison="low"), "threshold", "outside"),
    (dict(deadband=-0.1), "deadband", ">= 0"),
    (dict(deadband=190.0), "deadband", "not smaller than the range width"),
    (dict(threshold=-39.0, deadband=2.0), "deadband", "could never clear"),
    (dict(metric=Metric.DEVICE_SOC_PCT, comparison="low", threshold=99.0, deadband=2.0), "deadband", "never clear"),
    (dict(on_delay_s=-1.0), "on_delay_s", ">= 0"),
    (dict(off_delay_s=math.nan), "off_delay_s", "finite"),
    (dict(comparison="sideways"), "comparison", "'high' or 'low'"),
    (dict(priority="urgent"), "priority", "Priority"),
    (dict(rule_id=""), "rule_id", "non-empty"),
    (dict(rule_id="a:b"), "rule_id", "':'"),
])
def test_invalid_rule_is_refused_with_reason(overrides, field, reason):
    with pytest.raises(RuleValidationError) as caught:
        rule(**overrides)
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_unknown_metric_has_its_own_error_listing_known_metrics():
    with pytest.raises(UnknownMetricError, match="cell_temp_c"):
        rule(metric="cell_humidity_pct")


def test_offline_and_event_rules_validate():
    with pytest.raises(RuleValidationError, match="ONLINE"):
        DeviceOfflineRule("off", W, level=0)
    with pytest.raises(RuleValidationError, match="on_delay_s"):
        DeviceOfflineRule("off", W, on_delay_s=-5)
    with pytest.raises(RuleValidationError, match="unknown event kind"):
        EventRule("ev", "meteor_strike", W)
    with pytest.raises(RuleValidationError, match="hold_s"):
        EventRule("ev", EventKind.COMMAND_FAILED, W, hold_s=math.inf)


def test_rule_set_refuses_duplicate_ids():
    with pytest.raises(RuleValidationError, match="duplicate"):
        validate_rule_set([rule(), rule()])


@pytest.mark.parametrize("chemistry", list(Chemistry))
def test_default_rules_are_valid_and_cover_the_brief(chemistry):
    rules = validate_rule_set(default_rules(chemistry))
    metrics = {r.metric for r in rules if isinstance(r, ThresholdRule)}
    assert metrics == set(Metric)
    assert {r.kind for r in rules if isinstance(r, EventRule)} == set(EventKind)
    assert any(isinstance(r, DeviceOfflineRule) for r in rules)
    voltage_high = {r.rule_id: r.threshold for r in rules if r.rule_id.startswith("cell_voltage_high")}
    # LFP cells stop at 3.65 V, NMC at 4.2 V: the chemistry must reach the thresholds.
    assert max(voltage_high.values()) == (3.65 if chemistry is Chemistry.LFP else 4.20)


numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-1000, 1000),
                    st.just("12"), st.none())


@given(metric=st.one_of(st.sampled_from(list(Metric)), st.text(max_size=12)),
       comparison=st.sampled_from(["high", "low"]),
       threshold=numbers, deadband=numbers, on_delay=numbers)
def test_random_rules_validate_or_raise_typed_error(metric, comparison, threshold, deadband, on_delay):
    try:
        r = ThresholdRule("r", metric, comparison, threshold, W, deadband=deadband, on_delay_s=on_delay)
    except RuleValidationError as error:
        assert error.reason and error.field in {"metric", "threshold", "deadband", "on_delay_s"}
        return
    rng = METRIC_RANGES[r.metric]
    assert rng.low <= r.threshold <= rng.high
    assert 0 <= r.deadband < rng.span
    clear = r.threshold - r.deadband if r.comparison is Comparison.HIGH else r.threshold + r.deadband
    assert rng.low <= clear <= rng.high
    assert r.on_delay_s >= 0 and math.isfinite(r.on_delay_s)
