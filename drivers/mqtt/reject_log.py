"""Say each kind of bad message once: per device, per unknown device, per topic-level reason.

Shared by the in-process ingest and the ingest worker pool. A device whose latest message was rejected is
``degraded`` until its next good message (logged once more when it recovers). Not thread-safe: one ingest
thread owns it.
"""

from __future__ import annotations

import logging

from drivers.mqtt.codec import RejectReason

_MAX_LOGGED_STRANGERS = 10_000  # a flood of made-up device ids must not grow memory


class RejectLog:
    def __init__(self, log: logging.Logger) -> None:
        self._log = log
        self.degraded: set[str] = set()
        self._topic_reasons: set[str] = set()
        self._strangers: set[str] = set()

    def rejected(self, reason: str, device_id: str | None, detail: str) -> None:
        """Log a dropped message if it is the first of its kind; ``detail`` says what was wrong and where."""
        if device_id is None:
            if reason not in self._topic_reasons:
                self._topic_reasons.add(reason)
                self._log.warning("dropped message: %s (further ones are only counted)", detail)
            return
        if reason == RejectReason.UNKNOWN_DEVICE:
            # Not degraded (it is not ours); log each stranger once.
            if device_id not in self._strangers and len(self._strangers) < _MAX_LOGGED_STRANGERS:
                self._strangers.add(device_id)
                self._log.warning("dropped message from unregistered device: %s", detail)
            return
        if device_id not in self.degraded:
            self.degraded.add(device_id)
            self._log.warning("device %s degraded: %s (further rejects are only counted)", device_id, detail)

    def accepted(self, device_id: str) -> None:
        """A good message from device_id: it is no longer degraded."""
        degraded = self.degraded
        if degraded and device_id in degraded:
            degraded.discard(device_id)
            self._log.info("device %s sends valid messages again", device_id)
