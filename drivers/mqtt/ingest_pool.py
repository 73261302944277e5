"""TelemetryIngestPool: fleet telemetry decoded in worker processes, applied to LiveState and the writer here.

The broker deals telemetry out to ``workers`` processes on a shared subscription (drivers/mqtt/ingest_worker.py).
Each sends back columnar batches; one receiver thread in this process checks the devices are registered,
writes LiveState with one vectorised call per batch (newest measurement wins, since two workers may hold
messages of the same device) and hands the rows to the storage writer as they are. Status and cell messages
stay with TelemetryIngest, which then subscribes to those alone (``TELEMETRY_ELSEWHERE_FILTERS``).

Needs a broker with shared subscriptions (Mosquitto and other production brokers; not the demo's embedded one).
A worker that dies is logged, counted and started again; its undelivered messages are lost like any QoS 0
telemetry during a reconnect.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import uuid
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait

import numpy as np

from core.clock import Clock, SystemClock
from core.fleet.counters import CountersSnapshot, IngestCounters
from core.fleet.live_state import LiveState
from drivers.mqtt.broker_config import BrokerConfig
from drivers.mqtt.codec import RejectReason
from drivers.mqtt.ingest_worker import VALUE_COLUMNS, TelemetryBatch, run_worker
from drivers.mqtt.reject_log import RejectLog
from drivers.mqtt.topics import TopicKind, fleet_filter

log = logging.getLogger("gridroom.mqtt.ingest_pool")

RowSink = Callable[[Sequence[tuple]], None]
# What the in-process TelemetryIngest subscribes to when the pool has the telemetry.
TELEMETRY_ELSEWHERE_FILTERS = (fleet_filter(TopicKind.STATUS), fleet_filter(TopicKind.CELLS))
_MODE = VALUE_COLUMNS.index("mode")


class _Worker:
    def __init__(self, process: multiprocessing.process.BaseProcess, conn: Connection, name: str) -> None:
        self.process = process
        self.conn = conn
        self.name = name
        self.subscribed = False


class TelemetryIngestPool:
    def __init__(
        self,
        config: BrokerConfig,
        live_state: LiveState,
        *,
        workers: int = 2,
        row_sink: RowSink | None = None,
        counters: IngestCounters | None = None,
        clock: Clock | None = None,
        flush_interval_s: float = 0.05,
        max_batch: int = 2000,
    ) -> None:
        if workers < 1:
            raise ValueError(f"an ingest pool needs at least one worker, not {workers}")
        self._config = config
        self._state = live_state
        self._workers_wanted = workers
        self._row_sink = row_sink
        self.counters = counters or IngestCounters()
        self._clock = clock or SystemClock()
        self._flush_interval_s = flush_interval_s
        self._max_batch = max_batch
        # spawn, not fork: this process runs paho, Qt and asyncio threads that a fork would copy mid-flight.
        self._mp = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._progress = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._receiver: threading.Thread | None = None
        self._rejects = RejectLog(log)
        self.restarts = 0
        self.share_group = f"gridroom-ingest-{uuid.uuid4().hex[:12]}"  # this pool's workers only

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker processes and the receiver; the workers connect (and reconnect) on their own."""
        self._stopping.clear()
        with self._lock:
            self._workers = [self._spawn(i) for i in range(self._workers_wanted)]
        self._receiver = threading.Thread(target=self._receive_loop, name="gridroom-ingest-pool", daemon=True)
        self._receiver.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Tell the workers to stop, take the batches they flush on the way out, and end the receiver."""
        self._stopping.set()
        with self._lock:
            workers = list(self._workers)
        for worker in workers:
            try:
                worker.conn.send("stop")
            except OSError:
                pass  # already gone
        for worker in workers:
            worker.process.join(timeout_s)
            if worker.process.is_alive():
                log.error("ingest worker %s did not stop within %.0f s; killing it", worker.name, timeout_s)
                worker.process.kill()
                worker.process.join(timeout_s)
        if self._receiver is not None:
            self._receiver.join(timeout_s)
            self._receiver = None
        for worker in workers:
            worker.conn.close()

    def wait_subscribed(self, timeout_s: float) -> bool:
        """Block until every worker's shared subscription is confirmed (tests and benchmarks)."""
        with self._progress:
            return self._progress.wait_for(lambda: all(w.subscribed for w in self._workers), timeout_s)

    def wait_until(self, predicate: Callable[[CountersSnapshot], bool], timeout_s: float) -> bool:
        """Block until predicate(counters) holds after some batch; False on timeout."""
        with self._progress:
            return self._progress.wait_for(lambda: predicate(self.counters.snapshot()), timeout_s)

    def wait_disconnected(self, timeout_s: float) -> bool:
        """Block until no worker holds a broker connection (tests of broker restarts)."""
        with self._progress:
            return self._progress.wait_for(lambda: not any(w.subscribed for w in self._workers), timeout_s)

    def wait_restarts(self, count: int, timeout_s: float) -> bool:
        """Block until ``count`` dead workers have been replaced (tests)."""
        with self._progress:
            return self._progress.wait_for(lambda: self.restarts >= count, timeout_s)

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._workers if w.process.pid is not None]

    def degraded_devices(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._rejects.degraded)

    # -- workers ----------------------------------------------------------------------------------
    def _spawn(self, index: int) -> _Worker:
        name = f"gridroom-ingest-{index}"
        here, there = self._mp.Pipe(duplex=True)
        process = self._mp.Process(target=run_worker, name=name, daemon=True,
                                   args=(self._config, there, name, self.share_group, self._flush_interval_s,
                                         self._max_batch))
        process.start()
        there.close()  # the child holds its own copy; closing ours lets us see EOF when it dies
        return _Worker(process, here, name)

    def _receive_loop(self) -> None:
        while True:
            with self._lock:
                by_conn = {w.conn: w for w in self._workers}
            if not by_conn:
                return
            for conn in wait(list(by_conn), timeout=0.5):
                worker = by_conn[conn]  # type: ignore[index]
                try:
                    kind, body = conn.recv()  # type: ignore[union-attr]
                except (EOFError, OSError):
                    self._worker_gone(worker)
                    continue
                if kind == "batch":
                    self._apply(body)
                elif kind in ("subscribed", "disconnected"):
                    with self._progress:
                        worker.subscribed = kind == "subscribed"
                        self._progress.notify_all()
                elif kind == "error":
                    log.error("ingest worker %s: %s", worker.name, body)

    def _worker_gone(self, worker: _Worker) -> None:
        worker.process.join(1.0)
        with self._progress:
            self._workers.remove(worker)
            if not self._stopping.is_set():
                log.error("ingest worker %s ended (exit code %s); starting a new one", worker.name,
                          worker.process.exitcode)
                self.restarts += 1
                self._workers.append(self._spawn(int(worker.name.rsplit("-", 1)[1])))
            self._progress.notify_all()
        worker.conn.close()

    # -- one batch (receiver thread) ------------------------------------------------------------
    def _apply(self, batch: TelemetryBatch) -> None:
        seen_at = self._clock.now().timestamp()
        rejects = [(reason, device_id) for reason, device_id, _ in batch.rejects]
        with self._lock:
            for reason, device_id, detail in batch.rejects:
                self._rejects.rejected(reason, device_id, detail)
        row_of = self._state.row_of
        rows = [row_of(device_id) for device_id in batch.device_ids]
        keep = [row is not None for row in rows]
        ids, stamps, values = batch.device_ids, batch.measured_at_ms, batch.values
        if not all(keep):
            with self._lock:
                for device_id, known in zip(ids, keep):
                    if not known:
                        rejects.append((RejectReason.UNKNOWN_DEVICE, device_id))
                        self._rejects.rejected(RejectReason.UNKNOWN_DEVICE, device_id,
                                               f"unknown device on the telemetry of {device_id!r}")
            mask = np.array(keep, dtype=bool)
            ids = [device_id for device_id, known in zip(ids, keep) if known]
            rows = [row for row in rows if row is not None]
            stamps, values = stamps[mask], values[mask]
        if self._rejects.degraded:
            with self._lock:
                for device_id in set(ids):
                    self._rejects.accepted(device_id)
        if ids:
            with self._state.batch() as writer:
                writer.set_arrays(np.array(rows, dtype=np.int64), stamps / 1000.0,
                                  {name: values[:, i] for i, name in enumerate(VALUE_COLUMNS)}, seen_at)
        self.counters.record_batch(batch.messages, len(ids), rejects, 0)
        if ids and self._row_sink is not None:
            # (device_id, ts_ms, *metrics, mode): the storage writer's row layout, built by zip in C.
            columns = [ids, stamps.tolist(), *values[:, :_MODE].T.tolist(), values[:, _MODE].astype(np.int64).tolist()]
            try:
                self._row_sink(list(zip(*columns)))
            except Exception:  # the storage writer's failure must not stop live data
                self.counters.record_sink_error()
                if self.counters.snapshot().sink_errors == 1:
                    log.exception("ingest pool sink failed; further failures are only counted")
        with self._progress:
            self._progress.notify_all()
