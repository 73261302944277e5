"""Username/password against a real Mosquitto that demands them, and a broker restart during ingest
with the storage writer in the path: devices come back and nothing already committed is lost."""

from __future__ import annotations

import getpass
import shutil
import subprocess
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from core.clock import ManualClock
from core.fleet.live_state import AvailabilityCode, LiveState
from core.telemetry.tables import telemetry_raw
from core.telemetry.writer import TelemetryWriter
from drivers.mqtt.broker_config import BrokerConfig
from drivers.mqtt.device_sim import DeviceFleetSimulator
from drivers.mqtt.ingest import TelemetryIngest
from tests.drivers.mqtt.conftest import MosquittoProcess
from tests.support.services import unavailable


@pytest.fixture
def password_broker(tmp_path):
    if shutil.which("mosquitto_passwd") is None:
        unavailable("mosquitto_passwd binary")
    passwords = tmp_path / "passwords"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), "gridroom", "Control-Room-Pass-1"], check=True)
    subprocess.run(["mosquitto_passwd", "-b", str(passwords), "dev-1", "Device-Pass-One-1"], check=True)
    # Started as root, Mosquitto would drop to user "mosquitto" and could not read the 0700 test folder.
    broker = MosquittoProcess(tmp_path, extra=f"user {getpass.getuser()}\npassword_file {passwords}", allow_anonymous=False)
    broker.start()
    yield broker
    broker.kill()


def test_ingest_with_username_and_password(password_broker, uid):
    base = password_broker.config()
    good = BrokerConfig(host=base.host, port=base.port, username="gridroom", password="Control-Room-Pass-1")
    device = BrokerConfig(host=base.host, port=base.port, username="dev-1", password="Device-Pass-One-1")
    state = LiveState()
    state.register("dev-1")
    ingest = TelemetryIngest(good, state)
    ingest.start()
    sim = DeviceFleetSimulator(device, ["dev-1"])
    try:
        assert ingest.wait_subscribed(10)
        sim.start()
        sim.publish_round()
        assert ingest.wait_until(lambda c: c.decoded >= 2, 10)
    finally:
        sim.stop()
        ingest.stop()
    # A wrong password never gets a subscription.
    bad = BrokerConfig(host=base.host, port=base.port, username="gridroom", password="wrong-password")
    refused = TelemetryIngest(bad, LiveState())
    refused.start()
    try:
        assert not refused.wait_subscribed(2)
    finally:
        refused.stop()


def test_broker_restart_during_ingest_loses_nothing_committed(private_mosquitto, sqlite_services, uid):
    config = private_mosquitto.config()
    devices = [f"{uid}-{i}" for i in range(5)]
    state = LiveState()
    for device in devices:
        state.register(device)
    writer = TelemetryWriter(sqlite_services.db, flush_interval_s=0.2)
    handed = threading.Condition()
    samples_seen = [0]

    def sink(batch):
        writer.submit_samples(batch)
        with handed:
            samples_seen[0] += len(batch)
            handed.notify_all()

    def wait_samples(n: int) -> bool:
        with handed:
            return handed.wait_for(lambda: samples_seen[0] >= n, 20)

    ingest = TelemetryIngest(config, state, sink=sink)
    ingest.start()
    clock = ManualClock(datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc))
    sim = DeviceFleetSimulator(config, devices, clock=clock)  # distinct sample times: rows are keyed by time

    def stored() -> int:
        assert writer.flush(10)
        with sqlite_services.db.session() as s:
            return s.execute(select(func.count()).select_from(telemetry_raw)).scalar()

    try:
        assert ingest.wait_subscribed(10)
        sim.start()
        for _ in range(3):
            sim.publish_round()
            clock.advance(2)
        assert wait_samples(15)
        ingest.flush()
        before = stored()
        assert before == 15

        private_mosquitto.kill()
        private_mosquitto.start()
        assert ingest.wait_subscribed(20) and sim.wait_connected(20)
        sim.publish_round()
        assert wait_samples(20)
        ingest.flush()
        after = stored()
    finally:
        sim.stop()
        ingest.stop()
        writer.stop(10)
    assert after == before + 5  # everything committed before the restart is still there, plus the new round
    snap = state.snapshot()
    assert (snap.availability == AvailabilityCode.ONLINE).all()
