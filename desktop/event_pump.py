"""Drains runtime events on a timer and hands each subscriber its share of the batch in one call.

DESIGN.md: the GUI never gets one Qt signal per runtime event; it drains the runtime's queue at a fixed
rate, so a burst of 10,000 events costs one dispatch per subscriber, not 10,000 repaints.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Callable, Protocol, Sequence

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)

BatchHandler = Callable[[Sequence[object]], None]


class EventSource(Protocol):
    def drain_events(self, max_items: int = ...) -> list[object]: ...


class EventPump(QObject):
    def __init__(self, source: EventSource, interval_ms: int = 100, max_batch: int = 10_000,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self._max_batch = max_batch
        self._subscribers: dict[type, list[BatchHandler]] = defaultdict(list)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.pump)

    def subscribe(self, event_type: type, handler: BatchHandler) -> None:
        """`handler` receives, once per tick, every event of `event_type` in that tick, oldest first."""
        self._subscribers[event_type].append(handler)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def pump(self) -> int:
        """Drain one batch and dispatch it; returns how many events were drained."""
        batch = self._source.drain_events(self._max_batch)
        if not batch:
            return 0
        by_type: dict[type, list[object]] = defaultdict(list)
        for event in batch:
            by_type[type(event)].append(event)
        for event_type, events in by_type.items():
            for handler in self._subscribers.get(event_type, ()):
                try:
                    handler(events)
                except Exception:  # one faulty view must not stop the others from updating
                    log.exception("event subscriber %r failed on %s", handler, event_type.__name__)
        return len(batch)
