"""Alarm notifications inside the runtime: alarm transitions (and a periodic check) feed the escalation
runner, which queues notifications on the dispatcher; every attempt lands in the delivery log, and a
notification given up on is published for the GUI.

Nothing here can hold up the alarm engine: the engine's listener only wakes this service's task; the
escalation check (database reads) runs in a worker thread; the dispatcher's enqueue returns at once and
each channel delivers on its own queue, so a dead SMTP server delays e-mail and nothing else.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from core.alarms.escalation import Channel, EscalationTracker, NotificationPreferences
from core.alarms.priorities import Priority
from core.alarms.service import AlarmService
from core.alarms.transitions import AlarmTransition
from core.auth.principal import SYSTEM
from core.notifications.assembly import build_channels
from core.notifications.channel_settings import NotificationSetupService
from core.notifications.delivery_log import DeliveryLog, LoggedAttempt
from core.notifications.dispatcher import (
    DeliveryRecord,
    DispatcherEvent,
    NotificationDispatcher,
    NotificationFailed,
    RetryPolicy,
)
from core.notifications.escalation_runner import EscalationRunner
from core.notifications.messages import AlarmNotification
from core.notifications.preferences import TEAM_RECIPIENT, NotificationPreferenceService, Recipients
from core.notifications.runtime_messages import (
    DesktopNotificationPublished,
    EscalateNow,
    NotificationFailurePublished,
    NotificationSetupProblems,
    QueryNotificationLog,
    ReloadNotificationSetup,
)
from core.notifications.scheduler import ClockScheduler, Scheduler
from core.services import CoreServices

log = logging.getLogger(__name__)

# Webhooks are team channels: one message per step for the on-call team, whatever the users chose.
TEAM = NotificationPreferences(TEAM_RECIPIENT, frozenset({Channel.WEBHOOK}), Priority.INFO)


class NotificationRuntimeService:
    """Runtime service: escalation runner + dispatcher + delivery log for one alarm service."""

    name = "notifications"

    def __init__(self, services: CoreServices, alarms: AlarmService, *, check_every_s: float = 15.0,
                 retry: RetryPolicy = RetryPolicy(), scheduler: Scheduler | None = None,
                 attempt_timeout_s: float = 120.0) -> None:
        self.services = services
        self.alarms = alarms
        self.check_every_s = check_every_s
        self.retry = retry
        self.scheduler = scheduler or ClockScheduler()
        self.attempt_timeout_s = attempt_timeout_s
        self.preferences = NotificationPreferenceService(services.db, services.audit, services.authorizer,
                                                         services.clock)
        self.setup = NotificationSetupService(services.db, services.audit, services.authorizer, services.clock,
                                              services.secrets)
        self.delivery_log = DeliveryLog(services.db, services.authorizer)
        self.dispatcher: NotificationDispatcher | None = None
        self.runner: EscalationRunner | None = None
        self.problems: tuple[str, ...] = ()
        self.failed_total = 0
        self._recipients = Recipients((), {}, {})
        self._tracker: EscalationTracker | None = None
        self._runtime = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._writes: asyncio.Queue[LoggedAttempt | NotificationFailed] = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []
        self._check_lock = asyncio.Lock()
        # Called on the runtime loop: the desktop registers here (with a thread-safe hand-off) to see its
        # desktop notifications at once; log listeners hear of each batch of attempts once it is stored.
        self.desktop_listeners: list[Callable[[AlarmNotification], object]] = []
        self.log_listeners: list[Callable[[list[LoggedAttempt]], object]] = []

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self, runtime) -> None:
        self._runtime = runtime
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._writes = asyncio.Queue()
        self._check_lock = asyncio.Lock()
        handlers: dict[type, Callable[[Any], Any]] = {
            EscalateNow: lambda _m: self.check(),
            ReloadNotificationSetup: lambda _m: self.reload(),
            QueryNotificationLog: lambda m: asyncio.to_thread(
                self.delivery_log.recent, m.actor, m.limit, m.failures_only),
        }
        for message_type, handler in handlers.items():
            runtime.register(message_type, handler)
        await self.reload()
        self.alarms.add_listener(self._on_transitions)
        self._tasks = [asyncio.create_task(self._check_every(), name="notification-escalation"),
                       asyncio.create_task(self._write_log(), name="notification-log-writer")]

    async def stop(self) -> None:
        if self.dispatcher is not None:
            await self.dispatcher.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # What the writer had not stored yet: store it now, so no attempt is lost at shutdown.
        pending = []
        while not self._writes.empty():
            item = self._writes.get_nowait()
            pending.append(item if isinstance(item, LoggedAttempt) else _attempt_zero(item))
        if pending:
            await asyncio.to_thread(self.delivery_log.append, [p for p in pending if p is not None])

    # -- configuration ----------------------------------------------------------------------------
    async def reload(self) -> tuple[str, ...]:
        """(Re)build channels and the escalation chain from the stored set-up; returns the problems."""
        try:
            setup = await asyncio.to_thread(self.setup.load, SYSTEM)
            built = await asyncio.to_thread(build_channels, setup, self._secret, self._emails, self._numbers,
                                            self._desktop)
            channels, problems = built.channels, built.problems
        except Exception as exc:  # an unreadable set-up must not stop alarms: run with the desktop only
            log.exception("notification set-up could not be loaded")
            from core.notifications.channels import DesktopChannel
            from core.alarms.escalation import default_escalation
            from core.notifications.channel_settings import NotificationSetup
            setup = NotificationSetup(escalation=default_escalation())
            channels, problems = (DesktopChannel(self._desktop),), (f"notification set-up unreadable: {exc}",)
        old = self.dispatcher
        self.dispatcher = NotificationDispatcher(
            channels, self.services.clock, self.retry, scheduler=self.scheduler, on_event=self._on_dispatch_event,
            on_attempt=self._on_attempt, attempt_timeout_s=self.attempt_timeout_s)
        self.dispatcher.start()
        if old is not None:
            await old.stop()
        if self._tracker is None or self._tracker.policy != setup.escalation:
            # A changed chain starts afresh; an unchanged one keeps which steps already fired.
            self._tracker = EscalationTracker(setup.escalation)
        self.runner = EscalationRunner(self._tracker, self.dispatcher, self.services.clock, self._current_recipients,
                                       rules=self.alarms.engine.rules)
        self.problems = tuple(problems)
        for problem in self.problems:
            log.warning("%s", problem)
        if self._runtime is not None:
            self._runtime.publish(NotificationSetupProblems(self.problems))
        return self.problems

    # -- escalation ------------------------------------------------------------------------------
    async def check(self) -> list[AlarmNotification]:
        """Queue the notifications due now. Database reads run in a worker thread."""
        async with self._check_lock:
            runner = self.runner
            if runner is None:
                return []
            return await asyncio.to_thread(self._check_blocking, runner)

    def _check_blocking(self, runner: EscalationRunner) -> list[AlarmNotification]:
        self._recipients = self.preferences.recipients()
        return runner.tick(self.alarms.active(SYSTEM))

    def _current_recipients(self) -> tuple[NotificationPreferences, ...]:
        return self._recipients.preferences + (TEAM,)

    async def _check_every(self) -> None:
        while True:
            # Cleared before the check, not after: a transition that arrives while the check runs must wake the
            # next one at once (clearing afterwards lost it until the periodic check, up to check_every_s later).
            self._wake.clear()
            try:
                await self.check()
            except Exception:
                log.exception("escalation check failed; it runs again")
            sleeper = asyncio.ensure_future(self.scheduler.sleep(self.check_every_s))
            woken = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, woken}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for f in (sleeper, woken):
                    f.cancel()

    def _on_transitions(self, transitions: list[AlarmTransition]) -> None:
        """AlarmService listener, called from the engine's thread: only wakes the check (never blocks)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    # -- channels' callbacks ----------------------------------------------------------------------
    def _secret(self, channel: str) -> str | None:
        return self.setup.secret(channel)

    def _emails(self, user: str) -> tuple[str, ...]:
        return self._recipients.emails.get(user, ())

    def _numbers(self, user: str) -> tuple[str, ...]:
        return self._recipients.sms_numbers.get(user, ())

    def _desktop(self, notification: AlarmNotification) -> None:
        if self._runtime is None:
            raise RuntimeError("no runtime to publish desktop notifications to")
        self._runtime.publish(DesktopNotificationPublished(notification))
        for listener in self.desktop_listeners:
            listener(notification)  # an exception fails this delivery (retried), as DesktopChannel says

    # -- delivery log ----------------------------------------------------------------------------
    def _on_attempt(self, record: DeliveryRecord, final: bool) -> None:
        self._writes.put_nowait(LoggedAttempt(record, final))

    def _on_dispatch_event(self, event: DispatcherEvent) -> None:
        if isinstance(event, NotificationFailed):
            self._writes.put_nowait(event)  # published after the attempts before it are stored

    async def _write_log(self) -> None:
        while True:
            item = await self._writes.get()
            batch = [item]
            while not self._writes.empty():
                batch.append(self._writes.get_nowait())
            attempts = [x if isinstance(x, LoggedAttempt) else _attempt_zero(x) for x in batch]
            attempts = [a for a in attempts if a is not None]
            try:
                await asyncio.to_thread(self.delivery_log.append, attempts)
            except Exception:
                log.exception("could not store %d notification attempts", len(attempts))
            for x in batch:
                if isinstance(x, NotificationFailed):
                    self.failed_total += 1
                    if self._runtime is not None:
                        self._runtime.publish(NotificationFailurePublished(x, self.failed_total))
            for listener in self.log_listeners:
                try:
                    listener(attempts)
                except Exception:
                    log.exception("delivery-log listener failed")


def _attempt_zero(failure: NotificationFailed) -> LoggedAttempt | None:
    """A failure that never reached a channel (none configured, queue full) as a stored attempt 0."""
    if failure.attempts > 0:
        return None  # its attempts are already logged
    return LoggedAttempt(DeliveryRecord(failure.notification, failure.channel, 0, failure.at, False, failure.error),
                         True)
