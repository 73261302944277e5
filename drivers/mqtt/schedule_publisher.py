"""Control side of schedules over MQTT: publish a version retained (QoS 1) on each device's ``schedule`` topic,
and listen to every device's ``ack`` (QoS 1).

Publishing is idempotent: the payload of a version never changes, devices ignore the version they already
hold, and a device that was offline gets the retained message when it subscribes again. A publish counts as
sent when the broker confirms it (PUBACK). The ack listener decodes on paho's thread and hands acks to a
worker thread, so a slow database never stalls the network thread; rejects are counted by reason.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from core.schedules.model import ScheduleEntry as CoreEntry
from core.schedules.records import ScheduleAck, ScheduleReceipt
from drivers.mqtt.broker_config import BrokerConfig
from drivers.mqtt.codec import PayloadRejected, decode, encode
from drivers.mqtt.payloads import AckPayload, ReceiptPayload, ScheduleEntry, SchedulePayload
from drivers.mqtt.topics import TopicKind, fleet_filter, topic_for

log = logging.getLogger(__name__)


def schedule_payload(schedule_id: str, version: int, entries: Sequence[CoreEntry]) -> SchedulePayload:
    """The contract payload of one schedule version."""
    return SchedulePayload(v=1, schedule_id=schedule_id, version=version, entries=[
        ScheduleEntry(start=e.start, end=e.end, mode=int(e.mode), rate_kw=float(e.rate_kw)) for e in entries])


def core_ack(ack: AckPayload | ReceiptPayload) -> ScheduleAck | ScheduleReceipt:
    if isinstance(ack, ReceiptPayload):
        return ScheduleReceipt(ack.schedule_id, ack.version, ack.received_at)
    return ScheduleAck(ack.schedule_id, ack.version, ack.entry, ack.actual_rate_kw, ack.started_at, ack.ended_at,
                       ack.ok, ack.error)


# MQTT 5 lets the ack listener tell the broker how many QoS 1 messages it takes unconfirmed (Receive Maximum);
# with MQTT 3.1.1 Mosquitto sends 20 at a time and queues the rest per client, dropping beyond
# max_queued_messages (1,000 by default): 10,000 devices acking at once lost half of their acks that way.
RECEIVE_MAXIMUM = 65535
# Unlimited: with a cap, paho rescans the messages in flight on every PUBACK (quadratic for a fleet).
PUBLISH_INFLIGHT = 0
SESSION_EXPIRY_S = 7 * 24 * 3600  # how long the broker keeps acks for a persistent listener that is down


# paho 2.2's network loop reads ONE packet per select() (loop_read ignores its max_packets), so 20,000 acks
# were 20,000 loop turns on the listener's thread. The listener reads what the socket holds, up to this many
# packets, per turn; the broker confirmations it owes queue up and go out in the same turn's write.
READ_PACKETS_PER_TURN = 1000


def _read_available(client: mqtt.Client) -> mqtt.MQTTErrorCode:
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


class _Connection:
    def __init__(self, config: BrokerConfig, role: str, filters: list[str], session_id: str | None = None,
                 mqtt5: bool = False) -> None:
        self.config = config
        self.filters = filters
        self.ready = threading.Event()
        self.session_id = session_id
        self.mqtt5 = mqtt5
        if mqtt5:
            self.client = config.make_client(session_id, role=role, mqtt5=True)
        else:
            self.client = config.make_client(session_id, role=role, clean_session=session_id is None)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self.ready.clear()
        self.client.on_subscribe = lambda *a: self.ready.set()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("%s refused by the broker: %s", client._client_id, reason_code)
        elif self.filters:
            client.subscribe([(f, 1) for f in self.filters])
        else:
            self.ready.set()

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


class SchedulePublisher:
    """Publishes schedule versions, retained QoS 1, one message per device."""

    def __init__(self, config: BrokerConfig, timeout_s: float = 10.0) -> None:
        self._conn = _Connection(config, "gridroom-schedules", [])
        # paho confirms 20 publishes at a time by default: a fleet-wide distribution would wait on round trips.
        self._conn.client.max_inflight_messages_set(PUBLISH_INFLIGHT)
        self.timeout_s = timeout_s
        self.confirmed: dict[str, tuple[str, int]] = {}  # device_id -> (schedule_id, version) the broker holds

    def start(self, wait: bool = True) -> None:
        """Connect; without wait, publishes queue in paho until the broker is reachable."""
        self._conn.start(self.timeout_s, wait)

    def stop(self) -> None:
        self._conn.stop()

    async def publish(self, device_ids: Iterable[str], payload: SchedulePayload) -> dict[str, str | None]:
        """Publish one version to every device and wait for the broker: device_id -> None (sent) or why not."""
        return await self.publish_many([(device_id, payload) for device_id in device_ids])

    async def publish_many(self, items: Iterable[tuple[str, SchedulePayload]]) -> dict[str, str | None]:
        """Publish each (device_id, payload), all in flight at once, then wait for every broker confirmation."""
        infos: dict[str, mqtt.MQTTMessageInfo] = {}
        versions: dict[str, tuple[str, int]] = {}
        result: dict[str, str | None] = {}
        for device_id, payload in items:
            versions[device_id] = (payload.schedule_id, payload.version)
            if self.confirmed.get(device_id) == versions[device_id]:
                result[device_id] = None  # the broker already holds exactly this version
                continue
            infos[device_id] = self._conn.client.publish(topic_for(device_id, TopicKind.SCHEDULE), encode(payload),
                                                         qos=1, retain=True)

        def wait() -> None:
            for device_id, info in infos.items():
                try:
                    info.wait_for_publish(self.timeout_s)
                except (RuntimeError, ValueError) as exc:  # not queued (no connection) or rejected by paho
                    result[device_id] = f"not sent: {exc}"
                    continue
                if info.is_published():
                    result[device_id] = None
                    self.confirmed[device_id] = versions[device_id]
                else:
                    result[device_id] = f"the broker did not confirm within {self.timeout_s:g} s"

        await asyncio.to_thread(wait)
        return result


AckHandler = Callable[[list[tuple[str, ScheduleAck | ScheduleReceipt]]], object]
MAX_BATCH = 5000  # a batch is one transaction: bigger batches amortise its fixed cost (commit, audit head)


class AckListener:
    """Subscribes to ``gridroom/v1/+/ack`` and hands decoded acks and receipts, in arrival order and in batches
    of what has arrived (at most MAX_BATCH), to `handler` on a worker thread: one database transaction per batch.

    The connection speaks MQTT 5 with a large Receive Maximum, so the broker streams acks instead of queueing
    them per client (MQTT 3.1.1 for a broker without MQTT 5: BrokerConfig.mqtt5 False). With a `session_id`
    the subscription is a persistent session (fixed client id, clean_start false and a session expiry; with
    3.1.1 clean_session false): the broker keeps the QoS 1 acks that devices send while this
    listener is down (up to its queue limit, across a broker restart when the broker persists) and delivers
    them on reconnect, so a restarted GridRoom loses none. Only one process may use a given session_id at a
    time. `handled` counts entry acks, `receipts` counts receipts."""

    def __init__(self, config: BrokerConfig, handler: AckHandler, timeout_s: float = 10.0,
                 session_id: str | None = None) -> None:
        self._conn = _Connection(config, "gridroom-acks", [fleet_filter(TopicKind.ACK)], session_id,
                                 mqtt5=config.mqtt5)
        self._conn.client.on_message = self._on_message
        self._conn.client.loop_read = lambda max_packets=1: _read_available(self._conn.client)
        self._handler = handler
        self.timeout_s = timeout_s
        self.rejects: Counter[str] = Counter()
        self.handled = 0
        self.receipts = 0
        self.failed = 0  # acks the handler refused even alone (logged)
        self._cond = threading.Condition()
        self._queue: queue.Queue = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="gridroom-ack-worker", daemon=True)

    def start(self, wait: bool = True) -> None:
        self._worker.start()
        self._conn.start(self.timeout_s, wait)

    def wait_ready(self, timeout_s: float) -> bool:
        """True once subscribed: acks published from now on reach the handler."""
        return self._conn.ready.wait(timeout_s)

    def stop(self) -> None:
        self._conn.stop()
        self._queue.put(None)
        self._worker.join(self.timeout_s)

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        try:
            device_id, ack = decode(message.topic, message.payload)
        except PayloadRejected as exc:
            self.rejects[exc.reason] += 1
            return
        if not isinstance(ack, (AckPayload, ReceiptPayload)):
            # Only acks belong here; a broker that delivers another topic to this subscription (seen with the
            # embedded amqtt broker) must not poison a batch of real acks.
            self.rejects["not an ack"] += 1
            return
        self._queue.put((device_id, ack))

    def _work(self) -> None:
        running = True
        while running:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if None in batch:
                running = False
                batch = batch[:batch.index(None)]
            if not batch:
                continue
            items = [(device_id, core_ack(ack)) for device_id, ack in batch]
            try:
                self._handler(items)
            except Exception:
                # One transaction per batch: a failure rolls back every ack in it. Retry them one by one so a
                # single ack that cannot be stored costs only itself.
                log.exception("a batch of %d schedule acks failed; storing them one by one", len(items))
                for item in items:
                    try:
                        self._handler([item])
                    except Exception:
                        self.failed += 1
                        log.exception("schedule ack from %s could not be stored: %s", item[0], item[1])
            receipts = sum(isinstance(ack, ReceiptPayload) for _, ack in batch)
            with self._cond:
                self.handled += len(batch) - receipts
                self.receipts += receipts
                self._cond.notify_all()

    def wait_handled(self, count: int, timeout_s: float = 10.0) -> bool:
        """Block until `count` entry acks have been handled in total (tests and benchmarks wait on this)."""
        with self._cond:
            return self._cond.wait_for(lambda: self.handled >= count, timeout_s)

    def wait_until(self, predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
        """Block until predicate() holds, checked again after every handled batch (counts alone can be met by
        re-delivered duplicates, e.g. after a broker restores an older copy of its queue)."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout_s)

    def wait_receipts(self, count: int, timeout_s: float = 10.0) -> bool:
        """Block until `count` receipts have been handled in total."""
        with self._cond:
            return self._cond.wait_for(lambda: self.receipts >= count, timeout_s)
