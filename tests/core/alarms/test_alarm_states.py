"""The ISA-18.2 transition function: every legal transition, refusals, and random sequences."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.alarms.errors import IllegalTransitionError
from core.alarms.states import (
    Acknowledge,
    AlarmState,
    ConditionActive,
    ConditionCleared,
    RemoveFromService,
    ReturnToService,
    Shelve,
    ShelveExpired,
    Unshelve,
    next_state,
)

S = AlarmState
UNTIL = datetime(2026, 1, 2, tzinfo=timezone.utc)
SHELVE = Shelve("pump swap", UNTIL)

LEGAL = [
    (S.NORMAL, ConditionActive(), S.ACTIVE_UNACKED),
    (S.ACTIVE_UNACKED, Acknowledge(), S.ACTIVE_ACKED),
    (S.ACTIVE_UNACKED, ConditionCleared(), S.RETURNED_UNACKED),
    (S.ACTIVE_ACKED, ConditionCleared(), S.NORMAL),
    (S.RETURNED_UNACKED, Acknowledge(), S.NORMAL),
    (S.RETURNED_UNACKED, ConditionActive(), S.ACTIVE_UNACKED),
    (S.NORMAL, SHELVE, S.SHELVED),
    (S.ACTIVE_UNACKED, SHELVE, S.SHELVED),
    (S.ACTIVE_ACKED, SHELVE, S.SHELVED),
    (S.RETURNED_UNACKED, SHELVE, S.SHELVED),
    (S.SHELVED, SHELVE, S.SHELVED),
    (S.SHELVED, ConditionActive(), S.SHELVED),
    (S.SHELVED, ConditionCleared(), S.SHELVED),
    (S.SHELVED, Unshelve(condition_active=True), S.ACTIVE_UNACKED),
    (S.SHELVED, Unshelve(condition_active=False), S.NORMAL),
    (S.SHELVED, ShelveExpired(condition_active=True), S.ACTIVE_UNACKED),
    (S.SHELVED, ShelveExpired(condition_active=False), S.NORMAL),
    (S.NORMAL, RemoveFromService(), S.OUT_OF_SERVICE),
    (S.ACTIVE_UNACKED, RemoveFromService(), S.OUT_OF_SERVICE),
    (S.ACTIVE_ACKED, RemoveFromService(), S.OUT_OF_SERVICE),
    (S.RETURNED_UNACKED, RemoveFromService(), S.OUT_OF_SERVICE),
    (S.SHELVED, RemoveFromService(), S.OUT_OF_SERVICE),
    (S.OUT_OF_SERVICE, ConditionActive(), S.OUT_OF_SERVICE),
    (S.OUT_OF_SERVICE, ConditionCleared(), S.OUT_OF_SERVICE),
    (S.OUT_OF_SERVICE, ReturnToService(condition_active=True), S.ACTIVE_UNACKED),
    (S.OUT_OF_SERVICE, ReturnToService(condition_active=False), S.NORMAL),
]


@pytest.mark.parametrize(("state", "event", "expected"), LEGAL, ids=lambda x: getattr(x, "name", type(x).__name__))
def test_legal_transition(state, event, expected):
    assert next_state(state, event) is expected


ILLEGAL = [
    (S.NORMAL, ConditionCleared(), "already clear"),
    (S.NORMAL, Acknowledge(), "nothing to acknowledge"),
    (S.ACTIVE_UNACKED, ConditionActive(), "already active"),
    (S.ACTIVE_ACKED, Acknowledge(), "already acknowledged"),
    (S.RETURNED_UNACKED, ConditionCleared(), "already clear"),
    (S.SHELVED, Acknowledge(), "not annunciated"),
    (S.OUT_OF_SERVICE, SHELVE, "cannot be shelved"),
    (S.OUT_OF_SERVICE, RemoveFromService(), "already out of service"),
    (S.NORMAL, Unshelve(True), "not shelved"),
    (S.ACTIVE_ACKED, ShelveExpired(False), "not shelved"),
    (S.SHELVED, ReturnToService(True), "not out of service"),
]


@pytest.mark.parametrize(("state", "event", "reason"), ILLEGAL)
def test_illegal_transition_raises_with_reason(state, event, reason):
    with pytest.raises(IllegalTransitionError) as caught:
        next_state(state, event)
    assert reason in caught.value.reason
    assert caught.value.state is state


def test_not_a_state_is_refused():
    with pytest.raises(IllegalTransitionError, match="not an AlarmState"):
        next_state("UNACK", Acknowledge())  # type: ignore[arg-type]


def test_shelve_needs_reason_and_aware_time():
    with pytest.raises(ValueError, match="reason"):
        Shelve("  ", UNTIL)
    with pytest.raises(ValueError, match="naive"):
        Shelve("ok", datetime(2026, 1, 2))


events = st.one_of(
    st.just(ConditionActive()), st.just(ConditionCleared()), st.just(Acknowledge()), st.just(SHELVE),
    st.builds(Unshelve, st.booleans()), st.builds(ShelveExpired, st.booleans()),
    st.just(RemoveFromService()), st.builds(ReturnToService, st.booleans()),
)


@given(st.lists(events, max_size=60))
def test_random_sequences_stay_in_the_model(sequence):
    """Random events either move between states or raise the typed error and leave the state alone;
    and the condition a state implies always matches the condition the events said."""
    state, condition = S.NORMAL, False
    for event in sequence:
        if isinstance(event, ConditionActive | ConditionCleared) and state.suppressed:
            condition = isinstance(event, ConditionActive)
        try:
            new = next_state(state, event)
        except IllegalTransitionError:
            continue
        assert isinstance(new, AlarmState)
        if isinstance(event, ConditionActive | ConditionCleared):
            condition = isinstance(event, ConditionActive)
        if isinstance(event, Unshelve | ShelveExpired | ReturnToService):
            # Leaving suppression: the caller tells the truth about the condition in the engine;
            # here the event itself defines it.
            condition = event.condition_active
        state = new
        if state in (S.ACTIVE_UNACKED, S.ACTIVE_ACKED):
            assert condition
        if state in (S.NORMAL, S.RETURNED_UNACKED):
            assert not condition
