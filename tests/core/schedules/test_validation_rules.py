"""Every validation rule, with the message the operator reads."""

from datetime import datetime, timedelta, timezone

import pytest

from core.schedules.model import ScheduleEntry
from core.schedules.validation import Rule, failing_devices, structural_errors, validate, validate_group
from tests.core.schedules.factories import NOW, at, entry, limits

PLUS_ONE = timezone(timedelta(hours=1))


def only(issues, rule):
    found = [i for i in issues if i.rule == rule]
    assert found, f"no {rule} among {[str(i) for i in issues]}"
    return found


def test_a_good_schedule_passes_with_a_trajectory():
    report = validate([entry(14, 15), entry(15, 16, mode=1, rate_kw=250)], limits(), NOW)
    assert report.ok and report.errors == () and report.warnings == ()
    assert report.device_id == "bess-0007" and report.trajectory is not None
    assert validate([], limits(), NOW).ok  # an empty list is how a schedule is cleared


def test_rate_over_the_charge_limit_reads_like_the_brief():
    report = validate([entry(12, 13), entry(13, 14), entry(14, 15, rate_kw=250)], limits(), NOW)
    [issue] = report.errors
    assert (issue.entry_index, issue.rule) == (3, Rule.RATE_LIMIT)
    assert issue.message == "entry 3 (2026-11-23 14:00-15:00 UTC): rate 250 kW exceeds the charge limit 200 kW of bess-0007"
    assert str(issue).endswith("(rule: rate_within_limit)")
    assert report.trajectory is None  # no SoC simulation of a schedule with errors


def test_rate_over_the_discharge_limit():
    [issue] = validate([entry(14, 15, mode=1, rate_kw=250.5)], limits(), NOW).errors
    assert "rate 250.5 kW exceeds the discharge limit 250 kW of bess-0007" in issue.message


@pytest.mark.parametrize(("rate", "words"), [(0.0, "rate 0 kW must be greater than 0"),
                                             (-20.0, "rate -20 kW must be greater than 0"),
                                             (float("nan"), "rate nan kW is not a finite number"),
                                             (float("inf"), "rate inf kW is not a finite number")])
def test_rate_must_be_positive_and_finite(rate, words):
    [issue] = only(validate([entry(14, 15, rate_kw=rate)], limits(), NOW).errors, Rule.RATE_POSITIVE)
    assert issue.message.startswith("entry 1 (2026-11-23 14:00-15:00 UTC): ") and words in issue.message


def test_unknown_mode():
    [issue] = validate([entry(14, 15, mode=3)], limits(), NOW).errors
    assert issue.rule == Rule.KNOWN_MODE
    assert issue.message == "entry 1 (2026-11-23 14:00-15:00 UTC): mode 3 is unknown; use 1 (discharge) or 2 (charge)"


def test_start_must_be_before_end():
    report = validate([entry(14, 14), entry(16, 15)], limits(), NOW)
    first, second = only(report.errors, Rule.START_BEFORE_END)
    assert first.message == "entry 1 (2026-11-23 14:00-14:00 UTC): start 2026-11-23 14:00 UTC equals its end (an empty interval)"
    assert second.message.endswith("start 2026-11-23 16:00 UTC is after its end 2026-11-23 15:00 UTC")


def test_entries_must_be_sorted_by_start():
    [issue] = validate([entry(15, 16), entry(13, 14)], limits(), NOW).errors
    assert (issue.rule, issue.entry_index, issue.related_index) == (Rule.SORTED, 2, 1)
    assert issue.message == ("entry 2 (2026-11-23 13:00-14:00 UTC) starts before entry 1 (2026-11-23 15:00-16:00 UTC); "
                             "entries must be sorted by start")


def test_overlap_names_both_entries():
    report = validate([entry(13, 15), entry(14, 16, mode=1)], limits(), NOW)
    [issue] = report.errors
    assert (issue.rule, issue.entry_index, issue.related_index) == (Rule.NO_OVERLAP, 2, 1)
    assert issue.message == "entry 2 (2026-11-23 14:00-16:00 UTC) overlaps entry 1 (2026-11-23 13:00-15:00 UTC)"
    assert report.issues_for(1) == (issue,)


def test_overlap_with_an_earlier_long_entry_is_found_past_a_neighbour():
    # entry 1 spans entries 2 and 3; a check of neighbours only would miss 1 vs 3.
    issues = only(structural_errors([entry(13, 20), entry(14, 15), entry(16, 17)]), Rule.NO_OVERLAP)
    assert [(i.entry_index, i.related_index) for i in issues] == [(2, 1), (3, 1)]


def test_touching_entries_do_not_overlap():
    assert validate([entry(13, 14), entry(14, 15)], limits(), NOW).ok


def test_entries_in_the_past_are_errors():
    [issue] = validate([entry(10, 12)], limits(), NOW).errors  # ends exactly at now
    assert issue.rule == Rule.NOT_IN_PAST
    assert issue.message == ("entry 1 (2026-11-23 10:00-12:00 UTC): ended at 2026-11-23 12:00 UTC, "
                             "not after now (2026-11-23 12:00 UTC)")


def test_a_running_entry_is_allowed_with_a_warning():
    report = validate([entry(11, 13)], limits(), NOW)
    assert report.ok
    [warning] = report.warnings
    assert warning.rule == Rule.ALREADY_RUNNING
    assert "already running; it applies only from now (2026-11-23 12:00 UTC) until its end" in warning.message
    assert report.trajectory.steps[0].start == NOW  # only the remaining hour is simulated


def test_horizon_is_configurable():
    far = entry(12, 13, day=30)  # ends 2026-11-30 13:00, beyond 7 days from 2026-11-23 12:00
    [issue] = validate([far], limits(), NOW).errors
    assert issue.rule == Rule.HORIZON
    assert issue.message == ("entry 1 (2026-11-30 12:00-13:00 UTC): ends 2026-11-30 13:00 UTC, beyond the 7-day "
                             "horizon (until 2026-11-30 12:00 UTC)")
    assert validate([far], limits(), NOW, horizon=timedelta(days=8)).ok
    [short] = validate([entry(14, 15)], limits(), NOW, horizon=timedelta(hours=2)).errors
    assert "beyond the 2-hour horizon" in short.message
    with pytest.raises(ValueError):
        validate([], limits(), NOW, horizon=timedelta(0))


def test_naive_and_non_utc_times_are_errors_naming_the_field():
    naive = ScheduleEntry(datetime(2026, 11, 23, 14), at(15), 2, 100.0)
    offset = ScheduleEntry(at(14), datetime(2026, 11, 23, 16, tzinfo=PLUS_ONE), 2, 100.0)
    first, second = validate([naive, offset], limits(), NOW).errors
    assert first.rule == second.rule == Rule.AWARE_UTC
    assert "start 2026-11-23T14:00:00 has no time zone; schedule times must be UTC" in first.message
    assert first.message.startswith("entry 1 (2026-11-23T14:00:00 - 2026-11-23T15:00:00+00:00)")
    assert "end 2026-11-23T16:00:00+01:00 is not in UTC (offset +01:00); convert it to UTC" in second.message


def test_too_many_entries_for_a_device():
    entries = [entry(13 + i * 0.01, 13 + (i + 1) * 0.01) for i in range(5)]
    [issue] = validate(entries, limits(), NOW, max_entries=4).errors
    assert issue.entry_index is None and issue.rule == Rule.MAX_ENTRIES
    assert issue.message == "the schedule has 5 entries; a device accepts at most 4"


def test_naive_now_is_a_programming_error():
    with pytest.raises(ValueError):
        validate([], limits(), datetime(2026, 11, 23, 12))


def test_soc_overrun_is_a_warning_naming_entry_time_and_soc():
    # 1000 kWh at 50 %: +200 kWh (20 %) per charging hour, so entry 2 takes it from 70 % to 90 %... and 3 to 110 %.
    report = validate([entry(13, 14, rate_kw=200), entry(14, 15, rate_kw=200), entry(15, 16, rate_kw=200)],
                      limits(), NOW)
    assert report.ok
    [warning] = report.warnings
    assert (warning.rule, warning.entry_index) == (Rule.SOC_MAX, 3)
    assert warning.message == ("entry 3 (2026-11-23 15:00-16:00 UTC): SoC would reach 110 % at 2026-11-23 16:00 UTC, "
                               "above the maximum 90 % of bess-0007 (crossing it at 2026-11-23 15:00 UTC)")


def test_soc_underrun_is_a_warning_and_only_the_first_is_reported():
    report = validate([entry(13, 14, mode=1, rate_kw=250), entry(14, 15, mode=1, rate_kw=250)],
                      limits(current_soc_pct=30.0), NOW)
    [warning] = report.warnings
    assert (warning.rule, warning.entry_index) == (Rule.SOC_MIN, 1)
    assert "SoC would reach 5 % at 2026-11-23 14:00 UTC, below the minimum 10 % of bess-0007" in warning.message
    assert "(crossing it at 2026-11-23 13:48 UTC)" in warning.message


def test_group_validation_reports_every_member():
    small = limits(device_id="bess-0001", max_charge_kw=50.0)
    big = limits(device_id="bess-0002")
    reports = validate_group([entry(14, 15, rate_kw=100)], {"bess-0001": small, "bess-0002": big}, NOW)
    assert list(reports) == ["bess-0001", "bess-0002"]
    assert reports["bess-0002"].ok and not reports["bess-0001"].ok
    assert "exceeds the charge limit 50 kW of bess-0001" in reports["bess-0001"].errors[0].message
    assert failing_devices(reports) == ["bess-0001"]
