"""Schedule validation: every rule of the brief plus SoC-bound warnings, reported all at once in operator terms.

Errors block approval; warnings do not (an operator may knowingly run a battery to its SoC bound, the
BMS will stop it there). Messages name the entry as the operator sees it (1-based, with its times) and
the rule, e.g. "entry 3 (2026-11-23 14:00-15:00 UTC): rate 250 kW exceeds the charge limit 200 kW of bess-0007".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.clock import ensure_utc
from core.schedules.model import DeviceLimits, Mode, ScheduleEntry
from core.schedules.text import describe_entry, format_kw, format_offset, format_pct, format_utc
from core.schedules.trajectory import Trajectory, simulate

DEFAULT_HORIZON = timedelta(days=7)
# The MQTT contract's cap (drivers/mqtt/payloads.py MAX_SCHEDULE_ENTRIES); core may not import it, so the
# number is repeated here and the driver's tests keep the two equal.
MAX_ENTRIES = 2048


class Rule:
    """Short rule names, stable so that tests, logs and the manual can refer to them."""

    AWARE_UTC = "aware_utc"
    START_BEFORE_END = "start_before_end"
    SORTED = "sorted_by_start"
    NO_OVERLAP = "no_overlap"
    KNOWN_MODE = "known_mode"
    RATE_POSITIVE = "rate_positive"
    RATE_LIMIT = "rate_within_limit"
    NOT_IN_PAST = "not_in_past"
    ALREADY_RUNNING = "already_running"
    HORIZON = "within_horizon"
    MAX_ENTRIES = "max_entries"
    SOC_MAX = "soc_max"
    SOC_MIN = "soc_min"


@dataclass(frozen=True)
class Issue:
    """One broken rule. entry_index is 1-based (None for the schedule as a whole); related_index names the
    other entry of a pair (the one overlapped, or the one that should come later)."""

    entry_index: int | None
    rule: str
    message: str
    related_index: int | None = None

    def __str__(self) -> str:
        return f"{self.message} (rule: {self.rule})"


@dataclass(frozen=True)
class ValidationReport:
    """Errors (block approval), warnings (shown, do not block) and, when the entries are error-free, the
    SoC trajectory they were checked with."""

    device_id: str | None
    errors: tuple[Issue, ...]
    warnings: tuple[Issue, ...]
    trajectory: Trajectory | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def issues_for(self, entry_index: int) -> tuple[Issue, ...]:
        """Errors then warnings that concern entry `entry_index` (as main or related entry)."""
        return tuple(i for i in (*self.errors, *self.warnings) if entry_index in (i.entry_index, i.related_index))


def structural_errors(entries: Sequence[ScheduleEntry]) -> tuple[Issue, ...]:
    """The rules that need no device and no clock: UTC times, start < end, sorted, no overlap, known mode,
    positive finite rate. Import uses these alone; validate() adds the device- and time-dependent ones."""
    issues: list[Issue] = []
    timed: list[int] = []  # indexes of entries whose times are usable for ordering rules
    for index, entry in enumerate(entries, start=1):
        times_ok = True
        for name in ("start", "end"):
            problem = _utc_problem(getattr(entry, name))
            if problem:
                times_ok = False
                issues.append(Issue(index, Rule.AWARE_UTC,
                                    f"{describe_entry(index, entry)}: {name} {getattr(entry, name).isoformat()} {problem}"))
        if times_ok:
            if entry.start >= entry.end:
                what = "equals its end (an empty interval)" if entry.start == entry.end else \
                    f"is after its end {format_utc(entry.end)}"
                issues.append(Issue(index, Rule.START_BEFORE_END,
                                    f"{describe_entry(index, entry)}: start {format_utc(entry.start)} {what}"))
            else:
                timed.append(index)
        if entry.mode not in (Mode.DISCHARGE, Mode.CHARGE):
            issues.append(Issue(index, Rule.KNOWN_MODE, f"{describe_entry(index, entry)}: mode {entry.mode!r} is "
                                                        "unknown; use 1 (discharge) or 2 (charge)"))
        if not math.isfinite(entry.rate_kw):
            issues.append(Issue(index, Rule.RATE_POSITIVE,
                                f"{describe_entry(index, entry)}: rate {entry.rate_kw} kW is not a finite number"))
        elif entry.rate_kw <= 0:
            issues.append(Issue(index, Rule.RATE_POSITIVE, f"{describe_entry(index, entry)}: rate "
                                f"{format_kw(entry.rate_kw)} kW must be greater than 0 (the mode gives the direction)"))
    issues.extend(_order_issues(entries, timed))
    return tuple(sorted(issues, key=lambda i: (i.entry_index or 0)))


def validate(entries: Sequence[ScheduleEntry], limits: DeviceLimits, now: datetime,
             horizon: timedelta = DEFAULT_HORIZON, *, max_entries: int = MAX_ENTRIES) -> ValidationReport:
    """Validate a device's entries against its limits at time `now` (aware).

    Rules: structural_errors(); rate within the device's charge or discharge limit; not in the past (an
    entry already running is allowed only if its end is still in the future, and then it is a warning
    that it applies from now on); ends within `horizon` of now; at most `max_entries` entries. When there
    are no errors, the SoC is simulated from limits.current_soc_pct at `now` and the first entry that
    would take it past soc_max_pct or soc_min_pct is a warning (the simulation of a schedule with errors
    would be meaningless, so it is skipped then).
    """
    now = ensure_utc(now, "now")
    if horizon <= timedelta(0):
        raise ValueError(f"horizon must be positive, got {horizon}")
    errors = list(structural_errors(entries))
    warnings: list[Issue] = []
    if len(entries) > max_entries:
        errors.insert(0, Issue(None, Rule.MAX_ENTRIES,
                               f"the schedule has {len(entries)} entries; a device accepts at most {max_entries}"))
    errors.extend(limit_errors(entries, limits))
    until = now + horizon
    for index, entry in enumerate(entries, start=1):
        label = describe_entry(index, entry)
        if _utc_problem(entry.start) or _utc_problem(entry.end):
            continue
        if entry.end <= now:
            errors.append(Issue(index, Rule.NOT_IN_PAST, f"{label}: ended at {format_utc(entry.end)}, "
                                f"not after now ({format_utc(now)})"))
        elif entry.start < now < entry.end:
            warnings.append(Issue(index, Rule.ALREADY_RUNNING, f"{label}: already running; it applies only from "
                                  f"now ({format_utc(now)}) until its end"))
        if entry.end > until:
            errors.append(Issue(index, Rule.HORIZON, f"{label}: ends {format_utc(entry.end)}, beyond the "
                                f"{_format_span(horizon)} horizon (until {format_utc(until)})"))
    errors.sort(key=lambda i: (i.entry_index or 0))
    trajectory = None
    if not errors:
        trajectory = simulate(entries, limits, now)
        warnings.extend(_soc_warnings(entries, limits, trajectory))
    return ValidationReport(limits.device_id, tuple(errors), tuple(warnings), trajectory)


def limit_errors(entries: Sequence[ScheduleEntry], limits: DeviceLimits) -> tuple[Issue, ...]:
    """The rule that depends on the device alone: each rate within its charge or discharge limit. Checked again
    when a version is distributed, for members that joined a group (or limits that changed) after the check."""
    issues = []
    for index, entry in enumerate(entries, start=1):
        if entry.mode in (Mode.DISCHARGE, Mode.CHARGE) and math.isfinite(entry.rate_kw) and entry.rate_kw > 0:
            limit_kw = limits.limit_kw(Mode(entry.mode))
            if entry.rate_kw > limit_kw:
                issues.append(Issue(index, Rule.RATE_LIMIT, f"{describe_entry(index, entry)}: rate "
                                    f"{format_kw(entry.rate_kw)} kW exceeds the {Mode(entry.mode)} limit "
                                    f"{format_kw(limit_kw)} kW of {limits.device_id}"))
    return tuple(issues)


def validate_group(entries: Sequence[ScheduleEntry], limits_by_device: Mapping[str, DeviceLimits], now: datetime,
                   horizon: timedelta = DEFAULT_HORIZON, *, max_entries: int = MAX_ENTRIES) -> dict[str, ValidationReport]:
    """Validate one set of entries for every member of a group: a report per device id, in the mapping's order."""
    return {device_id: validate(entries, limits, now, horizon, max_entries=max_entries)
            for device_id, limits in limits_by_device.items()}


def failing_devices(reports: Mapping[str, ValidationReport]) -> list[str]:
    """The device ids whose report has errors, in the mapping's order."""
    return [device_id for device_id, report in reports.items() if not report.ok]


def _utc_problem(value: datetime) -> str | None:
    if value.tzinfo is None or value.utcoffset() is None:
        return "has no time zone; schedule times must be UTC"
    if value.utcoffset() != timedelta(0):
        return f"is not in UTC (offset {format_offset(value)}); convert it to UTC"
    return None


def _order_issues(entries: Sequence[ScheduleEntry], timed: list[int]) -> list[Issue]:
    issues: list[Issue] = []
    previous: int | None = None
    for index in timed:
        if previous is not None and entries[index - 1].start < entries[previous - 1].start:
            issues.append(Issue(index, Rule.SORTED, f"{describe_entry(index, entries[index - 1])} starts before "
                                f"{describe_entry(previous, entries[previous - 1])}; entries must be sorted by start",
                                related_index=previous))
        previous = index
    # Sweep in start order, keeping the entry that reaches furthest: any entry starting before that end
    # overlaps it. One issue per overlapping entry keeps the report readable for long schedules.
    furthest: int | None = None
    for index in sorted(timed, key=lambda i: (entries[i - 1].start, i)):
        entry = entries[index - 1]
        if furthest is not None and entry.start < entries[furthest - 1].end:
            high, low = max(index, furthest), min(index, furthest)
            issues.append(Issue(high, Rule.NO_OVERLAP, f"{describe_entry(high, entries[high - 1])} overlaps "
                                f"{describe_entry(low, entries[low - 1])}", related_index=low))
        if furthest is None or entry.end > entries[furthest - 1].end:
            furthest = index
    return issues


def _soc_warnings(entries: Sequence[ScheduleEntry], limits: DeviceLimits, trajectory: Trajectory) -> list[Issue]:
    violation = trajectory.first_violation
    if violation is None:
        return []
    entry = entries[violation.entry_index - 1]
    word, rule = ("above the maximum", Rule.SOC_MAX) if violation.bound == "max" else ("below the minimum", Rule.SOC_MIN)
    return [Issue(violation.entry_index, rule,
                  f"{describe_entry(violation.entry_index, entry)}: SoC would reach "
                  f"{format_pct(violation.reached_soc_pct)} % at {format_utc(violation.reached_time)}, {word} "
                  f"{format_pct(violation.bound_pct)} % of {limits.device_id} (crossing it at "
                  f"{format_utc(violation.crossing_time, to_minute=True)})")]


def _format_span(span: timedelta) -> str:
    seconds = span.total_seconds()
    if seconds % 86400 == 0:
        return f"{int(seconds // 86400)}-day"
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)}-hour"
    return f"{seconds / 3600:g}-hour"
