"""State-of-charge trajectory of a schedule: where the battery's SoC would go if the schedule ran as written.

Used by validation (SoC-bound warnings) and by the optimizer view (plots, energy totals). The model is the
simple energy balance the optimizer's LP also uses: constant one-way efficiencies, no self-discharge
between entries, rate_kw measured on the AC side. The trajectory is deliberately not clamped at the SoC
bounds: it shows what the schedule asks for, so an overrun is visible instead of silently cut off.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.clock import ensure_utc
from core.schedules.errors import ScheduleError
from core.schedules.model import DeviceLimits, Mode, ScheduleEntry

# Floating-point slack so a schedule that lands exactly on a bound is not reported as crossing it.
_SOC_EPSILON_PCT = 1e-9


class UnsimulatableSchedule(ScheduleError, ValueError):
    """The entries are not a well-formed schedule (naive times, unsorted, overlapping, unknown mode)."""


@dataclass(frozen=True)
class TrajectoryStep:
    """One entry as simulated. `start` is later than the entry's start when the entry is already running."""

    entry_index: int  # 1-based, as the operator sees it
    start: datetime
    end: datetime
    mode: Mode
    start_soc_pct: float
    end_soc_pct: float
    energy_kwh: float  # AC side, always >= 0; the mode says whether charged or discharged


@dataclass(frozen=True)
class SocViolation:
    """The first entry that drives the SoC past a bound: when it crosses, and what it would reach."""

    entry_index: int
    bound: str  # "max" or "min"
    bound_pct: float
    crossing_time: datetime
    reached_soc_pct: float
    reached_time: datetime


@dataclass(frozen=True)
class Trajectory:
    """SoC at every entry boundary and the energy moved, from `start_soc_pct` at `start_time`."""

    start_time: datetime | None
    start_soc_pct: float
    steps: tuple[TrajectoryStep, ...]
    charged_kwh: float
    discharged_kwh: float
    first_violation: SocViolation | None

    @property
    def end_soc_pct(self) -> float:
        return self.steps[-1].end_soc_pct if self.steps else self.start_soc_pct

    @property
    def points(self) -> tuple[tuple[datetime, float], ...]:
        """(time, soc_pct) at every boundary, for a step-free line plot (SoC is flat between entries)."""
        out: list[tuple[datetime, float]] = []
        for step in self.steps:
            out.append((step.start, step.start_soc_pct))
            out.append((step.end, step.end_soc_pct))
        return tuple(out)


def simulate(entries: Sequence[ScheduleEntry], limits: DeviceLimits, now: datetime | None = None) -> Trajectory:
    """Simulate the SoC from limits.current_soc_pct through `entries`.

    With `now`, the current SoC is taken to be the SoC at `now`: entries that ended before it are skipped
    and a running entry counts only from `now`. Raises UnsimulatableSchedule for malformed entries
    (validate first).
    """
    now_utc = ensure_utc(now, "now") if now is not None else None
    _check_well_formed(entries)
    soc_pct = float(limits.current_soc_pct)
    steps: list[TrajectoryStep] = []
    charged_kwh = discharged_kwh = 0.0
    violation: SocViolation | None = None
    for index, entry in enumerate(entries, start=1):
        start = max(entry.start, now_utc) if now_utc is not None else entry.start
        if entry.end <= start:
            continue  # already over: the current SoC includes it
        hours = (entry.end - start).total_seconds() / 3600.0
        energy_kwh = entry.rate_kw * hours
        if entry.mode is Mode.CHARGE:
            delta_pct = energy_kwh * limits.charge_efficiency / limits.capacity_kwh * 100.0
            charged_kwh += energy_kwh
        else:
            delta_pct = -energy_kwh / limits.discharge_efficiency / limits.capacity_kwh * 100.0
            discharged_kwh += energy_kwh
        end_soc_pct = soc_pct + delta_pct
        if violation is None:
            violation = _overrun(index, entry.mode, start, entry.end, soc_pct, end_soc_pct, limits)
        steps.append(TrajectoryStep(index, start, entry.end, Mode(entry.mode), soc_pct, end_soc_pct, energy_kwh))
        soc_pct = end_soc_pct
    return Trajectory(now_utc if now_utc is not None else (entries[0].start if entries else None),
                      float(limits.current_soc_pct), tuple(steps), charged_kwh, discharged_kwh, violation)


def _overrun(index: int, mode: Mode, start: datetime, end: datetime, soc_start: float, soc_end: float,
             limits: DeviceLimits) -> SocViolation | None:
    # Only an entry that pushes the SoC further out counts: charging a battery that sits below its
    # minimum is the cure, not the fault.
    if mode is Mode.CHARGE and soc_end > limits.soc_max_pct + _SOC_EPSILON_PCT:
        bound, bound_pct = "max", limits.soc_max_pct
    elif mode is Mode.DISCHARGE and soc_end < limits.soc_min_pct - _SOC_EPSILON_PCT:
        bound, bound_pct = "min", limits.soc_min_pct
    else:
        return None
    # The SoC moves linearly within an entry, so the crossing time is an interpolation.
    fraction = (bound_pct - soc_start) / (soc_end - soc_start)
    fraction = min(max(fraction, 0.0), 1.0)
    crossing = start + (end - start) * fraction
    return SocViolation(index, bound, bound_pct, crossing, soc_end, end)


def _check_well_formed(entries: Sequence[ScheduleEntry]) -> None:
    previous_end: datetime | None = None
    for index, entry in enumerate(entries, start=1):
        for name in ("start", "end"):
            value = getattr(entry, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise UnsimulatableSchedule(f"entry {index}: {name} is naive; validate the entries first")
        if not math.isfinite(entry.rate_kw) or entry.rate_kw < 0:
            raise UnsimulatableSchedule(f"entry {index}: rate {entry.rate_kw!r} kW; validate the entries first")
        if entry.mode not in (Mode.CHARGE, Mode.DISCHARGE):
            raise UnsimulatableSchedule(f"entry {index}: unknown mode {entry.mode!r}; validate the entries first")
        if not entry.start < entry.end or (previous_end is not None and entry.start < previous_end):
            raise UnsimulatableSchedule(f"entry {index}: entries must be sorted, not overlapping, with start < end; "
                                        "validate the entries first")
        previous_end = entry.end
