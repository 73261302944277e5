"""Retraining on a drift trigger: at most one retrain per cool-down, in a worker thread of its own.

Drift arrives once per observation past the threshold, so one shifted file can raise it dozens of times;
a retrain takes seconds of CPU. The first event starts a retrain (as the installation itself: the audit
trail says "system", with the drifting model in the reason); later events inside the cool-down, or while
a retrain still runs, are dropped. The cool-down counts from the start of the last retrain, on the
injected clock, and a refused retrain (too few stored prices) counts too, so it is not retried per event.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Callable

from core.clock import Clock
from core.forecasting.registry import ModelRecord
from core.forecasting.retrain import PriceModelRetrainer

log = logging.getLogger(__name__)


class RetrainOnDrift:
    def __init__(self, retrainer: PriceModelRetrainer, clock: Clock, cooldown: timedelta = timedelta(hours=24)) -> None:
        self.retrainer = retrainer
        self.clock = clock
        self.cooldown = cooldown
        self.listeners: list[Callable[[ModelRecord], None]] = []  # called in the worker with each new model
        self.last_started: datetime | None = None
        self._running: Future | None = None
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="retrain-on-drift")

    def on_drift(self, event) -> Future | None:
        """Start a retrain for `event` unless one ran within the cool-down or is running; its future, else None."""
        now = self.clock.now()
        with self._lock:
            if self._running is not None and not self._running.done():
                return None
            if self.last_started is not None and now - self.last_started < self.cooldown:
                return None
            self.last_started = now
            self._running = self._pool.submit(self._retrain, event)
            return self._running

    def _retrain(self, event) -> ModelRecord | None:
        try:
            record = self.retrainer.on_drift(event)
        except Exception:
            log.exception("retrain after drift of %s failed; next try after the cool-down", event.model_id)
            return None
        log.warning("retrained after drift of %s: %s registered", event.model_id, record.version)
        for listener in list(self.listeners):
            try:
                listener(record)
            except Exception:
                log.exception("retrain listener %r failed", listener)
        return record

    def close(self) -> None:
        """Wait for a running retrain (it registers a model file: never cut it off half written)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
