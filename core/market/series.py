"""TimeSeries: a regular, gap-free-in-time series of interval values (prices, power, energy) in UTC."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Sequence

import numpy as np

from core.market.errors import note
from core.market.units import convert, parse_unit

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class ResampleRule(enum.Enum):
    """How values move to another step. The rule must fit the unit: see TimeSeries.resample."""

    REPEAT = "repeat"  # finer step, intensive quantity (price, power): each value holds for its whole interval
    SPLIT = "split"  # finer step, extensive quantity (energy): the amount is shared equally
    MEAN = "mean"  # coarser step, intensive quantity: time-weighted average of equal intervals
    SUM = "sum"  # coarser step, extensive quantity: amounts add up


def to_datetime64_utc(values: Sequence[datetime]) -> np.ndarray:
    """Aware datetimes -> numpy datetime64[s] holding UTC; naive datetimes are refused."""
    seconds = []
    for value in values:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: time-series starts must be timezone-aware")
        seconds.append(int((value - _EPOCH).total_seconds()))
    return np.array(seconds, dtype="datetime64[s]")


def datetime64_to_utc(value: np.datetime64) -> datetime:
    """numpy datetime64 (UTC by convention) -> aware UTC datetime."""
    return _EPOCH + timedelta(seconds=int(value.astype("datetime64[s]").astype(np.int64)))


@dataclass(frozen=True, eq=False)
class TimeSeries:
    """Values for consecutive intervals of equal length `step`, starting at `start_utc`.

    start_utc is numpy datetime64[s] holding UTC instants, contiguous (each start = previous + step).
    A NaN value means "missing" and only appears when an importer's reported rule kept a gap open.
    Arrays are copied and made read-only, so a TimeSeries can be shared between threads.
    """

    name: str
    unit: str
    step: timedelta
    start_utc: np.ndarray
    values: np.ndarray
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        unit = parse_unit(self.unit)  # raises UnknownUnitError naming the unit
        object.__setattr__(self, "unit", unit.symbol)
        if self.step <= timedelta(0) or self.step.total_seconds() % 1:
            raise ValueError(f"step must be a positive whole number of seconds, got {self.step}")
        starts = np.array(self.start_utc, dtype="datetime64[s]").reshape(-1)
        values = np.array(self.values, dtype=np.float64).reshape(-1)
        if starts.shape != values.shape:
            raise ValueError(f"{starts.size} start times but {values.size} values")
        if starts.size > 1:
            diffs = np.diff(starts.astype(np.int64))
            if np.any(diffs != int(self.step.total_seconds())):
                bad = int(np.argmax(diffs != int(self.step.total_seconds())))
                raise ValueError(f"starts are not contiguous at index {bad + 1}: {starts[bad]} -> {starts[bad + 1]}")
        starts.flags.writeable = False
        values.flags.writeable = False
        object.__setattr__(self, "start_utc", starts)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "notes", tuple(self.notes))

    @classmethod
    def from_datetimes(
        cls, name: str, unit: str, step: timedelta, starts: Sequence[datetime], values: Sequence[float],
        notes: Sequence[str] = (),
    ) -> "TimeSeries":
        """Build from aware datetimes (any zone; stored as UTC)."""
        return cls(name, unit, step, to_datetime64_utc(starts), np.asarray(values, dtype=np.float64), tuple(notes))

    def __len__(self) -> int:
        return int(self.values.size)

    @property
    def step_seconds(self) -> int:
        return int(self.step.total_seconds())

    def start_datetimes(self) -> tuple[datetime, ...]:
        """Interval starts as aware UTC datetimes."""
        return tuple(datetime64_to_utc(s) for s in self.start_utc)

    @property
    def first_start(self) -> datetime:
        if not len(self):
            raise ValueError(f"series {self.name!r} is empty")
        return datetime64_to_utc(self.start_utc[0])

    @property
    def end(self) -> datetime:
        """End of the last interval (exclusive)."""
        if not len(self):
            raise ValueError(f"series {self.name!r} is empty")
        return datetime64_to_utc(self.start_utc[-1]) + self.step

    def value_at(self, when: datetime) -> float:
        """Value of the interval containing `when`; KeyError outside the series."""
        seconds = int((when - _EPOCH).total_seconds())
        offset = seconds - int(self.start_utc[0].astype(np.int64)) if len(self) else -1
        index = offset // self.step_seconds
        if offset < 0 or index >= len(self):
            raise KeyError(f"{when.isoformat()} is outside series {self.name!r}")
        return float(self.values[index])

    def slice(self, start: datetime, end: datetime) -> "TimeSeries":
        """Intervals whose start lies in [start, end); both bounds aware."""
        lo = to_datetime64_utc([start])[0]
        hi = to_datetime64_utc([end])[0]
        mask = (self.start_utc >= lo) & (self.start_utc < hi)
        return TimeSeries(self.name, self.unit, self.step, self.start_utc[mask], self.values[mask], self.notes)

    def to_unit(self, unit: str) -> "TimeSeries":
        """Same series in another unit of the same quantity (EUR/kWh -> EUR/MWh, W -> kW...)."""
        target = parse_unit(unit).symbol
        if target == self.unit:
            return self
        values = convert(self.values, self.unit, target)
        return TimeSeries(self.name, target, self.step, self.start_utc, values, self.notes)

    def with_notes(self, *extra: str) -> "TimeSeries":
        return TimeSeries(self.name, self.unit, self.step, self.start_utc, self.values, self.notes + extra)

    def resample(self, step: timedelta, rule: ResampleRule) -> "TimeSeries":
        """Move to another step with an explicit rule, recorded in the notes.

        Finer step: REPEAT (price, power) or SPLIT (energy). Coarser step: MEAN (price, power) or SUM (energy).
        A coarser bucket that the series covers only partly is dropped (noted), never averaged from a part.
        A bucket holding a missing (NaN) value is NaN.
        """
        new_seconds = int(step.total_seconds())
        old_seconds = self.step_seconds
        extensive = parse_unit(self.unit).extensive
        if new_seconds == old_seconds:
            return self
        if new_seconds <= 0:
            raise ValueError(f"step must be positive, got {step}")
        if new_seconds < old_seconds:
            if old_seconds % new_seconds:
                raise ValueError(f"{self.step} is not a whole multiple of {step}")
            allowed = ResampleRule.SPLIT if extensive else ResampleRule.REPEAT
            self._check_rule(rule, allowed)
            factor = old_seconds // new_seconds
            values = np.repeat(self.values, factor)
            if rule is ResampleRule.SPLIT:
                values = values / factor
            starts = (self.start_utc[:, None] + np.arange(factor) * np.timedelta64(new_seconds, "s")).reshape(-1)
            text = f"resampled {self.step} -> {step} by {rule.value}"
            return TimeSeries(self.name, self.unit, step, starts, values, self.notes + (note(None, text, rule.value),))
        if new_seconds % old_seconds:
            raise ValueError(f"{step} is not a whole multiple of {self.step}")
        allowed = ResampleRule.SUM if extensive else ResampleRule.MEAN
        self._check_rule(rule, allowed)
        factor = new_seconds // old_seconds
        start_seconds = self.start_utc.astype(np.int64)
        # Buckets are aligned on multiples of the new step since the epoch (so 00:00, 00:15, ... in UTC).
        first_full = int(np.argmax(start_seconds % new_seconds == 0)) if len(self) else 0
        if len(self) and start_seconds[first_full] % new_seconds:
            first_full = len(self)
        usable = (len(self) - first_full) // factor * factor
        dropped = len(self) - usable
        body = self.values[first_full:first_full + usable].reshape(-1, factor)
        values = body.sum(axis=1) if rule is ResampleRule.SUM else body.mean(axis=1)
        starts = self.start_utc[first_full:first_full + usable:factor]
        notes = [note(None, f"resampled {self.step} -> {step} by {rule.value}", rule.value)]
        if dropped:
            notes.append(note(None, f"{dropped} value(s) in partly covered {step} buckets dropped",
                              "no partial buckets"))
        return TimeSeries(self.name, self.unit, step, starts, values, self.notes + tuple(notes))

    def _check_rule(self, rule: ResampleRule, allowed: ResampleRule) -> None:
        if rule is not allowed:
            raise ValueError(f"rule {rule.value!r} does not fit {self.unit} for this direction; use {allowed.value!r}")
