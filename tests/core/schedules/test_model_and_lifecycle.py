"""Model values and the schedule lifecycle: every legal move, every illegal one refused with a typed error."""

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.schedules.errors import (
    ApprovalRequired,
    IllegalScheduleTransition,
    InvalidDeviceLimits,
    InvalidSchedule,
    InvalidScheduleEntry,
)
from core.schedules.model import (
    Mode,
    Schedule,
    ScheduleAction as A,
    ScheduleEntry,
    ScheduleSource,
    ScheduleState as S,
    ScheduleTarget,
    TargetKind,
    allowed_actions,
    transition,
)
from tests.core.schedules.factories import at, entry, limits

LEGAL = {
    (S.DRAFT, A.APPROVE): S.APPROVED,
    (S.DRAFT, A.CANCEL): S.CANCELLED,
    (S.APPROVED, A.DISTRIBUTE): S.DISTRIBUTED,
    (S.APPROVED, A.SUPERSEDE): S.SUPERSEDED,
    (S.APPROVED, A.CANCEL): S.CANCELLED,
    (S.DISTRIBUTED, A.ACKNOWLEDGE): S.ACKNOWLEDGED,
    (S.DISTRIBUTED, A.FAIL): S.FAILED,
    (S.DISTRIBUTED, A.SUPERSEDE): S.SUPERSEDED,
    (S.DISTRIBUTED, A.CANCEL): S.CANCELLED,
    (S.ACKNOWLEDGED, A.COMPLETE): S.COMPLETED,
    (S.ACKNOWLEDGED, A.SUPERSEDE): S.SUPERSEDED,
    (S.ACKNOWLEDGED, A.CANCEL): S.CANCELLED,
    (S.FAILED, A.DISTRIBUTE): S.DISTRIBUTED,
    (S.FAILED, A.SUPERSEDE): S.SUPERSEDED,
    (S.FAILED, A.CANCEL): S.CANCELLED,
}
ILLEGAL = [(s, a) for s in S for a in A if (s, a) not in LEGAL]


def test_modes_are_the_brief_numbers():
    assert (Mode.DISCHARGE, Mode.CHARGE) == (1, 2)
    assert str(Mode.CHARGE) == "charge"


@pytest.mark.parametrize(("state", "action"), sorted(LEGAL, key=str))
def test_legal_moves(state, action):
    assert transition(state, action) is LEGAL[(state, action)]


@pytest.mark.parametrize(("state", "action"), ILLEGAL, ids=[f"{s}-{a}" for s, a in ILLEGAL])
def test_illegal_moves_are_refused_naming_the_allowed_ones(state, action):
    with pytest.raises(IllegalScheduleTransition) as caught:
        transition(state, action)
    assert caught.value.state is state and caught.value.action is action
    assert caught.value.allowed == allowed_actions(state)
    assert f"cannot {action} a schedule that is {state}" in str(caught.value)


def test_the_happy_path_and_final_states():
    state = S.DRAFT
    for action in (A.APPROVE, A.DISTRIBUTE, A.ACKNOWLEDGE, A.COMPLETE):
        state = transition(state, action)
    assert state is S.COMPLETED
    assert {s for s in S if s.is_final} == {S.COMPLETED, S.SUPERSEDED, S.CANCELLED}
    with pytest.raises(IllegalScheduleTransition, match="the state is final"):
        transition(S.SUPERSEDED, A.CANCEL)


@given(st.lists(st.sampled_from(list(A)), max_size=20))
def test_any_action_sequence_follows_the_table(actions):
    state = S.DRAFT
    for action in actions:
        if (state, action) in LEGAL:
            state = transition(state, action)
        else:
            with pytest.raises(IllegalScheduleTransition):
                transition(state, action)


def _schedule(**overrides) -> Schedule:
    values = dict(target=ScheduleTarget.device("bess-0007"), entries=[entry(14, 15)], version=1,
                  source=ScheduleSource.MANUAL, created_by="alice")
    values.update(overrides)
    return Schedule(**values)


def test_schedule_apply_records_the_approver_and_moves_state():
    draft = _schedule()
    assert draft.state is S.DRAFT and draft.entries == (entry(14, 15),)
    approved = draft.apply(A.APPROVE, by="bob")
    assert (approved.state, approved.approved_by, draft.state) == (S.APPROVED, "bob", S.DRAFT)
    assert approved.apply(A.DISTRIBUTE).state is S.DISTRIBUTED
    with pytest.raises(ApprovalRequired):
        draft.apply(A.APPROVE)
    with pytest.raises(IllegalScheduleTransition):
        draft.apply(A.ACKNOWLEDGE)


@pytest.mark.parametrize("overrides", [dict(version=0), dict(version=True), dict(target=ScheduleTarget.group("")),
                                       dict(entries=["not an entry"])])
def test_schedule_refuses_bad_records(overrides):
    with pytest.raises(InvalidSchedule):
        _schedule(**overrides)


def test_target_kinds():
    assert ScheduleTarget.group("north").kind is TargetKind.GROUP and str(ScheduleTarget.group("north")) == "group north"


def test_entry_keeps_wrong_values_for_validation_but_refuses_wrong_types():
    kept = ScheduleEntry(datetime(2026, 11, 23, 14), at(15), 7, -5)
    assert kept.mode == 7 and kept.rate_kw == -5.0
    assert ScheduleEntry(at(14), at(15), 2, 100).mode is Mode.CHARGE
    assert entry(14, 15.5).duration_h == 1.5
    for bad in (dict(start="2026-11-23"), dict(mode=True), dict(mode="charge"), dict(rate_kw="100"),
                dict(rate_kw=False)):
        values = dict(start=at(14), end=at(15), mode=2, rate_kw=1.0) | bad
        with pytest.raises(InvalidScheduleEntry):
            ScheduleEntry(**values)


@pytest.mark.parametrize(("field", "value"), [
    ("capacity_kwh", 0.0), ("max_charge_kw", -1.0), ("soc_min_pct", 95.0), ("soc_max_pct", 101.0),
    ("charge_efficiency", 0.0), ("discharge_efficiency", 1.01), ("current_soc_pct", -0.1),
    ("capacity_kwh", float("nan")), ("device_id", ""),
])
def test_device_limits_refuse_meaningless_values(field, value):
    with pytest.raises(InvalidDeviceLimits) as caught:
        limits(**{field: value})
    assert "bess-0007" in str(caught.value) or field == "device_id"
    assert caught.value.field in (field, "soc_min_pct")


def test_limit_kw_picks_the_direction():
    lim = limits()
    assert (lim.limit_kw(Mode.CHARGE), lim.limit_kw(Mode.DISCHARGE)) == (200.0, 250.0)
