"""The control side's ack listener: every device's ``ack`` topic (QoS 1), checked and stored in batches.

Acks and receipts are decoded per network turn (drivers/mqtt/ack_decoder.py), on paho's thread in this
process or, with reader_process, in a process of its own (drivers/mqtt/ack_reader_process.py), and handed
to a worker thread here, so a slow database never stalls the network: one handler call (one transaction) per
batch of what has arrived, at most MAX_BATCH. Rejects are counted by reason.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
from collections import Counter
from collections.abc import Callable

from core.schedules.records import ScheduleReceipt
from drivers.mqtt.ack_decoder import AckDecoder, DeviceAck
from drivers.mqtt.ack_reader_process import ack_session, run_ack_reader
from drivers.mqtt.broker_config import BrokerConfig

log = logging.getLogger(__name__)

AckHandler = Callable[[list[DeviceAck]], object]
MAX_BATCH = 5000  # a batch is one transaction: bigger batches amortise its fixed cost (commit, audit head)
# A dead reader process is started again at once; one that dies again before it connected waits 0.5 s, then
# twice as long each time, up to 30 s.
RESTART_DELAY_S = (0.5, 30.0)


class AckListener:
    """Subscribes to ``gridroom/v1/+/ack`` and hands decoded acks and receipts, in arrival order and in batches
    of what has arrived (at most MAX_BATCH), to `handler` on a worker thread: one database transaction per batch.

    The connection speaks MQTT 5 with a large Receive Maximum, so the broker streams acks instead of queueing
    them per client (MQTT 3.1.1 for a broker without MQTT 5: BrokerConfig.mqtt5 False). With a `session_id`
    the subscription is a persistent session: the broker keeps the QoS 1 acks that devices send while this
    listener is down (up to its queue limit, across a broker restart when the broker persists) and delivers
    them on reconnect, so a restarted GridRoom loses none. Only one process may use a given session_id at a
    time. With `reader_process` the connection and decoding run in a child process, started again if it dies.
    `handled` counts entry acks, `receipts` counts receipts."""

    def __init__(self, config: BrokerConfig, handler: AckHandler, timeout_s: float = 10.0,
                 session_id: str | None = None, reader_process: bool = False) -> None:
        self._config = config
        self._session_id = session_id
        self._handler = handler
        self.timeout_s = timeout_s
        self.reader_process = reader_process
        self.rejects: Counter[str] = Counter()
        self.handled = 0
        self.receipts = 0
        self.failed = 0  # acks the handler refused even alone (logged)
        self.reader_restarts = 0
        self.last_error: str | None = None  # why the reader process last could not run
        self.ready = threading.Event()
        self._cond = threading.Condition()
        self._queue: queue.Queue = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="gridroom-ack-worker", daemon=True)
        self._stopping = threading.Event()
        self._session = None
        self._process = None
        self._conn = None
        self._receiver: threading.Thread | None = None
        if not reader_process:
            decoder = AckDecoder()
            self._session = ack_session(config, session_id, decoder, lambda: self._accept(*decoder.take()),
                                        self._set_ready)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self, wait: bool = True) -> None:
        self._worker.start()
        if self._session is not None:
            self._session.start(self.timeout_s, wait)
            return
        self._spawn()
        self._receiver = threading.Thread(target=self._receive, name="gridroom-ack-reader", daemon=True)
        self._receiver.start()
        if wait and not self.ready.wait(self.timeout_s):
            raise TimeoutError(f"cannot reach the MQTT broker at {self._config.host}:{self._config.port}")

    def wait_ready(self, timeout_s: float) -> bool:
        """True once subscribed: acks published from now on reach the handler."""
        return self.ready.wait(timeout_s)

    def stop(self) -> None:
        self._stopping.set()
        if self._session is not None:
            self._session.stop()
        elif self._process is not None:
            try:
                self._conn.send("stop")
            except OSError:
                pass  # already gone
            self._process.join(self.timeout_s)
            if self._process.is_alive():
                log.error("the ack reader process did not stop within %.0f s; killing it", self.timeout_s)
                self._process.kill()
                self._process.join(self.timeout_s)
            if self._receiver is not None:
                self._receiver.join(self.timeout_s)  # it ends with the process, after its last batch
            self._conn.close()
        self._queue.put(None)
        self._worker.join(self.timeout_s)

    # -- the reader process ---------------------------------------------------------------------
    @property
    def reader_pid(self) -> int | None:
        """The reader process's pid (None when reading in this process)."""
        return None if self._process is None else self._process.pid

    def _spawn(self) -> None:
        # spawn, not fork: this process runs paho, Qt and asyncio threads that a fork would copy mid-flight.
        mp = multiprocessing.get_context("spawn")
        if self._conn is not None:
            self._conn.close()  # the dead reader's end
        self._conn, child = mp.Pipe()
        self._process = mp.Process(target=run_ack_reader, args=(self._config, self._session_id, child),
                                   name="gridroom-ack-reader", daemon=True)
        self._process.start()
        child.close()

    def _receive(self) -> None:
        delay = 0.0
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                self._set_ready(False)
                if self._stopping.is_set():
                    return
                # The session (persistent with a session_id) keeps what the dead reader had not confirmed. A reader
                # that cannot even start (a missing certificate file) is retried at a growing interval.
                self._process.join(self.timeout_s)
                log.error("the ack reader process ended (exit code %s); starting it again in %.1f s",
                          self._process.exitcode, delay)
                if self._stopping.wait(delay):
                    return
                delay = min(max(delay * 2, RESTART_DELAY_S[0]), RESTART_DELAY_S[1])
                self._spawn()
                with self._cond:
                    self.reader_restarts += 1
                    self._cond.notify_all()
                continue
            if message[0] == "batch":
                self._accept(message[1], message[2])
            elif message[0] == "error":
                self.last_error = message[1]
                log.error("the ack reader process cannot run: %s", message[1])
            elif message[0] == "ready":
                self._set_ready(message[1])
                if message[1]:
                    delay = 0.0

    # -- batches --------------------------------------------------------------------------------
    def _set_ready(self, up: bool) -> None:
        (self.ready.set if up else self.ready.clear)()
        with self._cond:
            self._cond.notify_all()

    def _accept(self, items: list[DeviceAck], rejects: Counter) -> None:
        if rejects:
            with self._cond:
                self.rejects.update(rejects)
                self._cond.notify_all()
        if items:
            self._queue.put(items)

    def _work(self) -> None:
        pending: list[DeviceAck] = []
        stopping = False
        while pending or not stopping:
            if not pending:
                got = self._queue.get()
                if got is None:
                    stopping = True
                    continue
                pending = got
            while len(pending) < MAX_BATCH and not stopping:
                try:
                    got = self._queue.get_nowait()
                except queue.Empty:
                    break
                if got is None:
                    stopping = True
                else:
                    pending.extend(got)
            batch, pending = pending[:MAX_BATCH], pending[MAX_BATCH:]
            self._handle(batch)

    def _handle(self, batch: list[DeviceAck]) -> None:
        try:
            self._handler(batch)
        except Exception:
            # One transaction per batch: a failure rolls back every ack in it. Retry them one by one so a
            # single ack that cannot be stored costs only itself.
            log.exception("a batch of %d schedule acks failed; storing them one by one", len(batch))
            for item in batch:
                try:
                    self._handler([item])
                except Exception:
                    self.failed += 1
                    log.exception("schedule ack from %s could not be stored: %s", item[0], item[1])
        receipts = sum(isinstance(ack, ScheduleReceipt) for _, ack in batch)
        with self._cond:
            self.handled += len(batch) - receipts
            self.receipts += receipts
            self._cond.notify_all()

    # -- waiting (tests and benchmarks) ---------------------------------------------------------
    def wait_handled(self, count: int, timeout_s: float = 10.0) -> bool:
        """Block until `count` entry acks have been handled in total."""
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
