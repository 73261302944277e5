"""Ingest counters: written by the ingest thread, read from any thread (GUI, alarms, benchmarks)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping


@dataclass(frozen=True)
class CountersSnapshot:
    """A consistent copy of the counters at one instant."""

    messages: int
    decoded: int
    rejected: int
    ignored: int  # deliberate no-ops, e.g. an empty retained status clearing a decommissioned device
    rejects_by_reason: Mapping[str, int]
    rejects_by_device: Mapping[str, int]
    batches: int
    queue_depth: int
    max_queue_depth: int
    sink_errors: int
    last_write_latency_s: float
    max_write_latency_s: float


@dataclass
class IngestCounters:
    """Thread-safe counters of what the ingest saw: messages = decoded + rejected + ignored."""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _messages: int = 0
    _decoded: int = 0
    _ignored: int = 0
    _batches: int = 0
    _queue_depth: int = 0
    _max_queue_depth: int = 0
    _sink_errors: int = 0
    # Placeholders for the storage writer: how long a batch took to reach the database.
    _last_write_latency_s: float = float("nan")
    _max_write_latency_s: float = 0.0
    _by_reason: Counter = field(default_factory=Counter)
    _by_device: Counter = field(default_factory=Counter)

    def record_batch(
        self,
        messages: int,
        decoded: int,
        rejects: list[tuple[str, str | None]],
        queue_depth: int,
        ignored: int = 0,
    ) -> None:
        """Count one processed batch; rejects are (reason, device_id or None) pairs."""
        with self._lock:
            self._messages += messages
            self._decoded += decoded
            self._ignored += ignored
            self._batches += 1
            self._queue_depth = queue_depth
            self._max_queue_depth = max(self._max_queue_depth, queue_depth)
            for reason, device_id in rejects:
                self._by_reason[reason] += 1
                if device_id is not None:
                    self._by_device[device_id] += 1

    def record_sink_error(self) -> None:
        with self._lock:
            self._sink_errors += 1

    def record_write_latency(self, seconds: float) -> None:
        """For the storage writer: time from receive to commit of a batch."""
        with self._lock:
            self._last_write_latency_s = seconds
            self._max_write_latency_s = max(self._max_write_latency_s, seconds)

    def snapshot(self) -> CountersSnapshot:
        """A consistent copy; cheap enough to call from a GUI timer."""
        with self._lock:
            return CountersSnapshot(
                messages=self._messages,
                decoded=self._decoded,
                rejected=sum(self._by_reason.values()),
                ignored=self._ignored,
                rejects_by_reason=MappingProxyType(dict(self._by_reason)),
                rejects_by_device=MappingProxyType(dict(self._by_device)),
                batches=self._batches,
                queue_depth=self._queue_depth,
                max_queue_depth=self._max_queue_depth,
                sink_errors=self._sink_errors,
                last_write_latency_s=self._last_write_latency_s,
                max_write_latency_s=self._max_write_latency_s,
            )
