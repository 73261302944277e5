"""Decoding and validation of contract payloads: examples for every kind, and fuzzing with hypothesis."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.mqtt.codec import PayloadRejected, RejectReason, decode, encode, kind_of
from drivers.mqtt.payloads import (
    MAX_PAYLOAD_BYTES,
    AckPayload,
    CellsPayload,
    CommandPayload,
    CommandResultPayload,
    SchedulePayload,
    StatusPayload,
    TelemetryPayload,
)
from drivers.mqtt.topics import TopicKind, topic_for

T0 = "2026-03-01T12:00:00.250Z"
GOOD_TELEMETRY = {
    "v": 1, "ts": T0, "soc_pct": 55.5, "power_kw": -120.0, "voltage_v": 790.1, "current_a": -151.9,
    "temp_c": 24.5, "soh_pct": 97.0, "mode": 2,
}
GOOD = {
    TopicKind.STATUS: {"v": 1, "state": "offline", "reason": "connection lost"},
    TopicKind.TELEMETRY: GOOD_TELEMETRY,
    TopicKind.CELLS: {"v": 1, "ts": T0, "pack": 3, "voltage_v": [3.61, 3.62], "temp_c": [25.0, 26.0],
                      "soc_pct": [55.0, 56.0], "soh_pct": [97.0, 96.5], "current_a": -150.0},
    TopicKind.SCHEDULE: {"v": 1, "schedule_id": "sch-42", "version": 3, "entries": [
        {"start": "2026-03-01T12:00:00Z", "end": "2026-03-01T12:15:00Z", "mode": 1, "rate_kw": 250.0},
        {"start": "2026-03-01T12:15:00+00:00", "end": "2026-03-01T14:30:00+01:00", "mode": 2, "rate_kw": 100.0}]},
    TopicKind.ACK: {"v": 1, "schedule_id": "sch-42", "version": 3, "entry": 0, "actual_rate_kw": 248.5,
                    "started_at": "2026-03-01T12:00:01Z", "ended_at": "2026-03-01T12:15:00Z", "ok": True},
    TopicKind.CMD: {"v": 1, "command_id": "cmd-7", "kind": "discharge", "rate_kw": 100.0, "ts": T0},
    TopicKind.CMD_RESULT: {"v": 1, "command_id": "cmd-7", "result": "rejected", "reason": "SoC too low", "ts": T0},
}
MODELS = {TopicKind.STATUS: StatusPayload, TopicKind.TELEMETRY: TelemetryPayload, TopicKind.CELLS: CellsPayload,
          TopicKind.SCHEDULE: SchedulePayload, TopicKind.ACK: AckPayload, TopicKind.CMD: CommandPayload,
          TopicKind.CMD_RESULT: CommandResultPayload}


def topic(kind: TopicKind, device_id: str = "bess-001") -> str:
    return topic_for(device_id, kind, 3 if kind is TopicKind.CELLS else None)


def body(data: dict) -> bytes:
    return json.dumps(data).encode()


def rejected(kind: TopicKind, data: dict | bytes) -> PayloadRejected:
    with pytest.raises(PayloadRejected) as info:
        decode(topic(kind), data if isinstance(data, bytes) else body(data))
    return info.value


@pytest.mark.parametrize("kind", list(TopicKind))
def test_every_kind_decodes_to_its_model_and_round_trips(kind):
    device_id, message = decode(topic(kind), body(GOOD[kind]))
    assert device_id == "bess-001"
    assert type(message) is MODELS[kind]
    assert kind_of(message) is kind
    assert decode(topic(kind), encode(message))[1] == message


def test_times_are_normalised_to_aware_utc():
    _, schedule = decode(topic(TopicKind.SCHEDULE), body(GOOD[TopicKind.SCHEDULE]))
    assert schedule.entries[1].end == datetime(2026, 3, 1, 13, 30, tzinfo=timezone.utc)
    assert schedule.entries[1].end.utcoffset() == timedelta(0)


@pytest.mark.parametrize("kind", list(TopicKind))
@pytest.mark.parametrize("version", [0, 2, 99, "1", 1.0, True, None])
def test_any_other_schema_version_is_unsupported(kind, version):
    exc = rejected(kind, {**GOOD[kind], "v": version})
    assert exc.reason == RejectReason.UNSUPPORTED_VERSION
    assert exc.device_id == "bess-001" and exc.topic == topic(kind)


def test_version_outranks_other_errors_and_missing_version_is_named():
    assert rejected(TopicKind.TELEMETRY, {"v": 2, "totally": "different"}).reason == RejectReason.UNSUPPORTED_VERSION
    no_version = {k: v for k, v in GOOD_TELEMETRY.items() if k != "v"}
    assert rejected(TopicKind.TELEMETRY, no_version).reason == RejectReason.MISSING_VERSION


@pytest.mark.parametrize(
    "field, value",
    [("soc_pct", 100.01), ("soc_pct", -0.1), ("temp_c", 120.5), ("temp_c", -41), ("soh_pct", 101),
     ("power_kw", 1e6), ("voltage_v", -1), ("mode", 5), ("mode", -1)],
)
def test_values_outside_physical_bounds_are_out_of_range(field, value):
    exc = rejected(TopicKind.TELEMETRY, {**GOOD_TELEMETRY, field: value})
    assert exc.reason == RejectReason.OUT_OF_RANGE
    assert field in exc.detail


@pytest.mark.parametrize(
    "change",
    [{"soc_pct": "55"}, {"mode": True}, {"mode": 1.5}, {"ts": "2026-03-01T12:00:00"}, {"ts": 1767225600},
     {"firmware": "1.2"}, {"state": "online"}],
)
def test_wrong_types_naive_times_and_unknown_fields_are_invalid(change):
    assert rejected(TopicKind.TELEMETRY, {**GOOD_TELEMETRY, **change}).reason == RejectReason.INVALID


def test_nan_and_infinity_are_rejected_even_though_python_json_writes_them():
    for token in (b"NaN", b"Infinity", b"-Infinity"):
        payload = body(GOOD_TELEMETRY).replace(b"24.5", token)
        assert rejected(TopicKind.TELEMETRY, payload).reason in (RejectReason.OUT_OF_RANGE, RejectReason.MALFORMED)


def test_structural_rules_of_cells_schedule_ack_and_commands():
    cells = GOOD[TopicKind.CELLS]
    assert rejected(TopicKind.CELLS, {**cells, "temp_c": [25.0]}).reason == RejectReason.INVALID
    assert rejected(TopicKind.CELLS, {**cells, "pack": 4}).reason == RejectReason.PACK_MISMATCH
    assert rejected(TopicKind.CELLS, {**cells, "voltage_v": [3.6, 60.0]}).reason == RejectReason.OUT_OF_RANGE
    schedule = GOOD[TopicKind.SCHEDULE]
    swapped = {**schedule, "entries": schedule["entries"][::-1]}
    assert rejected(TopicKind.SCHEDULE, swapped).reason == RejectReason.INVALID
    backwards = {**schedule, "entries": [{**schedule["entries"][0], "end": "2026-03-01T11:00:00Z"}]}
    assert rejected(TopicKind.SCHEDULE, backwards).reason == RejectReason.INVALID
    assert rejected(TopicKind.SCHEDULE, {**schedule, "entries": [{**schedule["entries"][0], "mode": 3}]}).reason \
        == RejectReason.OUT_OF_RANGE
    assert rejected(TopicKind.ACK, {**GOOD[TopicKind.ACK], "ok": False}).reason == RejectReason.INVALID
    assert rejected(TopicKind.CMD, {**GOOD[TopicKind.CMD], "kind": "idle"}).reason == RejectReason.INVALID
    assert rejected(TopicKind.CMD_RESULT, {**GOOD[TopicKind.CMD_RESULT], "reason": None}).reason \
        == RejectReason.INVALID


def test_size_limit_and_empty_payloads():
    padded = body({**GOOD[TopicKind.STATUS], "reason": "x"}).replace(b'"x"', b'"x"' + b" " * MAX_PAYLOAD_BYTES)
    assert rejected(TopicKind.STATUS, padded).reason == RejectReason.OVERSIZED
    assert rejected(TopicKind.STATUS, b"").reason == RejectReason.EMPTY


@pytest.mark.parametrize(
    "bad_topic, reason",
    [("gridroom/v2/bess-001/telemetry", RejectReason.UNKNOWN_TOPIC), ("other/v1/x/telemetry", RejectReason.UNKNOWN_TOPIC),
     ("gridroom/v1/bess-001/telemetry/extra", RejectReason.UNKNOWN_TOPIC),
     ("gridroom/v1/bess-001/cells/01", RejectReason.UNKNOWN_TOPIC),
     ("gridroom/v1/bess-001/cells/1024", RejectReason.UNKNOWN_TOPIC),
     ("gridroom/v1/-bad/telemetry", RejectReason.INVALID_DEVICE_ID),
     ("gridroom/v1/" + "x" * 65 + "/telemetry", RejectReason.INVALID_DEVICE_ID)],
)
def test_topics_outside_the_tree_are_rejected_before_the_payload(bad_topic, reason):
    with pytest.raises(PayloadRejected) as info:
        decode(bad_topic, body(GOOD_TELEMETRY))
    assert info.value.reason == reason


# -- fuzzing ---------------------------------------------------------------------------------------
ALL_REASONS = {v for k, v in vars(RejectReason).items() if k.isupper()}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)


def assert_decodes_or_rejects(kind: TopicKind, payload: bytes) -> None:
    """The decoder's whole promise: a valid model, or PayloadRejected with a known reason. Nothing else."""
    try:
        device_id, message = decode(topic(kind), payload)
    except PayloadRejected as exc:
        assert exc.reason in ALL_REASONS
        assert exc.device_id == "bess-001"
        return
    assert type(message) is MODELS[kind] and message.v == 1


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(list(TopicKind)), payload=st.binary(max_size=300))
def test_random_bytes_never_escape_as_another_error(kind, payload):
    assert_decodes_or_rejects(kind, payload)


@settings(max_examples=300)
@given(kind=st.sampled_from(list(TopicKind)), data=json_values)
def test_random_json_never_escapes_as_another_error(kind, data):
    assert_decodes_or_rejects(kind, json.dumps(data).encode())


@settings(max_examples=200)
@given(kind=st.sampled_from(list(TopicKind)), field=st.data(), value=json_values)
def test_one_mutated_field_of_a_good_payload_is_decided_cleanly(kind, field, value):
    good = dict(GOOD[kind])
    name = field.draw(st.sampled_from(sorted(good) + ["unexpected"]))
    good[name] = value
    assert_decodes_or_rejects(kind, json.dumps(good).encode())


@settings(max_examples=100)
@given(version=st.integers().filter(lambda v: v != 1) | st.text() | st.floats(allow_nan=False))
def test_fuzzed_versions_are_always_unsupported(version):
    assert rejected(TopicKind.TELEMETRY, {**GOOD_TELEMETRY, "v": version}).reason == RejectReason.UNSUPPORTED_VERSION


@settings(max_examples=50)
@given(extra=st.integers(min_value=1, max_value=4096))
def test_anything_over_the_size_limit_is_oversized(extra):
    payload = body(GOOD_TELEMETRY)
    payload = payload[:-1] + b" " * (MAX_PAYLOAD_BYTES - len(payload) + extra) + b"}"
    assert rejected(TopicKind.TELEMETRY, payload).reason == RejectReason.OVERSIZED


@given(
    soc=st.floats(0, 100), power=st.floats(-100_000, 100_000), temp=st.floats(-40, 120),
    mode=st.integers(0, 4), ts=st.datetimes(timezones=st.just(timezone.utc)),
)
def test_every_in_range_telemetry_is_accepted_and_preserved(soc, power, temp, mode, ts):
    data = {**GOOD_TELEMETRY, "soc_pct": soc, "power_kw": power, "temp_c": temp, "mode": mode,
            "ts": ts.isoformat()}
    _, message = decode(topic(TopicKind.TELEMETRY), body(data))
    assert (message.soc_pct, message.power_kw, message.temp_c, message.mode, message.ts) == (soc, power, temp, mode, ts)
