"""A simulated fleet of MQTT devices that speaks the GridRoom contract on the wire.

Connections: MQTT allows one last will per connection, so only a device with its own connection gets a
broker-published offline status when it vanishes. The simulator therefore uses one client per device for
small fleets (<= ``per_device_clients_up_to``, default 20) and, for big fleets, a few shared clients
(``shared_clients``) that announce online/offline status explicitly; a dropped shared client then leaves
its devices' status as it was and the control side sees them go stale, then offline, by age.

Fault injection: ``take_offline`` (stop publishing and say offline), ``drop_connection`` (cut a client's
socket without DISCONNECT, so the broker fires its will and paho reconnects), ``publish_bad`` (payloads the
control side must reject).
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import Literal


from core.clock import Clock, SystemClock
from drivers.mqtt.broker_config import BrokerConfig
from drivers.mqtt.payloads import MAX_PAYLOAD_BYTES
from drivers.mqtt.sim_sources import (
    CellSource,
    RandomWalkSource,
    TelemetrySource,
    cells_json,
    status_json,
    telemetry_json,
)
from drivers.mqtt.topics import cells_topic, status_topic, telemetry_topic

log = logging.getLogger("gridroom.mqtt.sim")

BadPayloadKind = Literal["malformed", "wrong_version", "out_of_range", "oversized", "missing_field", "extra_field"]
LAST_WILL_REASON = "connection lost"


@dataclass(frozen=True)
class SimDevice:
    """One simulated device; packs/cells > 0 makes it a battery system that also publishes cells."""

    device_id: str
    packs: int = 0
    cells: int = 0


class _SimClient:
    def __init__(self, config: BrokerConfig, devices: list[SimDevice], own_will: bool) -> None:
        self.devices = devices
        self.connected = threading.Event()
        self.client = config.make_client(role="gridroom-sim")
        if own_will:
            self.client.will_set(status_topic(devices[0].device_id), status_json(False, LAST_WILL_REASON), 1, True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *args: self.connected.clear()
        self.offline: set[str] = set()  # guarded by the simulator's lock

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("simulator client refused: %s", reason_code)
            return
        # Announce (again, after a reconnect) every device this connection speaks for.
        for device in self.devices:
            if device.device_id not in self.offline:
                client.publish(status_topic(device.device_id), status_json(True), qos=1, retain=True)
        self.connected.set()


class DeviceFleetSimulator:
    """Publishes telemetry, status and cells for a set of simulated devices."""

    def __init__(
        self,
        config: BrokerConfig,
        devices: Sequence[SimDevice | str],
        *,
        source: TelemetrySource | None = None,
        cell_source: CellSource | None = None,
        per_device_clients_up_to: int = 20,
        shared_clients: int = 4,
        clock: Clock | None = None,
    ) -> None:
        self.devices = [d if isinstance(d, SimDevice) else SimDevice(d) for d in devices]
        if not self.devices:
            raise ValueError("a simulated fleet needs at least one device")
        walk = RandomWalkSource()
        self._source = source or walk
        self._cell_source = cell_source or walk.cells
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._offline: set[str] = set()
        self.per_device_wills = len(self.devices) <= per_device_clients_up_to
        if self.per_device_wills:
            groups = [[d] for d in self.devices]
        else:
            n = max(1, min(shared_clients, len(self.devices)))
            groups = [self.devices[i::n] for i in range(n)]
        self._clients = [_SimClient(config, group, self.per_device_wills) for group in groups]
        self._client_of = {d.device_id: c for c in self._clients for d in c.devices}
        self._config = config
        self._runner: threading.Thread | None = None
        self._stop_running = threading.Event()

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self, timeout_s: float = 10.0) -> None:
        """Connect every client and announce the devices online; raises TimeoutError if the broker is silent."""
        for sim_client in self._clients:
            sim_client.client.connect_async(self._config.host, self._config.port, keepalive=self._config.keepalive_s)
            sim_client.client.loop_start()
        for sim_client in self._clients:
            if not sim_client.connected.wait(timeout_s):
                raise TimeoutError(f"simulator could not connect to {self._config.host}:{self._config.port}")

    def stop(self, clear_retained: bool = True) -> None:
        """Stop publishing and disconnect. clear_retained removes the retained statuses this fleet left."""
        self.stop_running()
        for sim_client in self._clients:
            if clear_retained and sim_client.connected.is_set():
                for device in sim_client.devices:
                    sim_client.client.publish(status_topic(device.device_id), b"", qos=1, retain=True)
            sim_client.client.disconnect()  # a clean DISCONNECT: the broker discards the will
            sim_client.client.loop_stop()

    def wait_connected(self, timeout_s: float) -> bool:
        """Block until every client has a live session (e.g. after a broker restart)."""
        return all(c.connected.wait(timeout_s) for c in self._clients)

    # -- publishing -------------------------------------------------------------------------------
    def publish_round(self, only: Container[str] | None = None) -> int:
        """Publish one telemetry message (and cells, for battery systems) per online device, or per online
        device in ``only`` (staggered publishing); returns the number of messages handed to paho. Devices
        whose client is disconnected are skipped."""
        now = self._clock.now()
        sent = 0
        for sim_client in self._clients:
            if not sim_client.connected.is_set():
                continue
            publish = sim_client.client.publish
            for device in sim_client.devices:
                device_id = device.device_id
                if device_id in self._offline or (only is not None and device_id not in only):
                    continue
                publish(telemetry_topic(device_id), telemetry_json(now, self._source(device_id, now)), qos=0)
                sent += 1
                for pack in range(device.packs):
                    arrays = self._cell_source(device_id, pack, device.cells, now)
                    publish(cells_topic(device_id, pack), cells_json(now, pack, arrays), qos=0)
                    sent += 1
        return sent

    def run(self, rate_hz: float) -> None:
        """Publish rounds in a background thread at rate_hz until stop_running()."""
        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        self._stop_running.clear()
        period = 1.0 / rate_hz

        def loop() -> None:
            while not self._stop_running.wait(period):
                self.publish_round()

        self._runner = threading.Thread(target=loop, name="gridroom-sim", daemon=True)
        self._runner.start()

    def stop_running(self) -> None:
        self._stop_running.set()
        if self._runner is not None:
            self._runner.join(5.0)
            self._runner = None

    # -- fault injection --------------------------------------------------------------------------
    def take_offline(self, device_id: str, reason: str = "simulated fault") -> None:
        """The device stops publishing and says so (retained offline status)."""
        sim_client = self._client_of[device_id]
        with self._lock:
            self._offline.add(device_id)
            sim_client.offline.add(device_id)
        info = sim_client.client.publish(status_topic(device_id), status_json(False, reason), qos=1, retain=True)
        info.wait_for_publish(5.0)

    def bring_online(self, device_id: str) -> None:
        """The device announces itself online and resumes publishing."""
        sim_client = self._client_of[device_id]
        with self._lock:
            self._offline.discard(device_id)
            sim_client.offline.discard(device_id)
        sim_client.client.publish(status_topic(device_id), status_json(True), qos=1, retain=True).wait_for_publish(5.0)

    def drop_connection(self, device_id: str) -> None:
        """Cut the socket of the client carrying device_id, without an MQTT DISCONNECT.

        The broker then publishes the client's last will (per-device clients) and paho reconnects with
        backoff, re-announcing its devices online.
        """
        sim_client = self._client_of[device_id]
        sock = sim_client.client.socket()
        if sock is not None:
            sim_client.connected.clear()
            sock.shutdown(socket.SHUT_RDWR)

    def publish_bad(self, device_id: str, kind: BadPayloadKind) -> None:
        """Publish one telemetry payload that breaks the contract in the named way (QoS 1, so it arrives)."""
        now = self._clock.now()
        good = telemetry_json(now, self._source(device_id, now))
        payload = {
            "malformed": good[:-5],
            "wrong_version": good.replace(b'"v":1', b'"v":2', 1),
            "out_of_range": good.replace(b'"soh_pct":', b'"soh_pct":1', 1),  # soh 85..100 becomes 185..200
            "oversized": b'{"v":1,"pad":"' + b"x" * MAX_PAYLOAD_BYTES + b'"}',
            "missing_field": good.split(b',"mode"')[0] + b"}",
            "extra_field": good[:-1] + b',"firmware":"1.2.3"}',
        }[kind]
        self._client_of[device_id].client.publish(telemetry_topic(device_id), payload, qos=1).wait_for_publish(5.0)

    def client_count(self) -> int:
        return len(self._clients)


def demo_devices(count: int, prefix: str = "bess", battery_every: int = 0, packs: int = 4, cells: int = 16
                 ) -> list[SimDevice]:
    """Device list for demos and benchmarks: every ``battery_every``-th device also reports cells."""
    return [
        SimDevice(f"{prefix}-{i:05d}", packs if battery_every and i % battery_every == 0 else 0,
                  cells if battery_every and i % battery_every == 0 else 0)
        for i in range(count)
    ]
