"""The wire seen by independent peers (mosquitto_sub), the embedded broker, and a broker restart."""

from __future__ import annotations

import json
import subprocess
import threading

import paho.mqtt.client as mqtt
import pytest

from core.fleet import AvailabilityCode, LiveState
from drivers.mqtt.codec import decode
from drivers.mqtt.device_sim import DeviceFleetSimulator, SimDevice
from drivers.mqtt.embedded_broker import EmbeddedBroker
from drivers.mqtt.ingest import TelemetryIngest
from drivers.mqtt.payloads import CellsPayload, StatusPayload, TelemetryPayload
from drivers.mqtt.topics import device_filter

pytestmark = pytest.mark.mosquitto


def subscribe_with_mosquitto_sub(config, topic_filter: str, count: int) -> tuple[subprocess.Popen, threading.Event]:
    """Start mosquitto_sub -v; the event fires once it is subscribed (seen in its -d debug output,
    line-buffered with stdbuf so it arrives when printed)."""
    proc = subprocess.Popen(
        ["stdbuf", "-oL", "mosquitto_sub", "-h", config.host, "-p", str(config.port), "-v", "-d", "-t", topic_filter,
         "-C", str(count), "-W", "10"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: list[str] = []
    subscribed = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "received SUBACK" in line:
                subscribed.set()
            lines.append(line.rstrip("\n"))
        subscribed.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    proc.lines = lines  # type: ignore[attr-defined]
    proc.reader = reader  # type: ignore[attr-defined]
    return proc, subscribed


def test_mosquitto_sub_sees_the_simulator_speak_the_contract(shared_broker, uid):
    device = SimDevice(f"{uid}-rack", packs=2, cells=4)
    proc, subscribed = subscribe_with_mosquitto_sub(shared_broker, device_filter(device.device_id), 4)
    assert subscribed.wait(10)
    sim = DeviceFleetSimulator(shared_broker, [device])
    try:
        sim.start()
        sim.publish_round()
        assert proc.wait(15) == 0
        proc.reader.join(5)
    finally:
        sim.stop()
    prefix = f"gridroom/v1/{device.device_id}/"
    messages = {}
    for line in proc.lines:
        if line.startswith(prefix):  # '-v' prints "topic payload"; '-d' lines start with "Client"
            topic, _, payload = line.partition(" ")
            messages[topic] = payload.encode()
    assert sorted(messages) == sorted(prefix + s for s in ("status", "telemetry", "cells/0", "cells/1"))
    for topic, payload in messages.items():
        device_id, message = decode(topic, payload)
        assert device_id == device.device_id and json.loads(payload)["v"] == 1
    assert decode(prefix + "status", messages[prefix + "status"])[1] == StatusPayload(v=1, state="online")
    assert isinstance(decode(prefix + "telemetry", messages[prefix + "telemetry"])[1], TelemetryPayload)
    cells = decode(prefix + "cells/1", messages[prefix + "cells/1"])[1]
    assert isinstance(cells, CellsPayload) and cells.pack == 1 and len(cells.voltage_v) == 4


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a LISTEN socket on port, from /proc/net/tcp (+tcp6)."""
    found = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = open(path).read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:
                found.add(address)
    return found


def test_embedded_broker_serves_pub_sub_on_loopback_only():
    broker = EmbeddedBroker()
    port = broker.start()
    try:
        assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, and not 0.0.0.0 or ::
        received = threading.Event()
        subscribed = threading.Event()
        got: list[bytes] = []
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        client.on_subscribe = lambda *args: subscribed.set()
        client.on_message = lambda c, u, m: (got.append(m.payload), received.set())
        client.connect(broker.host, port)
        client.loop_start()
        client.subscribe("gridroom/v1/+/status", qos=1)
        assert subscribed.wait(10)
        client.publish("gridroom/v1/demo-1/status", b'{"v":1,"state":"online"}', qos=1)
        assert received.wait(10)
        assert got == [b'{"v":1,"state":"online"}']
        client.disconnect()
        client.loop_stop()
    finally:
        broker.stop()
    assert _listening_addresses(port) == set()


def test_ingest_resumes_after_the_broker_is_killed_and_restarted(private_mosquitto, uid):
    config = private_mosquitto.config()
    devices = [f"{uid}-{i}" for i in range(3)]
    state = LiveState()
    for device in devices:
        state.register(device)
    ingest = TelemetryIngest(config, state)  # the default fleet-wide wildcards: this broker is ours alone
    ingest.start()
    assert ingest.wait_subscribed(10)
    sim = DeviceFleetSimulator(config, devices)
    try:
        sim.start()
        sim.publish_round()
        assert ingest.wait_until(lambda c: c.decoded >= 6, 10)
        before = ingest.counters.snapshot().decoded

        private_mosquitto.kill()
        state.refresh_availability(now=state.snapshot().last_seen.max() + 60, stale_after_s=5, offline_after_s=30)
        assert (state.snapshot().availability == AvailabilityCode.OFFLINE).all()
        private_mosquitto.start()

        assert ingest.wait_subscribed(20), "ingest did not resubscribe after the restart"
        assert sim.wait_connected(20)
        assert ingest.connections >= 2
        # The statuses the devices re-announce on reconnect, then fresh telemetry.
        assert ingest.wait_until(lambda c: c.decoded >= before + 3, 20)
        sim.publish_round()
        assert ingest.wait_until(lambda c: c.decoded >= before + 6, 20)
    finally:
        sim.stop()
        ingest.stop()
    snap = state.snapshot()
    assert (snap.availability == AvailabilityCode.ONLINE).all()
    assert ingest.counters.snapshot().rejected == 0
