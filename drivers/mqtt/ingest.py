"""TelemetryIngest: MQTT telemetry, status and cells from the broker into LiveState, in batches.

Threads: paho's own network thread receives; its on_message only appends the raw message to a deque.
Decoding, validation and the LiveState write happen per batch: every ``flush_interval_s`` or every
``max_batch`` messages, whichever comes first. Where the batch runs is ``flush_mode``:
``"thread"`` (a small batching thread, woken early when max_batch is reached) or ``"inline"`` (the paho
thread flushes a full batch itself; the batching thread only flushes the tail). benchmarks/mqtt_ingest.py
measures both. Each decoded batch is also handed to the optional ``sink`` (the storage writer).

Bad messages are counted per reason and per device, logged once per device (and once more when the device
recovers), and dropped; the device is reported degraded. Nothing else is disturbed.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Literal

import paho.mqtt.client as mqtt

from core.clock import Clock, SystemClock
from core.fleet.counters import CountersSnapshot, IngestCounters
from core.fleet.live_state import LiveState
from core.fleet.samples import PackCellSample, StatusChange, TelemetrySample
from drivers.mqtt.broker_config import BrokerConfig
from drivers.mqtt.codec import PayloadRejected, RejectReason, decode_parsed
from drivers.mqtt.payloads import CellsPayload, StatusPayload, TelemetryPayload
from drivers.mqtt.reject_log import RejectLog
from drivers.mqtt.topics import INGEST_FILTERS, ParsedTopic, TopicCache, TopicError, TopicKind

log = logging.getLogger("gridroom.mqtt.ingest")

TelemetrySink = Callable[[list[TelemetrySample]], None]
CellSink = Callable[[list[PackCellSample]], None]
StatusSink = Callable[[list[StatusChange]], None]
FlushMode = Literal["thread", "inline"]

_UNDECODABLE_TOPIC = "\x00not utf-8"  # parse_topic rejects it as an unknown topic


def _topic_of(message: mqtt.MQTTMessage) -> str:
    # Runs on paho's thread, where an exception would end the network loop.
    try:
        return message.topic
    except UnicodeDecodeError:
        return _UNDECODABLE_TOPIC


class TelemetryIngest:
    """Subscribes to the fleet's telemetry/status/cells topics and keeps LiveState current."""

    def __init__(
        self,
        config: BrokerConfig,
        live_state: LiveState,
        *,
        sink: TelemetrySink | None = None,
        cell_sink: CellSink | None = None,
        status_sink: StatusSink | None = None,
        counters: IngestCounters | None = None,
        auto_register: bool = False,
        filters: Sequence[str] = INGEST_FILTERS,
        flush_interval_s: float = 0.05,
        max_batch: int = 2000,
        flush_mode: FlushMode = "thread",
        clock: Clock | None = None,
    ) -> None:
        if flush_mode not in ("thread", "inline"):
            raise ValueError(f"flush_mode must be 'thread' or 'inline', not {flush_mode!r}")
        self._config = config
        self._state = live_state
        self._sink = sink
        self._cell_sink = cell_sink
        self._status_sink = status_sink
        self.counters = counters or IngestCounters()
        self._auto_register = auto_register
        self._filters = tuple(filters)
        self._flush_interval_s = flush_interval_s
        self._max_batch = max_batch
        self._inline = flush_mode == "inline"
        self._clock = clock or SystemClock()

        # (topic, payload) pairs, not paho's MQTTMessage objects: a tuple of a str and bytes is dropped from
        # the garbage collector's tracking, so messages waiting here do not drive full collections.
        self._pending: deque[tuple[str, bytes]] = deque()  # append/popleft are thread-safe
        self._flush_lock = threading.Lock()  # one batch at a time, whichever thread runs it
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._progress = threading.Condition()  # notified after every batch, for wait_until
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self._connections = 0
        self._topics = TopicCache()
        self._rejects = RejectLog(log)
        self._batcher: threading.Thread | None = None
        self._client = config.make_client(role="gridroom-ingest")
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message_inline if self._inline else self._on_message

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background (retrying with backoff until the broker answers) and start ingesting."""
        self._stopping.clear()
        self._batcher = threading.Thread(target=self._batch_loop, name="gridroom-ingest-batcher", daemon=True)
        self._batcher.start()
        self._client.connect_async(self._config.host, self._config.port, keepalive=self._config.keepalive_s)
        self._client.loop_start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Disconnect, stop both threads, and process whatever was already received."""
        self._stopping.set()
        self._client.disconnect()
        self._client.loop_stop()
        self._wake.set()
        if self._batcher is not None:
            self._batcher.join(timeout_s)
            self._batcher = None
        self.flush()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def connections(self) -> int:
        """How many times a session was established (1 + successful reconnects)."""
        return self._connections

    def wait_subscribed(self, timeout_s: float) -> bool:
        """Block until the broker confirmed the subscriptions of the current session."""
        return self._subscribed.wait(timeout_s)

    def wait_until(self, predicate: Callable[[CountersSnapshot], bool], timeout_s: float) -> bool:
        """Block until predicate(counters) holds after some batch; False on timeout. For tests and tools."""
        with self._progress:
            return self._progress.wait_for(lambda: predicate(self.counters.snapshot()), timeout_s)

    def degraded_devices(self) -> frozenset[str]:
        """Devices whose latest message was rejected (cleared by their next good message)."""
        with self._flush_lock:
            return frozenset(self._rejects.degraded)

    # -- paho callbacks (network thread) ---------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("broker %s:%s refused the connection: %s", self._config.host, self._config.port, reason_code)
            return
        self._connections += 1
        self._connected.set()
        if self._connections > 1:
            log.info("reconnected to %s:%s; resubscribing", self._config.host, self._config.port)
        # Clean session: subscriptions die with the connection, so every (re)connect subscribes again.
        client.subscribe([(topic_filter, 0) for topic_filter in self._filters])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        failed = [code for code in reason_codes if code.is_failure]
        if failed:
            log.error("broker refused %d of %d subscriptions: %s", len(failed), len(reason_codes), failed[0])
        self._subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()
        self._subscribed.clear()
        if was_connected and not self._stopping.is_set():
            log.warning("lost broker %s:%s (%s); reconnecting with backoff",
                        self._config.host, self._config.port, reason_code)

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        # Hot path: no decoding here, just hand the message over.
        pending = self._pending
        pending.append((_topic_of(message), message.payload))
        if len(pending) >= self._max_batch and not self._wake.is_set():
            self._wake.set()

    def _on_message_inline(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        pending = self._pending
        pending.append((_topic_of(message), message.payload))
        if len(pending) >= self._max_batch:
            self.flush()

    # -- batching ---------------------------------------------------------------------------------
    def _batch_loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self._flush_interval_s)
            self._wake.clear()
            self.flush()

    def flush(self) -> int:
        """Decode and apply everything received so far, as one batch; returns how many messages."""
        with self._flush_lock:
            pending = self._pending
            count = len(pending)
            if count == 0:
                return 0
            popleft = pending.popleft
            batch = [popleft() for _ in range(count)]
            try:
                self._process(batch)
            except Exception:  # a bug here must not kill the ingest thread; say so loudly
                log.exception("ingest batch of %d messages failed", count)
                self.counters.record_batch(count, 0, [("internal error", None)] * count, len(pending))
        with self._progress:
            self._progress.notify_all()
        return count

    def _parse(self, topic: str) -> ParsedTopic:
        try:
            return self._topics.parse(topic)
        except TopicError as exc:
            raise PayloadRejected(exc.reason, exc.device_id, topic) from None

    def _known(self, parsed: ParsedTopic, topic: str, message) -> None:
        """Make sure the device (and, for cells, the battery system shape) is registered."""
        device_id = parsed.device_id
        if parsed.kind is TopicKind.CELLS:
            shape = self._state.battery_shape(device_id)
            cells = len(message.voltage_v)
            if shape is None and not self._auto_register:
                raise PayloadRejected(RejectReason.UNKNOWN_DEVICE, device_id, topic, "not a registered battery system")
            if shape is not None and shape[1] != cells:
                raise PayloadRejected(RejectReason.INVALID, device_id, topic,
                                      f"{cells} cells per pack, registered with {shape[1]}")
            if shape is None or parsed.pack >= shape[0]:
                self._state.register_battery_system(device_id, (parsed.pack or 0) + 1, cells)
        elif self._state.row_of(device_id) is None:
            if not self._auto_register:
                raise PayloadRejected(RejectReason.UNKNOWN_DEVICE, device_id, topic)
            self._state.register(device_id, source="mqtt")

    def _process(self, batch: list[tuple[str, bytes]]) -> None:
        now = self._clock.now()
        seen_at = now.timestamp()
        samples: list[TelemetrySample] = []
        cells: list[PackCellSample] = []
        statuses: list[StatusChange] = []
        rejects: list[tuple[str, str | None]] = []
        ignored = 0
        reject_log = self._rejects
        row_of = self._state.row_of
        auto_register = self._auto_register
        for topic, payload in batch:
            try:
                parsed = self._parse(topic)
                kind = parsed.kind
                if kind is TopicKind.TELEMETRY:  # the hot path: enum identity checks, no hashing
                    if row_of(parsed.device_id) is None and not auto_register:
                        # Cheapest rejection first: no point validating what nobody registered.
                        raise PayloadRejected(RejectReason.UNKNOWN_DEVICE, parsed.device_id, topic)
                    message = decode_parsed(parsed, topic, payload)
                    if auto_register:
                        self._known(parsed, topic, message)
                elif kind is TopicKind.STATUS or kind is TopicKind.CELLS:
                    if kind is TopicKind.STATUS and not payload:
                        # An empty retained status is how a decommissioned device's status is cleared.
                        ignored += 1
                        continue
                    message = decode_parsed(parsed, topic, payload)
                    self._known(parsed, topic, message)
                else:
                    raise PayloadRejected(RejectReason.UNKNOWN_TOPIC, parsed.device_id, topic, "not an ingest topic")
            except PayloadRejected as exc:
                rejects.append((exc.reason, exc.device_id))
                reject_log.rejected(exc.reason, exc.device_id, str(exc))
                continue
            device_id = parsed.device_id
            reject_log.accepted(device_id)
            if kind is TopicKind.TELEMETRY:
                m: TelemetryPayload = message  # type: ignore[assignment]
                samples.append(TelemetrySample(device_id, m.ts, now, m.soc_pct, m.power_kw, m.voltage_v,
                                               m.current_a, m.temp_c, m.soh_pct, m.mode))
            elif kind is TopicKind.STATUS:
                s: StatusPayload = message  # type: ignore[assignment]
                statuses.append(StatusChange(device_id, s.state == "online", s.reason, now))
            else:
                c: CellsPayload = message  # type: ignore[assignment]
                cells.append(PackCellSample(device_id, c.pack, c.ts, now, tuple(c.voltage_v), tuple(c.temp_c),
                                            tuple(c.soc_pct), tuple(c.soh_pct), c.current_a))
        self._apply(samples, cells, statuses, seen_at)
        self.counters.record_batch(len(batch), len(batch) - len(rejects) - ignored, rejects, len(self._pending),
                                   ignored=ignored)
        self._hand_to_sinks(samples, cells, statuses)

    def _apply(self, samples, cells, statuses, seen_at: float) -> None:
        # One LiveState batch (one version bump), applied in arrival order per kind.
        with self._state.batch() as writer:
            writer.set_samples(samples, seen_at)
            for pack in cells:
                writer.set_cells(pack.device_id, pack.pack, pack.voltage_v, pack.temp_c, pack.soc_pct,
                                 pack.soh_pct, pack.current_a, seen_at)
            for change in statuses:
                if change.online:
                    writer.set_online(change.device_id, seen_at)
                else:
                    writer.set_offline(change.device_id, change.reason or "offline")

    def _hand_to_sinks(self, samples, cells, statuses) -> None:
        for sink, items in ((self._sink, samples), (self._cell_sink, cells), (self._status_sink, statuses)):
            if sink is None or not items:
                continue
            try:
                sink(items)
            except Exception:  # the storage writer's failure must not stop live data
                self.counters.record_sink_error()
                if self.counters.snapshot().sink_errors == 1:
                    log.exception("ingest sink %r failed; further failures are only counted", sink)
