"""Property tests of the two validators devices and the simulator apply: fault requests and commands."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from core.batteries import CELL_METRICS
from core.clock import ManualClock
from drivers.mqtt.payloads import CommandResultPayload
from drivers.sim.command_agent import CommandAgent
from drivers.sim.faults import (
    MODBUS_EXCEPTION_CODES,
    BrokerDrop,
    DeviceOffline,
    FaultMessage,
    FaultMessageError,
    ModbusException,
    ModbusTimeout,
    OverTemperatureCell,
    StuckSensor,
    WeakCell,
    decode_fault_message,
    encode_message,
    fault_message,
)
from drivers.sim.fleet_physics import FleetPhysics
from tests.support.sim_fleet import small_fleet

device_ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.\-]{0,20}\Z")
cells = st.integers(0, 1023)
faults = st.one_of(
    st.builds(DeviceOffline, device_ids),
    st.builds(BrokerDrop, device_ids),
    st.builds(ModbusException, device_ids, st.sampled_from(MODBUS_EXCEPTION_CODES)),
    st.builds(ModbusTimeout, device_ids),
    st.builds(OverTemperatureCell, device_ids, cells, cells, st.floats(0, 10_000)),
    st.builds(WeakCell, device_ids, cells, cells, st.floats(0.001, 1.0), st.floats(1.0, 100.0)),
    st.builds(StuckSensor, device_ids, cells, cells, st.sampled_from(CELL_METRICS)),
)


@given(fault=faults, clear=st.booleans())
def test_every_fault_survives_the_control_topic(fault, clear):
    message = decode_fault_message(encode_message(fault_message(fault, clear=clear, request_id="r-1")))
    assert message.to_fault() == fault
    assert message.clear is clear and message.request_id == "r-1"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 2000) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
fault_like = st.fixed_dictionaries(
    {"v": st.sampled_from([1, 1, 2, "1"]),
     "kind": st.sampled_from(["offline", "broker_drop", "modbus_exception", "modbus_timeout", "over_temperature",
                              "weak_cell", "stuck_sensor", "meltdown"]),
     "device_id": st.sampled_from(["bs-01", "bad/id", ""])},
    optional={name: json_values | st.integers(-2, 1100) | st.sampled_from(CELL_METRICS)
              for name in ("pack", "cell", "code", "extra_heat_w", "capacity_factor", "resistance_factor", "metric",
                           "clear", "request_id", "surprise")},
)  # fmt: skip


@settings(max_examples=300)
@given(body=fault_like)
def test_a_fault_request_is_either_a_valid_fault_or_refused_with_a_reason(body):
    try:
        message = decode_fault_message(json.dumps(body).encode())
    except FaultMessageError as exc:
        assert exc.reason
        return
    assert isinstance(message, FaultMessage)
    fault = message.to_fault()  # valid means complete: the fault can always be built
    assert fault.device_id == body["device_id"]
    assert "surprise" not in body and body["v"] == 1


@given(payload=st.binary(max_size=80))
def test_garbage_on_the_control_topic_is_refused(payload):
    try:
        decode_fault_message(payload)
    except FaultMessageError:
        pass


def _agent() -> tuple[CommandAgent, FleetPhysics]:
    physics = FleetPhysics(small_fleet("h", mqtt_devices=1, modbus_devices=0, packs=2, cells=2), seed=1)
    return CommandAgent(physics, ManualClock(), lambda device_id: True), physics


def _cmd(command_id: str, kind: str, rate_kw: object) -> bytes:
    return json.dumps({"v": 1, "command_id": command_id, "kind": kind, "rate_kw": rate_kw,
                       "ts": datetime(2026, 1, 1, tzinfo=timezone.utc).isoformat()}).encode()


@settings(max_examples=200)
@given(kind=st.sampled_from(["charge", "discharge", "idle", "maintenance"]),
       rate_kw=st.one_of(st.floats(-10, 300), st.just(0.0), st.just(100.0), st.text(max_size=3)))
def test_the_device_accepts_exactly_the_commands_within_its_limits(kind, rate_kw):
    agent, physics = _agent()
    result = agent.handle("h-b00", _cmd("c-1", kind, rate_kw))
    assert isinstance(result, CommandResultPayload) and result.command_id == "c-1"
    valid_rate = isinstance(rate_kw, float) and rate_kw >= 0 and (kind in ("charge", "discharge") or rate_kw == 0)
    within_limit = valid_rate and rate_kw <= 100.0
    assert (result.result == "ok") == within_limit
    if result.result != "ok":
        assert result.reason
        if valid_rate:
            assert "max_" in result.reason and "100" in result.reason  # the limit is named
    assert agent.executed.get("h-b00", 0) == (1 if within_limit else 0)
    assert physics.in_maintenance("h-b00") == (within_limit and kind == "maintenance")


def test_maintenance_refuses_power_until_idle():
    agent, _physics = _agent()
    assert agent.handle("h-b00", _cmd("m", "maintenance", 0.0)).result == "ok"
    refused = agent.handle("h-b00", _cmd("d", "discharge", 10.0))
    assert refused.result == "rejected" and "maintenance" in refused.reason
    assert agent.handle("h-b00", _cmd("i", "idle", 0.0)).result == "ok"
    assert agent.handle("h-b00", _cmd("d2", "discharge", 10.0)).result == "ok"


def test_a_command_id_executes_once_and_answers_the_same_twice():
    agent, physics = _agent()
    first = agent.handle("h-b00", _cmd("dup", "charge", 20.0))
    again = agent.handle("h-b00", _cmd("dup", "charge", 20.0))
    assert first == again and first.result == "ok"
    assert agent.executed["h-b00"] == 1


def test_an_unanswerable_command_is_dropped_and_other_devices_are_ignored():
    agent, _physics = _agent()
    assert agent.handle("h-b00", b"not json") is None
    assert agent.handle("someone-else", _cmd("x", "idle", 0.0)) is None
    broken = agent.handle("h-b00", b'{"v": 1, "command_id": "c-9", "kind": "explode"}')
    assert broken.result == "rejected" and "invalid payload" in broken.reason
