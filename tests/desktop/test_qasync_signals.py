"""Regression guard (FACTS.md): PySide6 6.12.0 on Python 3.11 aborts with `bool_dealloc` within about
1,000 Signal.emit() / QTimer.singleShot(0, ...) calls under qasync. If an upgrade brings that back,
this test kills the run loudly instead of the app dying in front of an operator."""

from __future__ import annotations

import asyncio

import qasync
from PySide6.QtCore import QObject, QTimer, Signal


class _Counter(QObject):
    ticked = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.flag_count = 0
        self.ticked.connect(self._on_tick)

    def _on_tick(self, value: int) -> None:
        self.count += 1

    def flag(self) -> None:
        self.flag_count += 1


def test_100k_signals_and_10k_zero_timers_under_qasync(qapp):
    counter = _Counter()
    loop = qasync.QEventLoop(qapp)

    async def storm() -> None:
        for i in range(100_000):
            counter.ticked.emit(i)
            if i % 10_000 == 0:
                await asyncio.sleep(0)  # let the Qt loop run between bursts
        done = asyncio.get_running_loop().create_future()
        for _ in range(10_000):
            QTimer.singleShot(0, counter.flag)
        QTimer.singleShot(0, lambda: done.set_result(True))
        await done

    try:
        loop.run_until_complete(storm())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    assert counter.count == 100_000
    assert counter.flag_count == 10_000
