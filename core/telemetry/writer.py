"""TelemetryWriter: the one storage writer thread that commits telemetry, cell samples and status changes.

Callers (the MQTT ingest's batch thread, the Modbus poller) hand over lists through ``submit_*``: a lock
and a deque append, never a database call, so they never wait on disk. The writer thread takes up to
``max_batch`` rows every ``flush_interval_s`` (sooner when the batch is full, a flush is asked for, or the
writer stops) and commits them in ONE transaction with executemany. Re-delivered samples (same device and
timestamp) are ignored by the insert itself (ON CONFLICT DO NOTHING on both backends).

Cell samples are encoded by a CellRowEncoder (fixed-point arrays; SoC and SoH about once a minute, see
core/telemetry/cell_rows.py) and keyed by a small integer per device, assigned in the same transaction as
the rows and cached once that transaction has committed.

When a commit fails (database gone, disk full, table missing) the batch is retried with a bounded
exponential backoff; after ``max_attempts`` it is parked in memory, counted and logged as an error, and the
writer goes on with newer data. ``requeue_parked()`` puts parked rows back at the front of the queue once
the cause is fixed. Nothing leaves the queue without being committed, rejected (counted), or parked
(counted); the thread survives every error.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from core.clock import Clock, SystemClock
from core.errors import StorageError
from core.fleet.counters import IngestCounters
from core.fleet.samples import PackCellSample, StatusChange, TelemetrySample
from core.storage.database import Database
from core.telemetry.cell_rows import CellRowEncoder
from core.telemetry.keys import ensure_device_keys
from core.telemetry.tables import RAW_METRICS, cell_samples, status_changes, telemetry_raw
from core.telemetry.timecodes import to_epoch_ms

log = logging.getLogger("gridroom.storage.writer")

_TELEMETRY, _CELLS, _STATUS = "telemetry", "cells", "status"

# A telemetry_raw row as the writer queues and inserts it; a tuple (not a dict, not a sample object) because a
# tuple of numbers and strings drops out of the garbage collector's tracking while it waits in the queue.
TelemetryRow = tuple
TELEMETRY_ROW_COLUMNS = ("device_id", "ts_ms", *RAW_METRICS, "mode")
if tuple(column.name for column in telemetry_raw.columns) != TELEMETRY_ROW_COLUMNS:  # positional inserts rely on it
    raise RuntimeError("telemetry_raw's columns are not in TELEMETRY_ROW_COLUMNS order")


class WriterStopped(StorageError):
    """Data was submitted to a writer that has been stopped."""


@dataclass(frozen=True)
class WriterStats:
    """A consistent copy of the writer's counters. Every submitted row is in exactly one of
    queued (incl. in flight), committed, rejected or parked."""

    submitted_rows: int
    committed_rows: int  # written or ignored as a duplicate of a stored row
    rejected_rows: int  # invalid (naive time, non-finite value): logged, never retried
    parked_rows: int  # gave up after max_attempts: held in memory until requeue_parked()
    queued_rows: int
    max_queued_rows: int
    commits: int
    failed_commits: int
    last_error: str | None
    last_write_latency_s: float  # submit -> commit of the oldest row in the last batch


@dataclass
class _Chunk:
    kind: str
    items: list
    t_real: float  # time.monotonic() at submit: drives batching deadlines
    t_clock: float  # clock.monotonic() at submit: write latency

    def split(self, count: int) -> "_Chunk":
        head = _Chunk(self.kind, self.items[:count], self.t_real, self.t_clock)
        self.items = self.items[count:]
        return head


@dataclass
class _State:
    pending: deque = field(default_factory=deque)
    parked: deque = field(default_factory=deque)
    queued: int = 0
    max_queued: int = 0
    submitted: int = 0
    committed: int = 0
    rejected: int = 0
    parked_rows: int = 0
    commits: int = 0
    failed_commits: int = 0
    last_error: str | None = None
    latency_s: float = float("nan")
    flush_target: int = 0  # submitted-count a flush() waits for
    stopping: bool = False


def _insert_ignoring_duplicates(db: Database, table: Table, *, positional: bool = False) -> str:
    """The INSERT ... ON CONFLICT DO NOTHING for table, compiled once to the driver's own SQL for
    ``_stream_rows``: named parameters (``:name`` / ``%(name)s``) for dict rows, or positional ones
    (``?`` / ``%s``, in the table's column order) for tuple rows."""
    if db.backend == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
        dialect = sqlite.dialect(paramstyle="qmark" if positional else "named")
    else:
        stmt = postgresql.insert(table).on_conflict_do_nothing()
        dialect = postgresql.psycopg.dialect(paramstyle="format") if positional else db.engine.dialect
    return str(stmt.compile(dialect=dialect))


def _stream_rows(conn, sql: str, rows) -> None:
    """executemany on the driver's cursor, inside conn's transaction, with rows as a lazy iterable.

    Why not conn.execute(insert, rows): SQLAlchemy materialises a parameter list per row before the driver
    sees the first one. At ingest rates those lists outlive young-generation collections, get promoted, and
    trigger full garbage collections; the drivers consume an iterator row by row instead (sqlite3 releases
    the GIL for each step, psycopg pipelines the statements). The SQL is still parameterized.
    """
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()


def _already_a_row(row: TelemetryRow | None) -> TelemetryRow | None:
    return row  # telemetry is converted at submit (see submit_samples)


def _measured(value: float) -> float | None:
    """NaN means the device has no such reading (stored as NULL); infinities are garbage (the row is refused)."""
    if math.isnan(value):
        return None
    if math.isinf(value):
        raise ValueError("infinite reading")
    return value


class TelemetryWriter:
    """One thread, batched transactions; see the module docstring for the guarantees."""

    def __init__(
        self,
        db: Database,
        counters: IngestCounters | None = None,
        clock: Clock | None = None,
        flush_interval_s: float = 1.0,
        max_batch: int = 20000,
        max_attempts: int = 5,
        retry_backoff_s: tuple[float, float] = (0.1, 5.0),
    ) -> None:
        if max_batch < 1 or max_attempts < 1 or flush_interval_s <= 0:
            raise ValueError("max_batch and max_attempts must be >= 1 and flush_interval_s > 0")
        self.db = db
        self.counters = counters
        self.clock = clock or SystemClock()
        self.flush_interval_s = flush_interval_s
        self.max_batch = max_batch
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        self._insert_raw = _insert_ignoring_duplicates(db, telemetry_raw, positional=True)
        self._insert_cells = _insert_ignoring_duplicates(db, cell_samples)
        self._insert_status = status_changes.insert()
        self._cell_encoder = CellRowEncoder()
        self._device_keys: dict[str, int] = {}  # committed keys only
        self._state = _State()
        self._cond = threading.Condition()
        self._retry_wait = threading.Event()  # set only to cut a backoff short at stop()
        self._failing = False
        self._thread = threading.Thread(target=self._run, name="gridroom-storage-writer", daemon=True)
        self._thread.start()

    # -- producers (any thread) ----------------------------------------------------------------
    def submit_samples(self, samples: Sequence[TelemetrySample]) -> None:
        """Queue device telemetry; returns at once.

        The samples are turned into row tuples here, not in the writer thread: a tuple of numbers and
        strings is not tracked by Python's cyclic garbage collector, while a queued sample object is, and
        at ingest rates queued samples got promoted to the oldest generation and triggered full collections
        (benchmarks/mqtt_ingest.py reports the GC time). None marks a sample that cannot be stored.
        """
        telemetry_row = self._telemetry_row
        self._submit(_TELEMETRY, [telemetry_row(s) for s in samples])

    def submit_rows(self, rows: Sequence[TelemetryRow]) -> None:
        """Queue telemetry already in row form (the ingest workers' path): (device_id, ts_ms, *RAW_METRICS,
        mode) tuples of finite values, as ``TELEMETRY_ROW_COLUMNS`` names them; returns at once."""
        self._submit(_TELEMETRY, rows)

    def submit_cells(self, samples: Sequence[PackCellSample]) -> None:
        """Queue per-pack cell readings; returns at once."""
        self._submit(_CELLS, samples)

    def submit_status(self, changes: Sequence[StatusChange]) -> None:
        """Queue online/offline announcements; returns at once."""
        self._submit(_STATUS, changes)

    def _submit(self, kind: str, items: Sequence) -> None:
        if not items:
            return
        chunk = _Chunk(kind, list(items), time.monotonic(), self.clock.monotonic())
        with self._cond:
            st = self._state
            if st.stopping:
                raise WriterStopped(f"the storage writer is stopped; {len(chunk.items)} {kind} rows refused")
            st.pending.append(chunk)
            st.submitted += len(chunk.items)
            st.queued += len(chunk.items)
            st.max_queued = max(st.max_queued, st.queued)
            if st.queued >= self.max_batch:
                self._cond.notify_all()

    # -- control -------------------------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> bool:
        """Write everything submitted so far now, and wait until it is resolved.

        True when all of it was committed (rejected invalid rows excepted) and nothing is parked;
        False on timeout or when rows are parked after failed commits.
        """
        with self._cond:
            st = self._state
            target = st.submitted
            st.flush_target = max(st.flush_target, target)
            self._cond.notify_all()
            done = self._cond.wait_for(lambda: self._resolved() >= target or not self._thread.is_alive(), timeout)
            return bool(done) and self._resolved() >= target and st.parked_rows == 0

    def stop(self, timeout: float | None = None) -> bool:
        """Refuse new data, write what is queued, end the thread. True when nothing was left unwritten."""
        with self._cond:
            self._state.stopping = True
            self._cond.notify_all()
        self._thread.join(timeout)
        stats = self.stats()
        left = stats.queued_rows + stats.parked_rows
        if left:
            log.error("storage writer stopped with %d rows not written (%d queued, %d parked)", left, stats.queued_rows, stats.parked_rows)
        return not self._thread.is_alive() and left == 0

    def abort_retries(self) -> None:
        """Cut a running backoff short (used by stop paths that cannot wait)."""
        self._retry_wait.set()

    def requeue_parked(self) -> int:
        """Put parked rows back at the front of the queue (after fixing the database); returns how many."""
        with self._cond:
            st = self._state
            moved = st.parked_rows
            while st.parked:
                st.pending.appendleft(st.parked.pop())
            st.queued += moved
            st.parked_rows = 0
            self._cond.notify_all()
            return moved

    def stats(self) -> WriterStats:
        with self._cond:
            return self._snapshot()

    def wait_for_stats(self, predicate, timeout: float) -> bool:
        """Block until predicate(stats) holds (checked after every change) or timeout; for monitors and tests."""
        with self._cond:
            return bool(self._cond.wait_for(lambda: predicate(self._snapshot()), timeout))

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def __enter__(self) -> "TelemetryWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- the thread ----------------------------------------------------------------------------
    def _resolved(self) -> int:
        st = self._state
        return st.committed + st.rejected + st.parked_rows

    def _snapshot(self) -> WriterStats:
        st = self._state
        return WriterStats(
            submitted_rows=st.submitted, committed_rows=st.committed, rejected_rows=st.rejected,
            parked_rows=st.parked_rows, queued_rows=st.queued, max_queued_rows=st.max_queued,
            commits=st.commits, failed_commits=st.failed_commits, last_error=st.last_error,
            last_write_latency_s=st.latency_s,
        )

    def _due(self) -> bool:
        st = self._state
        in_flight_or_done = st.submitted - st.queued
        return (
            st.stopping
            or st.queued >= self.max_batch
            or st.flush_target > in_flight_or_done
            or time.monotonic() >= st.pending[0].t_real + self.flush_interval_s
        )

    def _take_batch(self) -> list[_Chunk] | None:
        """Wait until a batch is due and take it; None when stopping with nothing left."""
        with self._cond:
            st = self._state
            while True:
                if not st.pending:
                    if st.stopping:
                        return None
                    self._cond.wait()
                    continue
                if self._due():
                    break
                self._cond.wait(max(0.0, st.pending[0].t_real + self.flush_interval_s - time.monotonic()))
            batch, rows = [], 0
            while st.pending and rows < self.max_batch:
                chunk = st.pending[0]
                if rows + len(chunk.items) > self.max_batch:
                    chunk = chunk.split(self.max_batch - rows)
                else:
                    st.pending.popleft()
                batch.append(chunk)
                rows += len(chunk.items)
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take_batch()
            if batch is None:
                return
            try:
                self._write_batch(batch)
            except Exception:  # a bug in conversion must not kill the writer or lose the batch
                log.exception("storage writer: unexpected error; batch parked")
                self._resolve(batch, committed=0, rejected=0, parked=True, latency=None)

    def _write_batch(self, batch: list[_Chunk]) -> None:
        rows: dict[str, list] = {_TELEMETRY: [], _CELLS: [], _STATUS: []}
        rejected = 0
        for chunk in batch:
            convert = {_TELEMETRY: _already_a_row, _CELLS: self._cell_row, _STATUS: self._status_row}[chunk.kind]
            out = rows[chunk.kind]
            for item in chunk.items:
                row = convert(item)
                if row is None:
                    rejected += 1
                else:
                    out.append(row)
        if rejected:
            log.warning("storage writer: %d invalid rows rejected (naive time or non-finite value)", rejected)
        good = sum(len(r) for r in rows.values())
        for attempt in range(1, self.max_attempts + 1):
            try:
                with self.db.engine.begin() as conn:
                    new_keys = self._resolve_device_keys(conn, rows[_CELLS])
                    keys = {**self._device_keys, **new_keys}
                    cell_rows = ({"device_key": keys[device_id], **row} for device_id, row in rows[_CELLS])
                    if rows[_TELEMETRY]:  # never prepare a statement for nothing: its table may be the broken one
                        _stream_rows(conn, self._insert_raw, rows[_TELEMETRY])
                    if rows[_CELLS]:
                        _stream_rows(conn, self._insert_cells, cell_rows)
                    if rows[_STATUS]:
                        conn.execute(self._insert_status, rows[_STATUS])
            except Exception as exc:  # any database failure: count, log once, back off, retry
                self._record_failure(exc, attempt)
                if attempt < self.max_attempts and self._backoff(attempt):
                    continue
                log.error("storage writer: giving up on a batch of %d rows after %d attempts; parked in memory", good, attempt)
                # Parked whole: invalid rows in it are counted as rejected when it is requeued and converted again.
                self._resolve(batch, committed=0, rejected=0, parked=True, latency=None)
                return
            self._device_keys.update(new_keys)  # only now: a rolled-back key must not be reused
            if self._failing:
                log.warning("storage writer: commits succeed again")
                self._failing = False
            latency = self.clock.monotonic() - min(c.t_clock for c in batch)
            self._resolve(batch, committed=good, rejected=rejected, parked=False, latency=latency)
            return

    def _resolve_device_keys(self, conn, cell_rows: list[tuple[str, dict]]) -> dict[str, int]:
        missing = {device_id for device_id, _ in cell_rows} - self._device_keys.keys()
        return ensure_device_keys(conn, missing) if missing else {}

    def _backoff(self, attempt: int) -> bool:
        """Wait before the next attempt; False when told to give up (stop with abort)."""
        first, cap = self.retry_backoff_s
        return not self._retry_wait.wait(min(cap, first * 2 ** (attempt - 1)))

    def _record_failure(self, exc: Exception, attempt: int) -> None:
        message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if not self._failing:  # the first failure is an error, repeats are quiet, recovery is logged once
            log.error("storage writer: commit failed (%s); retrying", message)
            self._failing = True
        else:
            log.debug("storage writer: attempt %d failed again (%s)", attempt, message)
        with self._cond:
            self._state.failed_commits += 1
            self._state.last_error = message
            self._cond.notify_all()
        if self.counters is not None:
            self.counters.record_sink_error()

    def _resolve(self, batch: list[_Chunk], committed: int, rejected: int, parked: bool, latency: float | None) -> None:
        rows = sum(len(c.items) for c in batch)
        with self._cond:
            st = self._state
            st.queued -= rows
            st.rejected += rejected
            if parked:
                st.parked.extend(batch)
                st.parked_rows += rows
            else:
                st.committed += committed
                st.commits += 1
                st.latency_s = latency if latency is not None else st.latency_s
            self._cond.notify_all()
        if latency is not None and self.counters is not None:
            self.counters.record_write_latency(latency)

    # -- conversion (writer thread) -------------------------------------------------------------
    @staticmethod
    def _telemetry_row(s: TelemetrySample) -> TelemetryRow | None:
        try:
            ts_ms = to_epoch_ms(s.ts)
        except (ValueError, TypeError, AttributeError):
            return None
        try:
            values = tuple(_measured(float(getattr(s, name))) for name in RAW_METRICS)
        except (ValueError, TypeError):
            return None
        if all(v is None for v in values):
            return None  # a sample that measured nothing
        return (s.device_id, ts_ms, *values, int(s.mode))

    def _cell_row(self, c: PackCellSample) -> tuple[str, dict] | None:
        row = self._cell_encoder.row(c)
        return None if row is None else (c.device_id, row)

    @staticmethod
    def _status_row(c: StatusChange) -> dict | None:
        try:
            at_ms = to_epoch_ms(c.received_at)
        except (ValueError, TypeError, AttributeError):
            return None
        return {"device_id": c.device_id, "at_ms": at_ms, "online": bool(c.online), "reason": (c.reason or None) and c.reason[:255]}
