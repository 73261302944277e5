"""Turning timestamped, line-numbered points into a regular TimeSeries under explicit, reported rules.

Shared by every importer: sorting, duplicates, the step, off-grid times and gaps are decided here once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable
from datetime import datetime, timedelta, timezone

import numpy as np

from core.market.errors import TimeSeriesImportError, note
from core.market.series import TimeSeries

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MAX_INTERVALS = 5_000_000  # a century at 15 min; more means a typo in a year, not a longer history


@dataclass(frozen=True)
class GapPolicy:
    """What to do with missing intervals (absent rows or empty values).

    max_interpolate_steps: gaps of at most this many steps, with a value on both sides, are filled by
    linear interpolation and reported. 0 (the default) fills nothing.
    keep_long_gaps: longer gaps are kept as NaN (reported) instead of rejecting the file.
    """

    max_interpolate_steps: int = 0
    keep_long_gaps: bool = False

    def rule_text(self) -> str:
        return f"fill gaps <= {self.max_interpolate_steps} steps"


@dataclass(frozen=True)
class Point:
    line: int
    start: datetime  # aware UTC
    value: float  # NaN = missing


def _iso(seconds: int) -> str:
    return (_EPOCH + timedelta(seconds=int(seconds))).strftime("%Y-%m-%dT%H:%MZ")


def infer_step(seconds: np.ndarray, source: str) -> timedelta:
    """The most common positive distance between consecutive distinct starts."""
    distinct = np.unique(seconds)
    if distinct.size < 2:
        raise TimeSeriesImportError(source, None, "step", "one timestamp only: cannot tell the step; pass step=")
    diffs, counts = np.unique(np.diff(distinct), return_counts=True)
    return timedelta(seconds=int(diffs[np.argmax(counts)]))


def assemble(
    points: list[Point], *, name: str, unit: str, source: str, step: timedelta | None, gaps: GapPolicy,
    notes: list[str], before_gaps: Callable[[np.ndarray, np.ndarray, np.ndarray, list[str]], np.ndarray] | None = None,
) -> TimeSeries:
    """Sort, drop identical duplicates, reject conflicting ones, check the grid, handle gaps; return the series.

    `before_gaps(start_seconds, values, lines, notes)` may replace missing values by a reported rule of its
    own (e.g. PV at night) before the gap policy sees them; lines are 0 where a row is absent.
    """
    if not points:
        raise TimeSeriesImportError(source, None, "non-empty file", "no data rows with a timestamp")
    order = sorted(range(len(points)), key=lambda i: (points[i].start, points[i].line))
    if order != list(range(len(points))):
        notes.append(note(None, "rows were not in time order; sorted by time", "sort by time"))
    seconds = np.array([int((points[i].start - _EPOCH).total_seconds()) for i in order], dtype=np.int64)
    values = np.array([points[i].value for i in order], dtype=np.float64)
    lines = np.array([points[i].line for i in order], dtype=np.int64)

    keep = np.ones(seconds.size, dtype=bool)
    for i in np.nonzero(np.diff(seconds) == 0)[0] + 1:
        first = i - 1
        while not keep[first]:
            first -= 1
        a, b = values[first], values[i]
        if a == b or (math.isnan(a) and math.isnan(b)):
            keep[i] = False
            notes.append(note(int(lines[i]), f"duplicate of line {lines[first]} ({_iso(seconds[i])}) dropped",
                              "identical duplicates dropped"))
        elif math.isnan(a) or math.isnan(b):
            # An empty row next to a filled one for the same interval: the filled one is the information.
            empty_line, kept_line = (int(lines[first]), int(lines[i])) if math.isnan(a) else (int(lines[i]), int(lines[first]))
            if math.isnan(a):
                values[first], lines[first] = b, lines[i]
            keep[i] = False
            notes.append(note(empty_line, f"empty duplicate of line {kept_line} dropped", "empty duplicates dropped"))
        else:
            raise TimeSeriesImportError(
                source, int(lines[i]), "no conflicting duplicates",
                f"{_iso(seconds[i])} appears on line {lines[first]} with {a:g} and on line {lines[i]} with {b:g}",
            )
    seconds, values, lines = seconds[keep], values[keep], lines[keep]

    step = step or infer_step(seconds, source)
    step_s = int(step.total_seconds())
    off_grid = (seconds - seconds[0]) % step_s != 0
    if off_grid.any():
        i = int(np.argmax(off_grid))
        raise TimeSeriesImportError(source, int(lines[i]), "regular step",
                                    f"{_iso(seconds[i])} is not on the {step} grid starting {_iso(seconds[0])}")

    index = (seconds - seconds[0]) // step_s
    if index[-1] >= MAX_INTERVALS:
        raise TimeSeriesImportError(source, int(lines[-1]), "series length",
                                    f"{_iso(seconds[0])}..{_iso(seconds[-1])} at {step} is more than {MAX_INTERVALS} intervals")
    full = np.full(int(index[-1]) + 1, np.nan)
    full[index] = values
    full_lines = np.zeros(full.size, dtype=np.int64)
    full_lines[index] = lines
    grid_seconds = seconds[0] + np.arange(full.size, dtype=np.int64) * step_s
    if before_gaps is not None:
        full = before_gaps(grid_seconds, full, full_lines, notes)
    full = _handle_gaps(full, full_lines, seconds[0], step, gaps, source, notes)
    starts = grid_seconds.astype("datetime64[s]")
    return TimeSeries(name, unit, step, starts, full, tuple(notes))


def _handle_gaps(values: np.ndarray, lines: np.ndarray, first_s: int, step: timedelta, gaps: GapPolicy,
                 source: str, notes: list[str]) -> np.ndarray:
    missing = np.isnan(values)
    if not missing.any():
        return values
    step_s = int(step.total_seconds())
    values = values.copy()
    edges = np.diff(np.concatenate(([0], missing.astype(np.int8), [0])))
    for run_start, run_end in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]):
        length = int(run_end - run_start)
        # The line to blame: the row of the missing value itself, else the row after the gap.
        line = int(lines[run_start]) or (int(lines[run_end]) if run_end < values.size else None)
        when = _iso(first_s + int(run_start) * step_s)
        bounded = run_start > 0 and run_end < values.size
        if bounded and length <= gaps.max_interpolate_steps:
            left, right = values[run_start - 1], values[run_end]
            fractions = np.arange(1, length + 1) / (length + 1)
            values[run_start:run_end] = left + (right - left) * fractions
            notes.append(note(line, f"gap {when} ({length} step(s)) filled by linear interpolation",
                              gaps.rule_text()))
        elif gaps.keep_long_gaps:
            notes.append(note(line, f"gap {when} ({length} step(s)) kept as missing (NaN)", "keep long gaps"))
        else:
            raise TimeSeriesImportError(
                source, line, gaps.rule_text() if gaps.max_interpolate_steps else "no gaps",
                f"gap of {length} step(s) of {step} starting {when}",
            )
    return values
