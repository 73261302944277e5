"""The fleet simulator's MQTT client for schedules: one connection receives its devices' ``schedule``
(QoS 1, retained) and publishes their ``ack`` messages and receipts (QoS 1).

It subscribes to each of its devices' schedule topics, not to ``gridroom/v1/+/schedule``: a wildcard would
also bring every other device's retained schedule on the broker, and a flood of those beyond the broker's
per-client queue (Mosquitto: 1,000 messages) would push out the ones this fleet needs.

Acks leave the agent's outbox only when the broker confirms them (PUBACK). While the connection is down, or
a device is off the network, they wait there; on reconnect (or the device's return) they are sent again in
order. A device coming back re-subscribes to its own schedule topic, so the broker hands it the retained
schedule it missed. Callbacks run on paho's network thread.
"""

from __future__ import annotations

import logging
import threading
import time

import paho.mqtt.client as mqtt

from drivers.mqtt.broker_config import BrokerConfig
from drivers.mqtt.topics import TopicError, TopicKind, parse_topic, topic_for
from drivers.sim.schedule_agent import AckKey, ScheduleAgent

log = logging.getLogger("gridroom.sim.schedules")
TOPICS_PER_SUBSCRIBE = 500
MAX_INFLIGHT = 0  # unlimited: paho rescans every message in flight on each PUBACK when capped (O(n^2) for a fleet)


class ScheduleClient:
    def __init__(self, config: BrokerConfig, agent: ScheduleAgent) -> None:
        self._config = config
        self._agent = agent
        self.connected = threading.Event()
        self._lock = threading.Lock()
        # device_id -> key -> publish in flight, so flushing one device never scans the others.
        self._inflight: dict[str, dict[AckKey, mqtt.MQTTMessageInfo]] = {}
        self._pending_subacks: set[int] = set()
        self.client = config.make_client(role="gridroom-sim-schedules")
        # paho's default of 20 unconfirmed publishes would pace a fleet's acks to the round trip.
        self.client.max_inflight_messages_set(MAX_INFLIGHT)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def start(self, timeout_s: float = 10.0) -> None:
        self.client.connect_async(self._config.host, self._config.port, keepalive=self._config.keepalive_s)
        self.client.loop_start()
        if not self.connected.wait(timeout_s):
            raise TimeoutError(f"simulator schedule client could not connect to {self._config.host}:{self._config.port}")

    def stop(self, confirm_timeout_s: float = 2.0) -> None:
        """Disconnect after taking the broker's confirmations of the acks in flight (a device shutting down
        cleanly), so a restarted device does not send them again."""
        if self.connected.is_set():
            self.wait_confirmed(confirm_timeout_s)
        self.client.disconnect()
        self.client.loop_stop()

    def drop_connection(self) -> None:
        """Cut the socket without DISCONNECT (a network failure); paho reconnects by itself."""
        sock = self.client.socket()
        if sock is not None:
            sock.close()

    def device_back(self, device_id: str) -> None:
        """A device returned to the network: fetch its retained schedule again and flush its acks."""
        if self.connected.is_set():
            self.client.subscribe(topic_for(device_id, TopicKind.SCHEDULE), 1)
        self.flush()

    def flush(self, device_id: str | None = None) -> None:
        """Publish every unconfirmed ack (of all devices, or of one) in order; drop confirmed ones from the
        outbox."""
        with self._lock:
            for device in list(self._inflight) if device_id is None else [device_id]:
                inflight = self._inflight.get(device, {})
                done = [key for key, info in inflight.items() if info.is_published()]
                if done:
                    for key in done:
                        del inflight[key]
                    self._agent.confirmed_many(device, done)
            if not self.connected.is_set():
                return
            for device, key, topic, payload in self._agent.pending(device_id):
                inflight = self._inflight.setdefault(device, {})
                if key in inflight:
                    continue
                info = self.client.publish(topic, payload, qos=1)
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    break  # the connection went away: keep the rest (and the order) for the reconnect
                inflight[key] = info

    def wait_confirmed(self, timeout_s: float = 10.0) -> bool:
        """Block until the broker has confirmed every ack in flight now, then drop them from the outboxes
        (tests and benchmarks wait on this). False when one was not confirmed in time."""
        with self._lock:
            infos = [info for inflight in self._inflight.values() for info in inflight.values()]
        deadline = time.monotonic() + timeout_s
        for info in infos:
            try:
                info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            except (RuntimeError, ValueError):
                return False  # not queued: the connection went away
        self.flush()
        return all(info.is_published() for info in infos)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("simulator schedule client refused: %s", reason_code)
            return
        topics = [(topic_for(d, TopicKind.SCHEDULE), 1) for d in self._agent.device_ids]
        # On the network thread: no SUBACK can be handled before these mids are recorded.
        self._pending_subacks = {client.subscribe(topics[i:i + TOPICS_PER_SUBSCRIBE])[1]
                                 for i in range(0, len(topics), TOPICS_PER_SUBSCRIBE)}

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        if any(code.is_failure for code in reason_codes):
            log.error("simulator schedule client: subscription refused: %s", reason_codes)
            return
        self._pending_subacks.discard(mid)
        if not self.connected.is_set() and not self._pending_subacks:
            with self._lock:
                self._inflight.clear()  # unconfirmed before the drop: send again, in order
            self.connected.set()
            self.flush()

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        try:
            parsed = parse_topic(message.topic)
        except TopicError:
            return
        if parsed.kind is not TopicKind.SCHEDULE:
            return
        try:
            queued = self._agent.handle(parsed.device_id, message.payload)
        except Exception:
            log.exception("simulator schedules: failed to handle %s", message.topic)
            return
        if queued:
            self.flush(parsed.device_id)  # send the receipt or the negative ack now
