"""The alarm journal in the database, on SQLite and PostgreSQL: append, restore, history search."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.alarms import AlarmEngine, AlarmState, Priority, default_rules
from core.alarms.sql_store import AlarmHistoryFilter, SqlAlarmStore, ascii_lower
from core.alarms.transitions import AlarmTransition, TransitionCause

S, C = AlarmState, TransitionCause


def _t(clock, alarm_id, frm, to, cause, **kw):
    rule_id, source = alarm_id.split(":")
    return AlarmTransition(alarm_id, rule_id, source, frm, to, clock.now(), Priority.WARNING, cause, **kw)


def test_round_trip_and_load_active_keeps_latest_non_normal(services, clock):
    store = SqlAlarmStore(services.db)
    store.append_transition(_t(clock, "r1:dev1", S.NORMAL, S.ACTIVE_UNACKED, C.CONDITION_ACTIVE, value=47.5))
    clock.advance(1)
    store.append_transition(_t(clock, "r1:dev2", S.NORMAL, S.ACTIVE_UNACKED, C.CONDITION_ACTIVE))
    clock.advance(1)
    store.append_transition(_t(clock, "r1:dev2", S.ACTIVE_UNACKED, S.ACTIVE_ACKED, C.ACKNOWLEDGE, user="olga"))
    store.append_transition(_t(clock, "r1:dev2", S.ACTIVE_ACKED, S.ACTIVE_ACKED, C.COMMENT, user="olga",
                               comment="crew on site"))
    with store.batch():
        store.append_transition(_t(clock, "r1:dev1", S.ACTIVE_UNACKED, S.RETURNED_UNACKED, C.CONDITION_CLEARED))
        store.append_transition(_t(clock, "r1:dev1", S.RETURNED_UNACKED, S.NORMAL, C.ACKNOWLEDGE, user="olga"))
        assert len(store.history()) == 4  # nothing written until the batch ends
    until = clock.now() + timedelta(hours=2)
    store.append_transition(_t(clock, "r2:dev3", S.NORMAL, S.SHELVED, C.SHELVE, user="olga", comment="sensor",
                               shelved_until=until))
    active = {t.alarm_id: t for t in store.load_active()}
    assert set(active) == {"r1:dev2", "r2:dev3"}
    assert active["r1:dev2"].to_state is S.ACTIVE_ACKED and active["r1:dev2"].cause is C.ACKNOWLEDGE
    assert active["r2:dev3"].shelved_until == until and active["r2:dev3"].at.tzinfo is not None
    history = store.history()
    assert len(history) == 7 and history[0].alarm_id == "r2:dev3"
    assert [t.alarm_id for t in store.history(AlarmHistoryFilter(text="crew"))] == ["r1:dev2"]
    assert {t.alarm_id for t in store.history(AlarmHistoryFilter(source_prefix="dev1"))} == {"r1:dev1"}
    assert store.history(AlarmHistoryFilter(text="100%_")) == []


def test_engine_restores_its_alarms_from_the_database(services, clock):
    from core.alarms import CommandFailed

    engine = AlarmEngine(default_rules(), clock, SqlAlarmStore(services.db))
    engine.receive(CommandFailed("dev1", "c1", "timeout", clock.now()))
    engine.acknowledge(["command_failed:dev1"], "olga")
    restarted = AlarmEngine(default_rules(), clock, SqlAlarmStore(services.db))
    assert restarted.state_of("command_failed:dev1") is S.ACTIVE_ACKED


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=20))
@example(text="R")  # found "r1:dev1" on SQLite only: its LIKE ignored ASCII case, PostgreSQL's did not
@example(text="%_")
def test_history_search_takes_any_text_as_data(services, clock, text):
    """Any text (wildcards, quotes, NUL, any script) is searched for as itself, with the same rows on SQLite and
    PostgreSQL: a substring of alarm id, user or comment, ignoring the case of ASCII letters only.

    The database outlives hypothesis' examples, so earlier examples' rows are searched too: the property holds
    for every row found, and this example's own row is always among them."""
    store = SqlAlarmStore(services.db)
    store.append_transition(_t(clock, "r1:dev1", S.ACTIVE_ACKED, S.ACTIVE_ACKED, C.COMMENT, user="u", comment=text))
    found = store.history(AlarmHistoryFilter(text=text))
    needle = ascii_lower(text.replace("\x00", "").strip())
    assert any(t.comment == text.replace("\x00", "") for t in found)
    assert all(needle in ascii_lower((t.comment or "") + "\n" + t.alarm_id + "\n" + (t.user or "")) for t in found)
    every = store.history()
    expected = [t for t in every if any(needle in ascii_lower(field or "") for field in (t.alarm_id, t.user, t.comment))]
    assert [t.comment for t in found] == [t.comment for t in expected]


def test_history_search_ignores_ascii_case_only(services, clock):
    store = SqlAlarmStore(services.db)
    for comment in ("Crew on site", "\u212a-rated", "Ärger"):  # \u212a: the Kelvin sign, lower() makes it "k"
        store.append_transition(_t(clock, "r1:dev1", S.ACTIVE_ACKED, S.ACTIVE_ACKED, C.COMMENT, user="u",
                                   comment=comment))
    def comments(text):
        return [t.comment for t in store.history(AlarmHistoryFilter(text=text))]
    assert comments("crew") == comments("CREW") == ["Crew on site"]
    assert comments("R1:DEV") == ["Ärger", "\u212a-rated", "Crew on site"]  # the alarm id
    assert comments("k-rated") == [] and comments("ärger") == []  # non-ASCII case is not folded, on both
