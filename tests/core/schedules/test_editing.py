"""Editor helpers: copy a day, shift, apply to a group, merge, compare."""

from datetime import date, datetime, timedelta, timezone

import pytest

from core.schedules.editing import (
    EditingError,
    apply_to_group,
    compare,
    copy_day,
    merge_adjacent,
    shift,
    shift_hours,
)
from core.schedules.model import Mode, ScheduleEntry, ScheduleSource, ScheduleState, TargetKind
from tests.core.schedules.factories import at, entry

UTC = timezone.utc


def test_copy_day_replaces_the_target_day_with_copies():
    monday = [entry(8, 9, day=23), entry(23, 25, mode=Mode.DISCHARGE, day=23)]  # the second runs past midnight
    wednesday_old = entry(10, 11, day=25)
    result = copy_day([*monday, wednesday_old, entry(12, 13, day=24)], date(2026, 11, 23), date(2026, 11, 25))
    assert result == (*monday, entry(12, 13, day=24), entry(8, 9, day=25),
                      entry(23, 25, mode=Mode.DISCHARGE, day=25))
    assert wednesday_old not in result


def test_copy_day_across_a_european_dst_change_stays_on_utc_hours():
    # 2026-10-25 is when Europe leaves summer time; a UTC day is still exactly 24 hours.
    source = ScheduleEntry(datetime(2026, 10, 24, 14, tzinfo=UTC), datetime(2026, 10, 24, 15, tzinfo=UTC), 2, 50.0)
    [_, copy] = copy_day([source], date(2026, 10, 24), date(2026, 10, 25))
    assert (copy.start, copy.end) == (datetime(2026, 10, 25, 14, tzinfo=UTC), datetime(2026, 10, 25, 15, tzinfo=UTC))
    assert copy.mode is Mode.CHARGE and copy.rate_kw == 50.0


def test_copy_day_onto_itself_changes_nothing():
    entries = [entry(9, 10), entry(8, 9)]
    assert copy_day(entries, date(2026, 11, 23), date(2026, 11, 23)) == (entry(8, 9), entry(9, 10))


def test_shift_moves_all_or_the_selection_and_keeps_order():
    entries = [entry(8, 9), entry(10, 11), entry(12, 13)]
    assert shift(entries, timedelta(hours=-2)) == (entry(6, 7), entry(8, 9), entry(10, 11))
    assert shift_hours(entries, 3, only={1}) == (entry(10, 11), entry(11, 12), entry(12, 13))
    with pytest.raises(EditingError, match="no entry 4: the schedule has 3 entries"):
        shift(entries, timedelta(hours=1), only=[4])


def test_helpers_refuse_naive_times():
    naive = ScheduleEntry(datetime(2026, 11, 23, 8), at(9), 2, 1.0)
    with pytest.raises(EditingError, match="entry 1: start 2026-11-23T08:00:00 has no time zone"):
        shift([naive], timedelta(hours=1))


def test_apply_to_group_gives_each_member_its_own_next_version():
    entries = [entry(8, 9), entry(10, 11)]
    schedules = apply_to_group(entries, ["bess-1", "bess-2"], source=ScheduleSource.OPTIMIZER, created_by="alice",
                               current_versions={"bess-2": 7})
    assert list(schedules) == ["bess-1", "bess-2"]
    one, two = schedules.values()
    assert (one.target.kind, one.target.id, one.version, two.version) == (TargetKind.DEVICE, "bess-1", 1, 8)
    assert one.entries == two.entries == tuple(entries)
    assert one.state is ScheduleState.DRAFT and one.source is ScheduleSource.OPTIMIZER and one.created_by == "alice"
    with pytest.raises(EditingError, match="bess-1 is listed twice"):
        apply_to_group(entries, ["bess-1", "bess-1"], source=ScheduleSource.MANUAL, created_by="alice")


def test_merge_adjacent_joins_only_touching_equal_entries():
    entries = [entry(8, 9), entry(9, 10), entry(10, 11), entry(11, 12, rate_kw=50), entry(13, 14), entry(14, 15, mode=1)]
    assert merge_adjacent(entries) == (entry(8, 11), entry(11, 12, rate_kw=50), entry(13, 14), entry(14, 15, mode=1))
    assert merge_adjacent([]) == ()


def test_compare_by_time():
    active = [entry(8, 9), entry(10, 11), entry(12, 13)]
    proposed = [entry(8, 9), entry(10, 12, rate_kw=80), entry(14, 15)]
    diff = compare(active, proposed)
    assert diff.unchanged == (entry(8, 9),)
    [change] = diff.changed
    assert (change.before, change.after, change.fields) == (entry(10, 11), entry(10, 12, rate_kw=80), ("end", "rate_kw"))
    assert diff.added == (entry(14, 15),) and diff.removed == (entry(12, 13),)
    assert not diff.is_empty and compare(active, list(reversed(active))).is_empty
