"""Running a view's short actions on the Qt loop (qasync) without freezing it.

Core services are synchronous (SQLAlchemy, argon2 hashing), so every call goes to a worker thread with
`call_core` and is awaited on the GUI thread. Dialogs are awaited with `run_dialog` (open(), never exec():
a nested Qt loop inside a running asyncio task makes qasync refuse to step other tasks).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Coroutine, TypeVar

from PySide6.QtWidgets import QDialog

log = logging.getLogger(__name__)
T = TypeVar("T")


async def call_core(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run a blocking core-service call off the GUI thread and return its result (or raise its error)."""
    return await asyncio.to_thread(fn, *args, **kwargs)


async def run_dialog(dialog: QDialog) -> bool:
    """Show a dialog window-modally and wait for it without a nested event loop; True when accepted."""
    done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def finished(code: int) -> None:
        if not done.done():
            done.set_result(code == QDialog.DialogCode.Accepted)

    dialog.finished.connect(finished)
    dialog.open()
    return await done


class UiTasks:
    """The async actions a widget has started: keeps them referenced, logs what escapes them, and lets
    callers (and tests) await until the widget is idle."""

    def __init__(self, on_unexpected: Callable[[BaseException], None] | None = None) -> None:
        self._tasks: set[asyncio.Task] = set()
        self._on_unexpected = on_unexpected

    def start(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    async def idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _finished(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            # Expected failures (GridRoomError) are shown by the action itself; this is a bug.
            log.error("unexpected error in a desktop action", exc_info=exc)
            if self._on_unexpected is not None:
                self._on_unexpected(exc)
