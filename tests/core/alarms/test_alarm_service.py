"""AlarmService: permissions (refusals audited), every operator action audited, rule edits validated."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.alarms import AlarmState, CommandFailed, RuleValidationError, default_rules
from core.alarms.errors import OperatorActionRefusedError
from core.alarms.service import AlarmService
from core.alarms.sql_store import AlarmHistoryFilter
from core.audit.trail import AuditFilter
from core.errors import PermissionDenied

STRONG = "Correct-Horse-42"


@pytest.fixture
def people(sqlite_services):
    users = sqlite_services.users
    users.create_first_admin("root-admin", STRONG)
    admin = users.authenticate("root-admin", STRONG)
    out = {"admin": admin}
    for name, role in [("olga", "operator"), ("vic", "viewer")]:
        users.create_user(admin, name, role, STRONG)
        users.change_password(users.authenticate(name, STRONG), STRONG, STRONG + "!x")
        out[name] = users.authenticate(name, STRONG + "!x")
    return out


def _service(core, clock) -> AlarmService:
    return AlarmService.open(core.db, core.audit, core.authorizer, clock, default_rules())


def _audit(core, **kw):
    with core.db.session() as s:
        return core.audit.query(s, AuditFilter(**kw))


@pytest.fixture
def alarms(sqlite_services, clock):
    service = _service(sqlite_services, clock)
    service.receive(CommandFailed("dev1", "c1", "timeout", clock.now()))
    clock.advance(1)
    service.receive(CommandFailed("dev2", "c2", "rejected", clock.now()))
    return service


def test_viewer_sees_alarms_but_cannot_act_and_the_refusal_is_audited(sqlite_services, people, alarms):
    vic = people["vic"]
    assert [a.alarm_id for a in alarms.active(vic)] == ["command_failed:dev2", "command_failed:dev1"]
    with pytest.raises(PermissionDenied, match="handle alarms"):
        alarms.acknowledge(vic, ["command_failed:dev1"])
    with pytest.raises(PermissionDenied):
        alarms.update_rule(vic, "cell_temp_high", threshold=44.0)
    denied = _audit(sqlite_services, action="permission.denied", username="vic")
    assert {d.detail["permission"] for d in denied} == {"handle_alarms", "edit_alarm_rules"}
    assert alarms.engine.state_of("command_failed:dev1") is AlarmState.ACTIVE_UNACKED


def test_operator_acknowledges_many_shelves_comments_and_each_action_is_audited(sqlite_services, people, alarms, clock):
    olga = people["olga"]
    assert alarms.annunciated_count == 2
    done = alarms.acknowledge(olga, ["command_failed:dev1", "command_failed:dev2"])
    assert [t.to_state for t in done] == [AlarmState.ACTIVE_ACKED] * 2
    alarms.comment(olga, "command_failed:dev1", "gateway rebooted")
    with pytest.raises(OperatorActionRefusedError, match="reason"):
        alarms.shelve(olga, "command_failed:dev2", "  ", clock.now() + timedelta(hours=1))
    alarms.shelve(olga, "command_failed:dev2", "known comms fault", clock.now() + timedelta(hours=1))
    assert alarms.annunciated_count == 1
    actions = [e.action for e in reversed(_audit(sqlite_services, username="olga", action="alarm."))]
    assert actions == ["alarm.acknowledge", "alarm.comment", "alarm.shelve", "alarm.shelve"]
    refused = _audit(sqlite_services, username="olga", action="alarm.shelve", result="failure")
    assert "reason" in refused[0].detail["reason"]
    history = alarms.history(olga, AlarmHistoryFilter(text="gateway"))
    assert [t.comment for t in history] == ["gateway rebooted"]


def test_out_of_service_is_remembered_across_a_restart(sqlite_services, people, alarms, clock):
    olga = people["olga"]
    alarms.set_out_of_service(olga, "dev1", "inverter swap")
    assert alarms.engine.state_of("command_failed:dev1") is AlarmState.OUT_OF_SERVICE
    restarted = _service(sqlite_services, clock)
    assert "dev1" in restarted.engine.out_of_service()
    restarted.return_to_service(olga, "dev1")
    # The journal does not keep a suppressed alarm's condition, so after a restart it comes back NORMAL
    # until the next evaluation or event says otherwise.
    assert restarted.engine.state_of("command_failed:dev1") is AlarmState.NORMAL
    assert "dev1" not in _service(sqlite_services, clock).engine.out_of_service()


def test_rule_update_is_validated_audited_with_old_and_new_and_survives_restart(sqlite_services, people, alarms, clock):
    admin = people["admin"]
    with pytest.raises(RuleValidationError, match="outside the physical range"):
        alarms.update_rule(admin, "cell_temp_high", threshold=1000.0)
    failure = _audit(sqlite_services, action="alarm.rule_update", result="failure")
    assert "physical range" in failure[0].detail["reason"]
    rule = alarms.update_rule(admin, "cell_temp_high", threshold=43.0, on_delay_s=20.0)
    assert (rule.threshold, rule.on_delay_s) == (43.0, 20.0)
    entry = _audit(sqlite_services, action="alarm.rule_update", result="success")[0]
    assert entry.detail["old"]["threshold"] == 45.0 and entry.detail["new"]["threshold"] == 43.0
    # The reconfigured engine keeps the alarms it had.
    assert alarms.engine.state_of("command_failed:dev1") is AlarmState.ACTIVE_UNACKED
    restarted = _service(sqlite_services, clock)
    assert {r.rule_id: r for r in restarted.engine.rules}["cell_temp_high"].threshold == 43.0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(threshold=st.floats(allow_nan=True, allow_infinity=True), deadband=st.floats(-10, 200))
def test_rule_update_either_validates_or_refuses_with_a_reason(sqlite_services, clock, threshold, deadband):
    from core.auth.principal import SYSTEM

    service = _service(sqlite_services, clock)
    before = {r.rule_id: r for r in service.engine.rules}["cell_temp_high"]
    try:
        rule = service.update_rule(SYSTEM, "cell_temp_high", threshold=threshold, deadband=deadband)
    except RuleValidationError as error:
        assert error.field in ("threshold", "deadband") and error.reason
        assert {r.rule_id: r for r in service.engine.rules}["cell_temp_high"] == before
    else:
        assert rule.threshold == threshold and rule.deadband == deadband
