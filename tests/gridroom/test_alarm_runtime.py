"""The alarm engine in the runtime: LiveState over a threshold raises an alarm after its delay, a failed
command raises a command-failure alarm, operator commands go through the runtime and transitions are
published for the GUI."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from core.alarms import AlarmState
from core.alarms.messages import AcknowledgeAlarms, AlarmTransitionsPublished, ListActiveAlarms, ShelveAlarm
from core.auth.principal import SYSTEM
from core.commands.model import CommandKind, CommandOutcome, CommandStatus, DeviceCommand
from core.fleet.live_state import LiveState
from core.runtime.runtime import Runtime
from gridroom.alarm_runtime import AlarmRuntimeService


@pytest.fixture
def live_state(clock):
    state = LiveState()
    state.register("bess-1")
    state.register_battery_system("rack-1", 2, 3)
    for pack in range(2):
        state.apply_cells("rack-1", pack, np.full(3, 3.30), np.full(3, 25.0), np.full(3, 50.0), np.full(3, 99.0),
                          seen_at=clock.now().timestamp())
    state.apply_telemetry_batch([("bess-1", {"soc_pct": 60.0, "temp_c": 25.0})], clock.now().timestamp())
    state.refresh_availability(clock.now().timestamp(), 10.0, 60.0)
    return state


@pytest.fixture
def alarms(sqlite_services, live_state):
    return AlarmRuntimeService(sqlite_services, live_state, ("rack-1",))


def _hot_cell(live_state, clock, temp_c):
    temps = np.full(3, 25.0)
    temps[1] = temp_c
    live_state.apply_cells("rack-1", 1, np.full(3, 3.30), temps, np.full(3, 50.0), np.full(3, 99.0),
                           seen_at=clock.now().timestamp())


def test_a_cell_over_threshold_longer_than_the_delay_raises_an_alarm(alarms, live_state, clock):
    assert alarms.evaluate_once() == []
    _hot_cell(live_state, clock, 47.0)  # cell_temp_high: 45 C, 10 s on-delay
    assert alarms.evaluate_once() == []
    clock.advance(9)
    assert alarms.evaluate_once() == []
    clock.advance(2)
    raised = alarms.evaluate_once()
    assert [(t.alarm_id, t.to_state) for t in raised] == [("cell_temp_high:rack-1/pack02/cell02", AlarmState.ACTIVE_UNACKED)]
    assert raised[0].value == 47.0
    assert alarms.alarms.annunciated_count == 1
    # Back under threshold but inside the 2 C deadband: still active.
    _hot_cell(live_state, clock, 44.0)
    assert alarms.evaluate_once() == []
    _hot_cell(live_state, clock, 42.0)
    assert [t.to_state for t in alarms.evaluate_once()] == [AlarmState.RETURNED_UNACKED]


def test_a_short_spike_raises_nothing(alarms, live_state, clock):
    _hot_cell(live_state, clock, 60.0)
    alarms.evaluate_once()
    clock.advance(3)
    _hot_cell(live_state, clock, 25.0)
    clock.advance(20)
    assert alarms.evaluate_once() == []


@pytest.mark.parametrize("status", [CommandStatus.TIMEOUT, CommandStatus.REJECTED, CommandStatus.FAILED])
def test_a_failed_command_raises_a_command_failure_alarm(alarms, clock, status):
    outcome = CommandOutcome("c1", DeviceCommand("bess-1", CommandKind.CHARGE, 50.0), status,
                             "no answer within 5 s", "olga", clock.now(), clock.now())
    raised = alarms.feed_command_outcome(outcome)
    assert [(t.alarm_id, t.to_state) for t in raised] == [("command_failed:bess-1", AlarmState.ACTIVE_UNACKED)]


@pytest.mark.parametrize("status", [CommandStatus.ACKED, CommandStatus.QUEUED, CommandStatus.REFUSED])
def test_other_command_outcomes_raise_nothing(alarms, clock, status):
    outcome = CommandOutcome("c1", DeviceCommand("bess-1", CommandKind.IDLE), status, "", "olga",
                             clock.now(), clock.now())
    assert alarms.feed_command_outcome(outcome) == []


def test_operator_commands_through_the_runtime_and_transitions_are_published(alarms, clock):
    runtime = Runtime(clock=clock)
    runtime.add_service(alarms)
    runtime.start()
    try:
        outcome = CommandOutcome("c9", DeviceCommand("bess-1", CommandKind.CHARGE, 10.0), CommandStatus.TIMEOUT,
                                 "timeout", "olga", clock.now(), clock.now())
        alarms.feed_command_outcome(outcome)
        active = runtime.submit(ListActiveAlarms(SYSTEM)).result(10)
        assert [a.alarm_id for a in active] == ["command_failed:bess-1"]
        runtime.submit(AcknowledgeAlarms(SYSTEM, ("command_failed:bess-1",))).result(10)
        runtime.submit(ShelveAlarm(SYSTEM, "command_failed:bess-1", "comms work", clock.now() + timedelta(hours=1))
                       ).result(10)
        published = [e for e in runtime.drain_events() if isinstance(e, AlarmTransitionsPublished)]
        causes = [t.cause.value for e in published for t in e.transitions]
        assert causes[:3] == ["condition_active", "acknowledge", "shelve"]
        assert published[-1].annunciated_count == 0
    finally:
        runtime.stop()


def test_composition_wires_alarms_to_the_fleet(sqlite_services):
    from gridroom.composition import build_fleet, build_runtime
    from gridroom.fleet_runtime import FleetSettings

    fleet = build_fleet(sqlite_services, FleetSettings())
    assert fleet.context.alarm_count is None
    build_runtime(sqlite_services, fleet)
    assert fleet.context.alarm_count() == 0
    assert len(fleet.command_outcome_listeners) == 1


@pytest.mark.parametrize("chemistry, alarms_expected", [("nmc", False), ("lfp", True)])
def test_the_voltage_window_follows_the_fleet_chemistry(sqlite_services, clock, chemistry, alarms_expected):
    """NMC-like cells at 3.7 V are normal for the default NMC window and far above LFP's 3.65 V limit: the
    demo once raised 2,000 alarms on healthy cells because the LFP window was used for NMC cells."""
    import numpy as np

    from core.alarms.default_rules import Chemistry, default_rules
    from core.fleet.live_state import LiveState
    from gridroom.alarm_runtime import AlarmRuntimeService

    from gridroom.fleet_runtime import FleetSettings

    assert FleetSettings().cell_chemistry == "nmc"
    live = LiveState()
    live.register_battery_system("bs-x", 2, 3)
    for pack in range(2):
        live.apply_cells("bs-x", pack, np.full(3, 3.7), np.full(3, 25.0), np.full(3, 50.0), np.full(3, 99.0),
                         10.0, clock.now().timestamp())
    service = AlarmRuntimeService(sqlite_services, live, ["bs-x"], rules=default_rules(Chemistry(chemistry)))
    raised = []
    for _ in range(40):  # past every on-delay
        raised += service.evaluate_once()
        clock.advance(1)
    assert bool(raised) is alarms_expected
