"""Waiting for retry backoffs on a clock that tests can drive.

The dispatcher never calls asyncio.sleep itself: it awaits `scheduler.sleep(seconds)`. In production
ClockScheduler waits real time; in tests ManualScheduler waits until the test advances a ManualClock,
so a 5-minute backoff takes no wall time and the delays asked for can be checked exactly.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Protocol

from core.clock import ManualClock


class Scheduler(Protocol):
    """Something that can wait `seconds` of its clock's time."""

    async def sleep(self, seconds: float) -> None:
        """Return once `seconds` have passed on this scheduler's clock."""
        ...


class ClockScheduler:
    """Real waiting, on the event loop's monotonic clock."""

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of real time (nothing for zero or less)."""
        await asyncio.sleep(max(0.0, float(seconds)))


class ManualScheduler:
    """Waits that end only when the test calls advance(); time is the given ManualClock's.

    Use from one event loop. `requested` lists every delay asked for, in order.
    """

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.requested: list[float] = []
        self._sleepers: dict[int, tuple[float, asyncio.Future[None]]] = {}
        self._ids = itertools.count()
        self._registered = asyncio.Event()

    @property
    def sleeping(self) -> int:
        """How many waits are in progress."""
        return len(self._sleepers)

    def pending_delays(self) -> list[float]:
        """Seconds left on each wait in progress, soonest first."""
        now = self.clock.monotonic()
        return sorted(deadline - now for deadline, _ in self._sleepers.values())

    async def sleep(self, seconds: float) -> None:
        """Wait until the clock has been advanced by `seconds`."""
        seconds = float(seconds)
        self.requested.append(seconds)
        if seconds <= 0:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        key = next(self._ids)
        self._sleepers[key] = (self.clock.monotonic() + seconds, future)
        self._registered.set()
        try:
            await future
        finally:
            self._sleepers.pop(key, None)

    def advance(self, seconds: float) -> None:
        """Move the clock on and wake every wait whose time has come."""
        self.clock.advance(seconds)
        now = self.clock.monotonic()
        for key, (deadline, future) in list(self._sleepers.items()):
            if deadline <= now:
                # Forget it now, not when the sleeper resumes, so wait_for_sleepers sees only new waits.
                del self._sleepers[key]
                if not future.done():
                    future.set_result(None)

    async def wait_for_sleepers(self, count: int = 1, timeout_s: float = 5.0) -> None:
        """Return once at least `count` waits are in progress; TimeoutError after `timeout_s` real seconds."""
        async with asyncio.timeout(timeout_s):
            while len(self._sleepers) < count:
                self._registered.clear()
                await self._registered.wait()
