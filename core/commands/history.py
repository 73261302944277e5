"""The command history the device detail view shows. Kept in memory per device for now; a table follows."""

from __future__ import annotations

import threading
from collections import defaultdict, deque

from core.commands.model import CommandOutcome


class CommandHistory:
    def __init__(self, per_device: int = 200) -> None:
        self._by_device: dict[str, deque[CommandOutcome]] = defaultdict(lambda: deque(maxlen=per_device))
        self._lock = threading.Lock()

    def append(self, session, outcome: CommandOutcome) -> None:
        with self._lock:
            self._by_device[outcome.command.device_id].append(outcome)

    def recent(self, device_id: str, limit: int = 50) -> list[CommandOutcome]:
        """Newest first."""
        with self._lock:
            return list(reversed(self._by_device.get(device_id, ())))[:limit]
