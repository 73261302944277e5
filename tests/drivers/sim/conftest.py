"""Fixtures for the fleet simulator tests: the shared Mosquitto, a started small fleet, a wire recorder."""

from __future__ import annotations

import uuid

import pytest

from core.clock import ManualClock
from drivers.mqtt.broker_config import BrokerConfig
from drivers.sim.fleet_sim import FleetSimulator
from tests.support.services import require_mosquitto
from tests.support.sim_fleet import MqttRecorder, small_fleet


@pytest.fixture
def shared_broker() -> BrokerConfig:
    host, port = require_mosquitto()
    return BrokerConfig(host=host, port=port, reconnect_min_delay_s=0.2, reconnect_max_delay_s=2.0)


@pytest.fixture
def uid() -> str:
    return "s" + uuid.uuid4().hex[:10]


@pytest.fixture
def manual_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def recorder(shared_broker, uid):
    """Everything this test's devices say, plus the simulator control results."""
    # Only this test's devices: a fleet-wide wildcard would also take other runs' traffic and retained
    # statuses, and a flood of those could crowd out the messages the test waits for.
    devices = [f"{uid}-b{i:02d}" for i in range(10)] + [f"{uid}-m1", f"{uid}-m2", f"{uid}-bs"]
    rec = MqttRecorder(shared_broker, [f"gridroom/v1/{d}/#" for d in devices] + ["gridroom/sim/fault/result"])
    yield rec
    rec.stop()


@pytest.fixture
def fleet(shared_broker, uid, manual_clock, recorder):
    """A started small fleet (10 MQTT + 2 Modbus BESS + a 10 x 10 battery system), stopped afterwards."""
    sim = FleetSimulator(small_fleet(uid), shared_broker, manual_clock, seed=7)
    sim.start()
    yield sim
    sim.stop()
