"""One paho connection per broker, shared by every MqttDeviceDriver that talks to it (with refcounts).

Like PyDM's data plugins: a driver per device, one connection per endpoint. The connection runs paho's
own network thread (FACTS.md: paho on its thread is ~10x faster than an asyncio client under Qt) and
routes each message to the listeners of its device id. Waiting for the connection or for a SUBACK is
done with asyncio futures that paho's thread resolves through ``loop.call_soon_threadsafe``, so a driver
awaiting them never blocks the runtime's loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from typing import Callable

import paho.mqtt.client as mqtt

from drivers.base import DriverTimeout, NotConnected
from drivers.mqtt.broker_config import BrokerConfig
from drivers.mqtt.topics import ParsedTopic, TopicError, parse_topic

log = logging.getLogger("gridroom.mqtt.pool")

Listener = Callable[[ParsedTopic, bytes], None]


def _settle(future: asyncio.Future, value: object) -> None:
    if not future.done():
        future.set_result(value)


def resolve_threadsafe(future: asyncio.Future, value: object) -> None:
    """Complete an asyncio future from any thread (ignored if its loop is already closed)."""
    try:
        future.get_loop().call_soon_threadsafe(_settle, future, value)
    except RuntimeError:  # the loop closed meanwhile: nobody is waiting any more
        pass


class SharedMqttConnection:
    """A paho client for one broker, shared by drivers; thread-safe."""

    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.references = 0
        self._closing = False
        self.connected = threading.Event()
        self._lock = threading.Lock()
        self._listeners: dict[str, list[Listener]] = {}
        self._filters: Counter[str] = Counter()  # topic filter -> number of drivers wanting it
        self._connect_waiters: list[asyncio.Future] = []
        self._suback_waiters: dict[int, asyncio.Future] = {}
        self._early_subacks: set[int] = set()
        self.client = config.make_client(role="gridroom-control")
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    @property
    def key(self) -> tuple[str, int]:
        return self.config.host, self.config.port

    def start(self) -> None:
        """Start connecting in the background (paho retries with backoff until close())."""
        self.client.connect_async(self.config.host, self.config.port, keepalive=self.config.keepalive_s)
        self.client.loop_start()

    def close(self) -> None:
        self._closing = True
        self.client.disconnect()
        self.client.loop_stop()
        self.connected.clear()

    # -- paho thread ----------------------------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("broker %s:%s refused the connection: %s", *self.key, reason_code)
            return
        with self._lock:
            filters = list(self._filters)
            waiters, self._connect_waiters = self._connect_waiters, []
        if filters:  # clean session: the broker forgot our subscriptions
            client.subscribe([(f, 1) for f in filters])
        self.connected.set()
        for future in waiters:
            resolve_threadsafe(future, True)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self.connected.is_set() and not self._closing:
            log.warning("lost the broker %s:%s (%s); paho reconnects", *self.key, reason_code)
        self.connected.clear()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        refused = any(code.is_failure for code in reason_codes)
        with self._lock:
            future = self._suback_waiters.pop(mid, None)
            if future is None:
                self._early_subacks.add(mid)  # SUBACK before the subscriber registered its wait
        if future is not None:
            resolve_threadsafe(future, not refused)

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        try:
            parsed = parse_topic(message.topic)
        except TopicError:
            return
        with self._lock:
            listeners = list(self._listeners.get(parsed.device_id, ()))
        for listener in listeners:
            try:
                listener(parsed, message.payload)
            except Exception:  # one driver's bug must not silence the others (or paho's thread)
                log.exception("listener for %s failed on %s", parsed.device_id, message.topic)

    # -- driver side ----------------------------------------------------------------------------
    async def wait_connected(self, timeout_s: float) -> None:
        """Return once connected; raises NotConnected after timeout_s. Never blocks the loop."""
        if self.connected.is_set():
            return
        future = asyncio.get_running_loop().create_future()
        with self._lock:
            self._connect_waiters.append(future)
        if self.connected.is_set():  # connected between the check and the registration
            return
        try:
            await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            raise NotConnected(f"no connection to MQTT broker {self.config.host}:{self.config.port} "
                               f"within {timeout_s:g} s") from None  # fmt: skip
        finally:
            with self._lock:
                if future in self._connect_waiters:
                    self._connect_waiters.remove(future)

    def add_listener(self, device_id: str, listener: Listener) -> None:
        with self._lock:
            self._listeners.setdefault(device_id, []).append(listener)

    def remove_listener(self, device_id: str, listener: Listener) -> None:
        with self._lock:
            listeners = self._listeners.get(device_id, [])
            if listener in listeners:
                listeners.remove(listener)
            if not listeners:
                self._listeners.pop(device_id, None)

    async def subscribe(self, filters: list[str], timeout_s: float) -> None:
        """Subscribe (QoS 1) and await the SUBACK, so messages published afterwards reach us."""
        with self._lock:
            self._filters.update(filters)
        rc, mid = self.client.subscribe([(f, 1) for f in filters])
        if rc != mqtt.MQTT_ERR_SUCCESS:
            raise NotConnected(f"cannot subscribe on {self.config.host}:{self.config.port}: {mqtt.error_string(rc)}")
        future = asyncio.get_running_loop().create_future()
        with self._lock:
            if mid in self._early_subacks:
                self._early_subacks.discard(mid)
                return
            self._suback_waiters[mid] = future
        try:
            granted = await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            raise DriverTimeout(f"broker did not confirm the subscription to {filters} within {timeout_s:g} s") from None
        finally:
            with self._lock:
                self._suback_waiters.pop(mid, None)
        if not granted:
            raise NotConnected(f"broker refused the subscription to {filters}")

    def unsubscribe(self, filters: list[str]) -> None:
        """Drop one reference to each filter; unsubscribe those nobody wants any more."""
        with self._lock:
            gone = []
            for f in filters:
                self._filters[f] -= 1
                if self._filters[f] <= 0:
                    del self._filters[f]
                    gone.append(f)
        if gone and self.connected.is_set():
            self.client.unsubscribe(gone)

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> mqtt.MQTTMessageInfo:
        """Hand a message to paho (non-blocking, thread-safe)."""
        return self.client.publish(topic, payload, qos=qos)


class MqttConnectionPool:
    """Shares one SharedMqttConnection per broker host:port; the connection closes with its last user."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: dict[tuple[str, int], SharedMqttConnection] = {}

    def acquire(self, config: BrokerConfig) -> SharedMqttConnection:
        """The connection to config's broker (the first user's settings govern it); pair with release."""
        with self._lock:
            key = (config.host, config.port)
            connection = self._connections.get(key)
            if connection is None:
                connection = self._connections[key] = SharedMqttConnection(config)
                connection.start()
            connection.references += 1
            return connection

    def release(self, connection: SharedMqttConnection) -> None:
        with self._lock:
            connection.references -= 1
            if connection.references > 0:
                return
            self._connections.pop(connection.key, None)
        connection.close()

    def __len__(self) -> int:
        return len(self._connections)


# Shared by drivers that are not given a pool. Entries live only while a driver holds them, so nothing
# carries over between tests that close their drivers.
DEFAULT_POOL = MqttConnectionPool()
