"""Waiting in async Qt tests (qasync): yield to the loop until a condition holds.

pytest-qt's qtbot.wait*/waitUntil hang an async test's teardown (FACTS.md), so async desktop tests await this
instead. Bounded by time, not by a count of turns: on a loaded machine the work behind a condition (a database
read off the GUI thread) can take more turns than any fixed count.
"""

from __future__ import annotations

import asyncio
import time


async def until(condition, timeout_s: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{what} not reached within {timeout_s} s")
