"""The alarm engine inside the runtime: evaluates LiveState at 1 Hz, turns failed commands into alarms,
publishes every transition for the GUI and answers the operators' alarm commands.

Engine work (and its journal writes) runs in a worker thread so the runtime loop never waits on the
database; AlarmService's lock keeps the engine single-threaded.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Iterable

import numpy as np

from core.alarms import (
    BatterySystemSnapshot,
    CommandFailed,
    FleetSnapshot,
    default_rules,
)
from core.alarms.inputs import AlarmInputEvent
from core.alarms.messages import (
    AcknowledgeAlarms,
    AlarmTransitionsPublished,
    CommentAlarm,
    ComputeAlarmLoad,
    ListAlarmRules,
    ListActiveAlarms,
    QueryAlarmHistory,
    ReturnAlarmsToService,
    SetAlarmsOutOfService,
    ShelveAlarm,
    UnshelveAlarm,
    UpdateAlarmRule,
)
from core.alarms.rules import AlarmRule
from core.alarms.service import AlarmService
from core.alarms.transitions import AlarmTransition
from core.commands.model import CommandOutcome, CommandStatus
from core.fleet.live_state import AvailabilityCode, LiveState
from core.services import CoreServices

log = logging.getLogger(__name__)

FAILED_STATUSES = frozenset({CommandStatus.REJECTED, CommandStatus.TIMEOUT, CommandStatus.FAILED})


def fleet_snapshot(live_state: LiveState, battery_systems: Iterable[str]) -> FleetSnapshot:
    """The engine's snapshot of LiveState: device columns and the cells of every battery system."""
    snap = live_state.snapshot()
    # LiveState codes rank better-is-higher (OFFLINE=0 .. ONLINE=2); the engine's rank worse-is-higher.
    availability = float(AvailabilityCode.ONLINE) - snap.availability.astype(np.float64)
    systems = []
    for system_id in battery_systems:
        cells = live_state.battery_snapshot(system_id)
        systems.append(BatterySystemSnapshot(system_id, cells.voltage_v, cells.temp_c))
    return FleetSnapshot(snap.device_ids, snap.soc_pct, snap.temp_c, availability, tuple(systems))


def command_failure(outcome: CommandOutcome) -> CommandFailed | None:
    """The alarm input for a command that reached a device and failed; None for any other outcome."""
    if outcome.status not in FAILED_STATUSES:
        return None
    return CommandFailed(outcome.command.device_id, outcome.command_id,
                         f"{outcome.status.value}: {outcome.message}", outcome.completed_at)


class AlarmRuntimeService:
    """Runtime service owning the alarm engine of one fleet."""

    name = "alarms"

    def __init__(self, services: CoreServices, live_state: LiveState, battery_systems: Iterable[str] = (),
                 rules: Iterable[AlarmRule] | None = None, period_s: float = 1.0) -> None:
        self.services = services
        self.live_state = live_state
        self.battery_systems = tuple(battery_systems)
        self.period_s = period_s
        self.alarms = AlarmService.open(services.db, services.audit, services.authorizer, services.clock,
                                        default_rules() if rules is None else rules)
        self._runtime = None
        self._tasks: list[asyncio.Task] = []
        self._pending: set[asyncio.Task] = set()
        self.alarms.add_listener(self._publish)

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self, runtime) -> None:
        self._runtime = runtime
        handlers: dict[type, Callable[[Any], Any]] = {
            AcknowledgeAlarms: lambda m: self.alarms.acknowledge(m.actor, m.alarm_ids, m.comment),
            ShelveAlarm: lambda m: self.alarms.shelve(m.actor, m.alarm_id, m.reason, m.until),
            UnshelveAlarm: lambda m: self.alarms.unshelve(m.actor, m.alarm_id),
            CommentAlarm: lambda m: self.alarms.comment(m.actor, m.alarm_id, m.text),
            SetAlarmsOutOfService: lambda m: self.alarms.set_out_of_service(m.actor, m.device_id, m.reason),
            ReturnAlarmsToService: lambda m: self.alarms.return_to_service(m.actor, m.device_id),
            UpdateAlarmRule: lambda m: self.alarms.update_rule(
                m.actor, m.rule_id, threshold=m.threshold, deadband=m.deadband, on_delay_s=m.on_delay_s,
                priority=m.priority),
            ListActiveAlarms: lambda m: self.alarms.active(m.actor, m.include_suppressed),
            QueryAlarmHistory: lambda m: self.alarms.history(m.actor, m.filter),
            ListAlarmRules: lambda m: self.alarms.rules(m.actor),
            ComputeAlarmLoad: lambda m: self.alarms.alarm_load(m.actor, m.period_start, m.period_end, m.operators),
        }
        for message_type, handler in handlers.items():
            runtime.register(message_type, self._in_thread(handler))
        self._tasks = [asyncio.create_task(self._evaluate_every(), name="alarm-evaluation")]

    async def stop(self) -> None:
        tasks = self._tasks + list(self._pending)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- inputs ----------------------------------------------------------------------------------
    def evaluate_once(self) -> list[AlarmTransition]:
        """Evaluate the rules on LiveState as it is now (blocking; the runtime calls it in a thread)."""
        return self.alarms.evaluate(fleet_snapshot(self.live_state, self.battery_systems))

    def feed_command_outcome(self, outcome: CommandOutcome) -> list[AlarmTransition]:
        """Raise a command-failure alarm when `outcome` is a failure (blocking)."""
        event = command_failure(outcome)
        return [] if event is None else self.alarms.receive(event)

    def on_command_outcome(self, outcome: CommandOutcome) -> None:
        """Listener for FleetService, called on the runtime loop: records the failure in a worker thread."""
        if command_failure(outcome) is None:
            return
        task = asyncio.create_task(asyncio.to_thread(self.feed_command_outcome, outcome))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def feed_event(self, event: AlarmInputEvent) -> list[AlarmTransition]:
        """Hand a discrete alarm input (e.g. ForecastDriftDetected) to the engine (blocking)."""
        return self.alarms.receive(event)

    def submit_event(self, event: AlarmInputEvent) -> None:
        """Thread-safe entry for inputs raised outside the runtime loop (an import in a worker thread):
        the event crosses to the runtime loop, which records it in a worker thread like any other input."""
        runtime = self._runtime
        if runtime is None:
            self.feed_event(event)  # no runtime (CLI): record it here and now
            return
        runtime.loop.call_soon_threadsafe(self._feed_later, event)

    def _feed_later(self, event: AlarmInputEvent) -> None:
        task = asyncio.create_task(asyncio.to_thread(self.feed_event, event))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    # -- internals -------------------------------------------------------------------------------
    def _in_thread(self, handler: Callable[[Any], Any]):
        async def run(message: Any) -> Any:
            return await asyncio.to_thread(handler, message)
        return run

    async def _evaluate_every(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.evaluate_once)
            except Exception:
                log.exception("alarm evaluation failed; it runs again next period")
            await asyncio.sleep(self.period_s)

    def _publish(self, transitions: list[AlarmTransition]) -> None:
        if self._runtime is not None:
            self._runtime.publish(AlarmTransitionsPublished(
                tuple(transitions), self.alarms.annunciated_count, self.alarms.unacked_critical_count))
