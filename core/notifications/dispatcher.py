"""Delivers notifications without ever holding up the alarm engine.

`enqueue` is safe from any thread, returns at once and never raises. Each channel has its own queue
and worker task, so a dead SMTP server or a slow webhook delays only its own channel. A failed attempt
is retried after an exponential backoff that waits on the injected Scheduler (so tests drive it); the
worker moves on to the next notification meanwhile. Every attempt is logged; a notification whose
attempts are exhausted (or that cannot succeed) is kept in `failed()` and announced as a
NotificationFailed event, so the alarm layer can make the failure itself visible.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from core.clock import Clock
from core.notifications.channels import DeliveryResult, NotificationChannel
from core.notifications.errors import NotificationConfigError, NotificationError
from core.notifications.messages import AlarmNotification
from core.notifications.scheduler import ClockScheduler, Scheduler

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Up to `max_attempts` tries; the wait after try n is min(max_s, base_s * factor**(n-1))."""

    max_attempts: int = 5
    base_s: float = 2.0
    factor: float = 2.0
    max_s: float = 300.0

    def __post_init__(self) -> None:
        if not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise NotificationConfigError(f"RetryPolicy.max_attempts must be an int >= 1, got {self.max_attempts!r}")
        for name in ("base_s", "factor", "max_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise NotificationConfigError(f"RetryPolicy.{name} must be finite and >= 0, got {value!r}")
        if self.factor < 1:
            raise NotificationConfigError(f"RetryPolicy.factor must be >= 1 (backoff never shrinks), got {self.factor}")

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return float(min(self.max_s, self.base_s * self.factor ** (attempt - 1)))


@dataclass(frozen=True)
class DeliveryRecord:
    """One attempt to deliver `notification` over the channel named `channel`."""

    notification: AlarmNotification
    channel: str
    attempt: int
    at: datetime
    ok: bool
    error: str | None


@dataclass(frozen=True)
class NotificationDelivered:
    """`notification` reached the channel named `channel` at attempt `attempts`."""

    notification: AlarmNotification
    channel: str
    attempts: int
    at: datetime


@dataclass(frozen=True)
class NotificationFailed:
    """`notification` could not be delivered over `channel` after `attempts` tries; `error` says why."""

    notification: AlarmNotification
    channel: str
    attempts: int
    at: datetime
    error: str


DispatcherEvent = NotificationDelivered | NotificationFailed


@dataclass(frozen=True)
class _Job:
    notification: AlarmNotification
    attempt: int = 0  # attempts made so far


class _Lane:
    """One channel's queue and worker."""

    def __init__(self, channel: NotificationChannel) -> None:
        self.channel = channel
        self.queue: asyncio.Queue[_Job] = asyncio.Queue()
        self.in_flight = 0
        self.worker: asyncio.Task | None = None


class NotificationDispatcher:
    """Queues notifications per channel and delivers them with retries. Start it inside an event loop."""

    def __init__(self, channels: Iterable[NotificationChannel], clock: Clock, retry: RetryPolicy = RetryPolicy(), *,
                 scheduler: Scheduler | None = None, on_event: Callable[[DispatcherEvent], None] | None = None,
                 on_attempt: Callable[[DeliveryRecord, bool], None] | None = None,
                 attempt_timeout_s: float = 120.0, max_queued: int = 10_000, history: int = 10_000) -> None:
        self._lanes: dict[str, _Lane] = {}
        for channel in channels:
            name = getattr(channel, "name", None)
            if not isinstance(name, str) or not name or not hasattr(channel, "kind") or not hasattr(channel, "send"):
                raise NotificationConfigError(f"not a notification channel: {channel!r}")
            if name in self._lanes:
                raise NotificationConfigError(f"two channels are named {name!r}; names must be unique")
            self._lanes[name] = _Lane(channel)
        self._clock = clock
        self._retry = retry
        self._scheduler = scheduler or ClockScheduler()
        self._on_event = on_event
        self._on_attempt = on_attempt  # (record, final): for a persistent delivery log
        self._attempt_timeout_s = float(attempt_timeout_s)
        self._max_queued = int(max_queued)
        self._lock = threading.Lock()  # guards the histories, read from GUI threads
        self._log: deque[DeliveryRecord] = deque(maxlen=history)
        self._failed: deque[NotificationFailed] = deque(maxlen=history)
        self._delivered: deque[NotificationDelivered] = deque(maxlen=history)
        self._early: deque[AlarmNotification] = deque()  # enqueued before start()
        self._start_lock = threading.Lock()  # so nothing lands in _early after start() has flushed it
        self._retries: set[asyncio.Task] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._started = False
        self._stopped = False

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start one worker per channel on the running loop and deliver anything enqueued before."""
        if self._loop is not None:
            raise NotificationError("the dispatcher is already started")
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            raise NotificationError("start the dispatcher from inside a running event loop") from None
        self._loop_thread = threading.get_ident()
        for name, lane in self._lanes.items():
            lane.worker = self._loop.create_task(self._work(lane), name=f"notify-{name}")
        with self._start_lock:
            early, self._early = list(self._early), deque()
            self._started = True
        for notification in early:
            self._accept(notification)

    async def stop(self) -> None:
        """Cancel the workers and pending retries; undelivered notifications stay counted in pending()."""
        self._stopped = True
        tasks = [lane.worker for lane in self._lanes.values() if lane.worker] + list(self._retries)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> NotificationDispatcher:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- the producer side ---------------------------------------------------------------------------
    def enqueue(self, notification: AlarmNotification) -> bool:
        """Queue `notification` for delivery. Any thread; returns at once; False (and logged) if refused."""
        try:
            if not isinstance(notification, AlarmNotification):
                log.error("not an AlarmNotification, refused: %r", notification)
                return False
            if self._stopped:
                log.warning("notification dispatcher stopped; dropped %s", notification.key)
                return False
            if not self._started:
                with self._start_lock:
                    if not self._started:
                        self._early.append(notification)
                        return True
            loop = self._loop
            if threading.get_ident() == self._loop_thread:
                self._accept(notification)
            else:
                loop.call_soon_threadsafe(self._accept, notification)
            return True
        except Exception:  # closed loop, bad argument: the alarm engine must carry on regardless
            log.exception("could not queue notification %r", notification)
            return False

    def _accept(self, notification: AlarmNotification) -> None:
        lanes = [lane for lane in self._lanes.values() if lane.channel.kind == notification.channel]
        if not lanes:
            self._fail(notification, "-", 0, f"no {notification.channel.value} channel is configured")
            return
        for lane in lanes:
            if lane.queue.qsize() >= self._max_queued:
                self._fail(notification, lane.channel.name, 0,
                           f"{lane.channel.name} queue full ({self._max_queued} waiting); notification dropped")
            else:
                lane.queue.put_nowait(_Job(notification))

    # -- the delivery side ---------------------------------------------------------------------------
    async def _work(self, lane: _Lane) -> None:
        while True:
            job = await lane.queue.get()
            lane.in_flight += 1
            try:
                await self._attempt(lane, job)
            except Exception:  # a bug here must not stop the channel
                log.exception("notification worker %s failed on %s", lane.channel.name, job.notification.key)
            finally:
                lane.in_flight -= 1

    async def _attempt(self, lane: _Lane, job: _Job) -> None:
        attempt = job.attempt + 1
        name = lane.channel.name
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that arrives as the
            # send completes, and stop() would then wait forever on a worker that never ends.
            async with asyncio.timeout(self._attempt_timeout_s):
                result = await lane.channel.send(job.notification)
            if not isinstance(result, DeliveryResult):
                result = DeliveryResult.failure(f"{name} returned {result!r}, not a DeliveryResult", False)
        except TimeoutError:
            result = DeliveryResult.failure(f"{name}: no outcome within {self._attempt_timeout_s:g} s", True)
        except Exception as exc:
            result = DeliveryResult.failure(f"{name} raised {exc!r}", True)
        at = self._clock.now()
        record = DeliveryRecord(job.notification, name, attempt, at, result.ok, None if result.ok else result.detail)
        with self._lock:
            self._log.append(record)
        if self._on_attempt is not None:
            final = result.ok or not result.retryable or attempt >= self._retry.max_attempts
            try:
                self._on_attempt(record, final)
            except Exception:  # a listener's bug must not stop deliveries
                log.exception("on_attempt listener raised for %r", record)
        if result.ok:
            event = NotificationDelivered(job.notification, name, attempt, at)
            with self._lock:
                self._delivered.append(event)
            self._emit(event)
        elif not result.retryable or attempt >= self._retry.max_attempts:
            reason = result.detail if not result.retryable else f"{result.detail} (gave up after {attempt} attempts)"
            self._fail(job.notification, name, attempt, reason)
        else:
            retry = asyncio.get_running_loop().create_task(
                self._retry_later(lane, _Job(job.notification, attempt), self._retry.delay_after(attempt)))
            self._retries.add(retry)
            retry.add_done_callback(self._retries.discard)

    async def _retry_later(self, lane: _Lane, job: _Job, delay_s: float) -> None:
        await self._scheduler.sleep(delay_s)
        lane.queue.put_nowait(job)

    def _fail(self, notification: AlarmNotification, channel: str, attempts: int, error: str) -> None:
        event = NotificationFailed(notification, channel, attempts, self._clock.now(), error)
        log.warning("notification %s over %s failed: %s", notification.key, channel, error)
        with self._lock:
            self._failed.append(event)
        self._emit(event)

    def _emit(self, event: DispatcherEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a listener's bug must not stop deliveries
            log.exception("on_event listener raised for %r", event)

    # -- what happened -------------------------------------------------------------------------------
    def log(self) -> tuple[DeliveryRecord, ...]:
        """Every attempt, oldest first (bounded by `history`). Safe from any thread."""
        with self._lock:
            return tuple(self._log)

    def failed(self) -> tuple[NotificationFailed, ...]:
        """Notifications given up on, with the reason. Safe from any thread."""
        with self._lock:
            return tuple(self._failed)

    def delivered(self) -> tuple[NotificationDelivered, ...]:
        """Notifications delivered, with the attempt that succeeded. Safe from any thread."""
        with self._lock:
            return tuple(self._delivered)

    def pending(self) -> int:
        """Notifications queued, being sent or waiting for a retry (call on the loop thread)."""
        return (len(self._early) + len(self._retries)
                + sum(lane.queue.qsize() + lane.in_flight for lane in self._lanes.values()))

    @property
    def channel_names(self) -> tuple[str, ...]:
        """Names of the configured channels."""
        return tuple(self._lanes)
