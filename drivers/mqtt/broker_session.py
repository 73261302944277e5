"""One paho connection of the control side's schedule traffic, connected in the background (paho reconnects
by itself), with what a fleet-sized QoS 1 stream needs: MQTT 5's Receive Maximum, an optional persistent
session, and a network loop that reads every packet waiting instead of one per turn."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from drivers.mqtt.broker_config import BrokerConfig

log = logging.getLogger(__name__)

# MQTT 5 lets a subscriber tell the broker how many QoS 1 messages it takes unconfirmed (Receive Maximum);
# with MQTT 3.1.1 Mosquitto sends 20 at a time and queues the rest per client, dropping beyond
# max_queued_messages (1,000 by default): 10,000 devices acking at once lost half of their acks that way.
RECEIVE_MAXIMUM = 65535
SESSION_EXPIRY_S = 7 * 24 * 3600  # how long the broker keeps messages for a persistent subscriber that is down

# paho 2.2's network loop reads ONE packet per select() (loop_read ignores its max_packets), so 20,000 acks
# were 20,000 loop turns. A session reads what the socket holds, up to this many packets, per turn; the
# broker confirmations it owes queue up and go out in the same turn's write.
READ_PACKETS_PER_TURN = 1000


def read_available(client: mqtt.Client) -> mqtt.MQTTErrorCode:
    """paho's loop_read, reading until the socket has nothing more (or READ_PACKETS_PER_TURN packets)."""
    for _ in range(READ_PACKETS_PER_TURN):
        if client._sock is None:
            return mqtt.MQTTErrorCode.MQTT_ERR_NO_CONN
        rc = client._packet_read()
        if rc > 0:
            return client._loop_rc_handle(rc)
        if rc == mqtt.MQTTErrorCode.MQTT_ERR_AGAIN:
            break
    return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS


class BrokerSession:
    """A paho client for `role`, subscribed (QoS 1) to `filters` on every (re)connect. `ready` is set once
    subscribed (or connected, without filters) and cleared on a disconnect; `on_ready(bool)` hears both.

    With a `session_id` the subscription is a persistent session (fixed client id; MQTT 5: clean_start false
    and a session expiry, 3.1.1: clean_session false): the broker keeps the QoS 1 messages sent while this
    client is down and delivers them on reconnect. `after_read` runs after each network turn's reads, before
    that turn's confirmations (PUBACKs) go out."""

    def __init__(self, config: BrokerConfig, role: str, filters: list[str], session_id: str | None = None,
                 mqtt5: bool = False, on_ready: Callable[[bool], None] | None = None,
                 after_read: Callable[[], None] | None = None) -> None:
        self.config = config
        self.filters = filters
        self.ready = threading.Event()
        self.session_id = session_id
        self.mqtt5 = mqtt5
        self._on_ready = on_ready or (lambda up: None)
        if mqtt5:
            self.client = config.make_client(session_id, role=role, mqtt5=True)
        else:
            self.client = config.make_client(session_id, role=role, clean_session=session_id is None)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self._set_ready(False)
        self.client.on_subscribe = lambda *a: self._set_ready(True)
        if after_read is not None:
            def loop_read(max_packets: int = 1) -> mqtt.MQTTErrorCode:
                rc = read_available(self.client)
                after_read()
                return rc
            self.client.loop_read = loop_read

    def _set_ready(self, up: bool) -> None:
        (self.ready.set if up else self.ready.clear)()
        self._on_ready(up)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("%s refused by the broker: %s", client._client_id, reason_code)
        elif self.filters:
            client.subscribe([(f, 1) for f in self.filters])
        else:
            self._set_ready(True)

    def start(self, timeout_s: float, wait: bool) -> None:
        """Connect in the background; with wait, block until subscribed (or connected) or raise TimeoutError."""
        if self.mqtt5:
            props = Properties(PacketTypes.CONNECT)
            props.ReceiveMaximum = RECEIVE_MAXIMUM
            if self.session_id is not None:
                props.SessionExpiryInterval = SESSION_EXPIRY_S
            # clean_start False on every (re)connect: the broker resumes the session and hands over what it kept.
            self.client.connect_async(self.config.host, self.config.port, keepalive=self.config.keepalive_s,
                                      clean_start=self.session_id is None, properties=props)
        else:
            self.client.connect_async(self.config.host, self.config.port, keepalive=self.config.keepalive_s)
        self.client.loop_start()
        if wait and not self.ready.wait(timeout_s):
            raise TimeoutError(f"cannot reach the MQTT broker at {self.config.host}:{self.config.port}")

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
