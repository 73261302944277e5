"""The runtime: one asyncio loop in its own thread that owns drivers, executors and alarms.

The GUI (or `gridroom serve`) talks to it in two ways only:
- `submit(command)` with a frozen dataclass; the answer comes back as a concurrent future, which the GUI
  awaits through qasync with `asyncio.wrap_future`;
- `drain_events()`, which hands over everything the runtime published since the last call, in one batch.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from typing import Any, Awaitable, Callable, Protocol

from core.clock import Clock, SystemClock
from core.runtime.messages import Heartbeat, Ping, RuntimeState, RuntimeStateChanged

log = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[Any]]


class UnknownCommand(LookupError):
    """No handler is registered for this command type."""


class RuntimeNotRunning(RuntimeError):
    """A command was submitted while the runtime was not running."""


class RuntimeService(Protocol):
    """Something the runtime starts and stops with itself (drivers, executors, the alarm engine)."""

    name: str

    async def start(self, runtime: "Runtime") -> None: ...

    async def stop(self) -> None: ...


class Runtime:
    def __init__(self, clock: Clock | None = None, heartbeat_s: float = 1.0, name: str = "gridroom-runtime") -> None:
        self.clock = clock or SystemClock()
        self.name = name
        self.heartbeat_s = heartbeat_s
        self._handlers: dict[type, Handler] = {}
        self._services: list[RuntimeService] = []
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop_requested: asyncio.Event | None = None
        self._state = RuntimeState.CREATED
        self._failure: BaseException | None = None
        self.register(Ping, self._on_ping)

    # -- wiring --------------------------------------------------------------------------------
    def register(self, command_type: type, handler: Handler) -> None:
        """Route commands of `command_type` to an async handler running on the runtime loop."""
        self._handlers[command_type] = handler

    def add_service(self, service: RuntimeService) -> None:
        if self._state is not RuntimeState.CREATED:
            raise RuntimeError("add services before starting the runtime")
        self._services.append(service)

    @property
    def state(self) -> RuntimeState:
        return self._state

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeNotRunning("the runtime has not started")
        return self._loop

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> None:
        """Start the loop thread and every service; returns once they are running or raises why not."""
        self._set_state(RuntimeState.STARTING)
        self._thread = threading.Thread(target=self._thread_main, name=self.name, daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"runtime did not start within {timeout} s")
        if self._failure is not None:
            raise RuntimeError(f"runtime failed to start: {self._failure}") from self._failure

    def stop(self, timeout: float = 30.0) -> None:
        """Stop services in reverse order, then the loop; idempotent."""
        if self._loop is None or self._thread is None:
            return
        if self._stop_requested is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stop_requested.set)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError(f"runtime did not stop within {timeout} s")

    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _main(self) -> None:
        self._stop_requested = asyncio.Event()
        started: list[RuntimeService] = []
        try:
            for service in self._services:
                await service.start(self)
                started.append(service)
        except BaseException as exc:  # report any start failure to the caller of start()
            log.exception("runtime service failed to start")
            self._failure = exc
            self._set_state(RuntimeState.FAILED, str(exc))
            await self._stop_services(started)
            self._ready.set()
            return
        self._set_state(RuntimeState.RUNNING)
        self._ready.set()
        heartbeat = asyncio.create_task(self._heartbeat())
        await self._stop_requested.wait()
        self._set_state(RuntimeState.STOPPING)
        heartbeat.cancel()
        await self._stop_services(started)
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._set_state(RuntimeState.STOPPED)

    async def _stop_services(self, services: list[RuntimeService]) -> None:
        for service in reversed(services):
            try:
                await service.stop()
            except Exception:
                log.exception("runtime service %s failed to stop cleanly", getattr(service, "name", service))

    async def _heartbeat(self) -> None:
        while True:
            self.publish(Heartbeat(self.clock.now()))
            await asyncio.sleep(self.heartbeat_s)

    def _set_state(self, state: RuntimeState, detail: str = "") -> None:
        self._state = state
        self.publish(RuntimeStateChanged(state, self.clock.now(), detail))

    # -- commands and events ---------------------------------------------------------------------
    def submit(self, command: object) -> concurrent.futures.Future:
        """Send a command from any thread; the future holds the handler's result or its exception."""
        if self._state is not RuntimeState.RUNNING or self._loop is None:
            future: concurrent.futures.Future = concurrent.futures.Future()
            future.set_exception(RuntimeNotRunning(f"runtime is {self._state.value}; cannot run {type(command).__name__}"))
            return future
        return asyncio.run_coroutine_threadsafe(self._dispatch(command), self._loop)

    async def _dispatch(self, command: object) -> Any:
        handler = self._handlers.get(type(command))
        if handler is None:
            raise UnknownCommand(f"no handler for command {type(command).__name__}")
        return await handler(command)

    async def _on_ping(self, _command: Ping):
        return self.clock.now()

    def publish(self, event: object) -> None:
        """Queue an event for the GUI or the headless host; thread-safe and never blocks."""
        self._events.put(event)

    def drain_events(self, max_items: int = 10_000) -> list[object]:
        """Everything published since the last call (up to max_items), oldest first."""
        batch: list[object] = []
        try:
            while len(batch) < max_items:
                batch.append(self._events.get_nowait())
        except queue.Empty:
            pass
        return batch
