"""A preallocated time/value ring buffer for live plots.

Every sample is written twice, at ``i`` and ``i + capacity``, so the newest ``capacity`` samples are
always one contiguous slice: reading is a zero-copy view, appending is O(1), and nothing is ever
shifted (``np.roll`` per sample is the trap CRAFT.md names).
"""

from __future__ import annotations

import numpy as np


class RingBuffer:
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"a ring buffer needs room for at least one sample, got {capacity}")
        self.capacity = capacity
        self._t = np.full(2 * capacity, np.nan)
        self._v = np.full(2 * capacity, np.nan)
        self._next = 0  # where the next sample goes, in 0..capacity-1
        self._count = 0
        self.revision = 0  # bumps on every write: a painter repaints only when it moved

    def __len__(self) -> int:
        return self._count

    def append(self, t: float, value: float) -> None:
        i = self._next
        self._t[i] = self._t[i + self.capacity] = t
        self._v[i] = self._v[i + self.capacity] = value
        self._next = (i + 1) % self.capacity
        self._count = min(self._count + 1, self.capacity)
        self.revision += 1

    def extend(self, t: np.ndarray, values: np.ndarray) -> None:
        """Append many samples (e.g. a history page); only the newest ``capacity`` are kept."""
        t = np.asarray(t, dtype=float)[-self.capacity:]
        values = np.asarray(values, dtype=float)[-self.capacity:]
        n = len(t)  # <= capacity, so the write wraps at most once
        first = min(n, self.capacity - self._next)
        for dst, src in ((self._t, t), (self._v, values)):
            for base in (0, self.capacity):
                dst[base + self._next: base + self._next + first] = src[:first]
                dst[base: base + n - first] = src[first:]
        self._next = (self._next + n) % self.capacity
        self._count = min(self._count + n, self.capacity)
        self.revision += 1

    def clear(self) -> None:
        self._next = self._count = 0
        self.revision += 1

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        """(t, values), oldest first, as read-only views into the buffer (no copy)."""
        end = self._next + self.capacity
        start = end - self._count
        t, v = self._t[start:end], self._v[start:end]
        t.flags.writeable = False
        v.flags.writeable = False
        return t, v

    def latest(self) -> tuple[float, float] | None:
        if not self._count:
            return None
        i = (self._next - 1) % self.capacity
        return float(self._t[i]), float(self._v[i])
