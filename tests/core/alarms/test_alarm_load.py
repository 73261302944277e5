"""EEMUA 191 figures on a scripted journal whose answers were worked out by hand."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.alarms import AlarmState, AlarmTransition, Priority, TransitionCause
from core.alarms.alarm_load import AlarmLoadError, compute_alarm_load

S, C = AlarmState, TransitionCause
T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
END = T0 + timedelta(hours=1)


def record(alarm_id, at, old, new, cause):
    rule_id, source_id = alarm_id.split(":")
    return AlarmTransition(alarm_id, rule_id, source_id, old, new, at, Priority.WARNING, cause)


def activate(alarm_id, at):
    return record(alarm_id, at, S.NORMAL, S.ACTIVE_UNACKED, C.CONDITION_ACTIVE)


def clear(alarm_id, at):
    return record(alarm_id, at, S.ACTIVE_UNACKED, S.RETURNED_UNACKED, C.CONDITION_CLEARED)


def at(minutes=0, seconds=0):
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def scripted_journal():
    journal = []
    # window 0 (00:00-00:10): r1:a activates at 0, 20, 40 s (chattering) + 9 other alarms = 12 -> flood
    for s in (0, 20, 40):
        journal += [activate("r1:a", at(seconds=s)), clear("r1:a", at(seconds=s + 10))]
    journal += [activate(f"r2:d{i}", at(minutes=1 + i)) for i in range(9)]
    # window 2 (00:20-00:30): r1:b three times, 90 s apart -> not chattering
    for s in (0, 90, 180):
        journal += [activate("r1:b", at(minutes=20, seconds=s)), clear("r1:b", at(minutes=20, seconds=s + 30))]
    # window 5 (00:50-01:00): exactly 10 -> not a flood (EEMUA: more than 10)
    journal += [activate(f"r3:e{i}", at(minutes=50, seconds=30 * i)) for i in range(10)]
    # standing candidates, activated before the period
    journal += [activate("r4:s", END - timedelta(hours=24, minutes=30)),
                record("r4:s", END - timedelta(hours=20), S.ACTIVE_UNACKED, S.ACTIVE_ACKED, C.ACKNOWLEDGE)]
    journal += [activate("r4:t", END - timedelta(hours=2))]
    journal += [activate("r4:u", END - timedelta(days=2)), clear("r4:u", END - timedelta(days=1))]
    # noise that must not count: a comment, a re-annunciation from shelving, records after the period
    journal += [record("r1:a", at(minutes=5), S.RETURNED_UNACKED, S.RETURNED_UNACKED, C.COMMENT)]
    journal += [record("r5:x", at(minutes=30), S.NORMAL, S.SHELVED, C.SHELVE),
                record("r5:x", at(minutes=40), S.SHELVED, S.ACTIVE_UNACKED, C.SHELVE_EXPIRED)]
    journal += [activate("r6:late", END), activate("r6:late2", END + timedelta(minutes=5))]
    return journal[::-1]  # any order


def test_scripted_sequence_figures():
    report = compute_alarm_load(scripted_journal(), T0, END, operators=2)
    assert report.new_alarms == 25  # 12 + 3 + 10
    assert report.windows == 6
    assert report.average_per_operator_per_10min == pytest.approx(25 / 6 / 2)
    assert report.peak_per_operator_per_10min == 6.0  # 12 in window 0, 2 operators
    assert report.flood_windows == ((T0, 12),)
    assert report.percent_windows_in_flood == pytest.approx(100 / 6)
    # r4:t is active but 2 h old, r4:u cleared, r5:x re-annunciated from a shelve (not an activation)
    assert report.standing_alarms == ("r4:s",)
    assert report.chattering_alarms == ("r1:a",)
    assert report.top_alarms[:3] == (("r1:a", 3), ("r1:b", 3), ("r2:d0", 1))
    assert len(report.top_alarms) == 10
    assert report.top_rules == (("r3", 10), ("r2", 9), ("r1", 6))


def test_partial_last_window_counts_as_a_window():
    report = compute_alarm_load([activate("r:a", at(minutes=12))], T0, T0 + timedelta(minutes=15), operators=1)
    assert report.windows == 2 and report.average_per_operator_per_10min == 0.5


@pytest.mark.parametrize(("start", "end", "operators", "match"), [
    (T0, T0, 1, "after"),
    (T0, END, 0, "positive"),
    (datetime(2026, 3, 1), END, 1, "naive"),
])
def test_invalid_arguments(start, end, operators, match):
    with pytest.raises((AlarmLoadError, ValueError), match=match):
        compute_alarm_load([], start, end, operators)
