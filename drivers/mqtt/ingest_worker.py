"""One telemetry ingest worker process: receive, decode and validate telemetry off the main process.

Why processes: every message costs paho's packet parsing plus pydantic validation, all under one GIL. On a
shared subscription (``$share/<group>/...``, one group per pool) the broker deals the fleet's telemetry out to N workers, so both
costs run on every core, and the main process only applies numpy batches (drivers/mqtt/ingest_pool.py).

A worker sends its parent, over a duplex Pipe, tuples of:
- ``("subscribed", None)`` once the broker confirmed the subscription (again after each reconnect);
- ``("disconnected", None)`` when the broker connection is lost;
- ``("batch", TelemetryBatch)`` every ``flush_interval_s`` or ``max_batch`` messages;
- ``("error", text)`` when it cannot go on (it exits after this).
It stops when the parent sends ``"stop"`` or closes its end, flushing what it has.

Only the topic, payload and schema are checked here; whether a device is registered is the parent's call.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection

import numpy as np

from drivers.mqtt.broker_config import BrokerConfig
from drivers.mqtt.codec import PayloadRejected, RejectReason, decode_parsed
from drivers.mqtt.parent_link import leave_interrupts_to_the_parent, locked_sender, wait_for_stop
from drivers.mqtt.topics import PREFIX, ParsedTopic, TopicCache, TopicError, TopicKind



def shared_telemetry_filter(share_group: str) -> str:
    """Every telemetry topic of the fleet, dealt out among the group's members (MQTT 5 shared subscriptions,
    which Mosquitto also grants to 3.1.1 clients). Each pool has its own group: two control rooms on one
    broker must each get all of the telemetry, not half."""
    return f"$share/{share_group}/{PREFIX}/+/{TopicKind.TELEMETRY.value}"

# Column order of TelemetryBatch.values; the parent maps them onto LiveState and the storage rows.
VALUE_COLUMNS = ("soc_pct", "power_kw", "voltage_v", "current_a", "temp_c", "soh_pct", "mode")


@dataclass(frozen=True)
class TelemetryBatch:
    """Decoded telemetry of one worker batch, columnar (cheap to pickle, ready for numpy)."""

    device_ids: list[str]
    measured_at_ms: np.ndarray  # int64 epoch milliseconds of each measurement
    values: np.ndarray  # float64, shape (n, len(VALUE_COLUMNS))
    messages: int  # received in this batch, valid or not
    rejects: list[tuple[str, str | None, str]]  # (reason, device id or None, detail)


class TelemetryDecoder:
    """Topic + payload -> rows of a TelemetryBatch; rejects are collected with their reason, never raised."""

    def __init__(self) -> None:
        self._topics = TopicCache()

    def decode(self, messages: list[tuple[str, bytes]]) -> TelemetryBatch:
        ids: list[str] = []
        stamps: list[int] = []
        rows: list[tuple[float, ...]] = []
        rejects: list[tuple[str, str | None, str]] = []
        for topic, payload in messages:
            try:
                parsed = self._parse(topic)
                if parsed.kind is not TopicKind.TELEMETRY:
                    raise PayloadRejected(RejectReason.UNKNOWN_TOPIC, parsed.device_id, topic, "not telemetry")
                m = decode_parsed(parsed, topic, payload)
            except PayloadRejected as exc:
                rejects.append((exc.reason, exc.device_id, str(exc)))
                continue
            ids.append(parsed.device_id)
            stamps.append(round(m.ts.timestamp() * 1000))  # type: ignore[attr-defined]
            rows.append((m.soc_pct, m.power_kw, m.voltage_v, m.current_a, m.temp_c, m.soh_pct, m.mode))  # type: ignore[attr-defined]
        return TelemetryBatch(
            ids, np.array(stamps, dtype=np.int64),
            np.array(rows, dtype=np.float64).reshape(len(rows), len(VALUE_COLUMNS)), len(messages), rejects,
        )

    def _parse(self, topic: str) -> ParsedTopic:
        try:
            return self._topics.parse(topic)
        except TopicError as exc:
            raise PayloadRejected(exc.reason, exc.device_id, topic) from None


def run_worker(config: BrokerConfig, conn: Connection, name: str, share_group: str, flush_interval_s: float = 0.05,
               max_batch: int = 2000) -> None:
    """The worker process's main: runs until told to stop or its parent goes away."""
    leave_interrupts_to_the_parent()
    topic_filter = shared_telemetry_filter(share_group)
    pending: deque[tuple[str, bytes]] = deque()
    wake = threading.Event()
    send = locked_sender(conn)  # paho's thread reports subscriptions, this thread sends batches

    def on_connect(client, userdata, flags, reason_code, properties) -> None:
        if not reason_code.is_failure:
            client.subscribe(topic_filter, qos=0)  # clean session: again on every reconnect

    def on_subscribe(client, userdata, mid, reason_codes, properties) -> None:
        if any(code.is_failure for code in reason_codes):
            send(("error", f"broker refused the shared subscription {topic_filter}: {reason_codes[0]}"))
            wake.set()
            return
        send(("subscribed", None))

    def on_disconnect(client, userdata, flags, reason_code, properties) -> None:
        try:
            send(("disconnected", None))
        except OSError:
            pass  # the parent is gone; the main loop notices

    def on_message(client, userdata, message) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = "\x00not utf-8"  # rejected as an unknown topic by the decoder
        pending.append((topic, message.payload))
        if len(pending) >= max_batch:
            wake.set()

    client = config.make_client(role=name)
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_disconnect = on_disconnect
    client.on_message = on_message
    decoder = TelemetryDecoder()
    stop = threading.Event()

    def watch_parent() -> None:
        wait_for_stop(conn)
        stop.set()
        wake.set()

    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
    client.connect_async(config.host, config.port, keepalive=config.keepalive_s)
    client.loop_start()
    try:
        while not stop.is_set():
            wake.wait(flush_interval_s)
            wake.clear()
            _flush(pending, decoder, send)
        client.disconnect()
        client.loop_stop()
        _flush(pending, decoder, send)
    except (BrokenPipeError, EOFError, OSError):
        client.loop_stop()  # the parent is gone; nobody is left to receive what we hold


def _flush(pending: deque, decoder: TelemetryDecoder, send) -> None:
    count = len(pending)
    if count:
        popleft = pending.popleft
        send(("batch", decoder.decode([popleft() for _ in range(count)])))
