"""EEMUA 191 alarm-load figures from a journal of transitions over a period.

Definitions used (EEMUA 191 3rd ed. and ISA-18.2 clause 16):
- an annunciated alarm is a transition to ACTIVE_UNACKED caused by the condition becoming active
  (returns from shelving or maintenance are re-annunciations, not new alarms);
- alarm rate: new alarms per operator per 10-minute window, windows aligned to the period start;
  EEMUA calls an average <= 1 "very likely acceptable" and <= 2 "manageable";
- flood: a 10-minute window with more than 10 new alarms in total (EEMUA counts per operator
  position; pass the journal of one position to get that figure);
- standing alarm: active (UNACK or ACKED) at period end and activated at least `standing_after` earlier;
- chattering alarm: 3 or more activations within 1 minute (ISA-18.2 TR5);
- bad actors: the alarms (and rules) with the most activations in the period.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.alarms.errors import AlarmError
from core.alarms.states import AlarmState
from core.alarms.transitions import AlarmTransition, TransitionCause
from core.clock import ensure_utc

WINDOW = timedelta(minutes=10)


class AlarmLoadError(AlarmError, ValueError):
    """Arguments that make the figures meaningless (empty period, no operators)."""


@dataclass(frozen=True)
class AlarmLoadReport:
    """The EEMUA 191 figures for one period."""

    period_start: datetime
    period_end: datetime
    operators: int
    new_alarms: int
    windows: int
    average_per_operator_per_10min: float
    peak_per_operator_per_10min: float
    flood_windows: tuple[tuple[datetime, int], ...]
    percent_windows_in_flood: float
    standing_alarms: tuple[str, ...]
    chattering_alarms: tuple[str, ...]
    top_alarms: tuple[tuple[str, int], ...]
    top_rules: tuple[tuple[str, int], ...]


def _is_new_alarm(t: AlarmTransition) -> bool:
    return t.cause is TransitionCause.CONDITION_ACTIVE and t.to_state is AlarmState.ACTIVE_UNACKED


def compute_alarm_load(
    transitions: Iterable[AlarmTransition],
    period_start: datetime,
    period_end: datetime,
    operators: int,
    *,
    flood_threshold: int = 10,
    standing_after: timedelta = timedelta(hours=24),
    chatter_activations: int = 3,
    chatter_window: timedelta = timedelta(minutes=1),
    top_n: int = 10,
) -> AlarmLoadReport:
    """Compute the figures for [period_start, period_end) from `transitions` (any order).

    Pass transitions from before the period too: standing alarms need to know when they activated.
    """
    start = ensure_utc(period_start, "period_start")
    end = ensure_utc(period_end, "period_end")
    if end <= start:
        raise AlarmLoadError("period_end must be after period_start")
    if not isinstance(operators, int) or operators < 1:
        raise AlarmLoadError(f"operators must be a positive int, got {operators!r}")
    journal = sorted((t for t in transitions if t.cause is not TransitionCause.COMMENT and t.at < end),
                     key=lambda t: t.at)

    windows = math.ceil((end - start) / WINDOW)
    per_window = [0] * windows
    activations: dict[str, list[datetime]] = {}
    per_rule: Counter[str] = Counter()
    last_state: dict[str, AlarmState] = {}
    activated_at: dict[str, datetime] = {}
    for t in journal:
        last_state[t.alarm_id] = t.to_state
        if _is_new_alarm(t):
            activated_at[t.alarm_id] = t.at
            if t.at >= start:
                per_window[int((t.at - start) / WINDOW)] += 1
                activations.setdefault(t.alarm_id, []).append(t.at)
                per_rule[t.rule_id] += 1

    new_alarms = sum(per_window)
    floods = tuple((start + i * WINDOW, n) for i, n in enumerate(per_window) if n > flood_threshold)
    standing = tuple(sorted(
        alarm_id for alarm_id, state in last_state.items()
        if state in (AlarmState.ACTIVE_UNACKED, AlarmState.ACTIVE_ACKED)
        and alarm_id in activated_at and end - activated_at[alarm_id] >= standing_after
    ))
    chattering = tuple(sorted(
        alarm_id for alarm_id, times in activations.items()
        if _has_burst(times, chatter_activations, chatter_window)
    ))
    per_alarm = Counter({a: len(times) for a, times in activations.items()})
    return AlarmLoadReport(
        period_start=start,
        period_end=end,
        operators=operators,
        new_alarms=new_alarms,
        windows=windows,
        average_per_operator_per_10min=new_alarms / windows / operators,
        peak_per_operator_per_10min=max(per_window, default=0) / operators,
        flood_windows=floods,
        percent_windows_in_flood=100.0 * len(floods) / windows,
        standing_alarms=standing,
        chattering_alarms=chattering,
        top_alarms=_top(per_alarm, top_n),
        top_rules=_top(per_rule, top_n),
    )


def _has_burst(times: list[datetime], count: int, window: timedelta) -> bool:
    """Whether `count` of the sorted `times` fall within `window` (inclusive)."""
    for i in range(len(times) - count + 1):
        if times[i + count - 1] - times[i] <= window:
            return True
    return False


def _top(counter: Counter[str], n: int) -> tuple[tuple[str, int], ...]:
    # Ties broken by id so the report is deterministic.
    return tuple(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n])
