"""Typed errors of the schedule domain: each says what was refused and why, in operator terms."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class ScheduleError(Exception):
    """Base of every error raised by core.schedules."""


class InvalidDeviceLimits(ScheduleError, ValueError):
    """Device limits that make validation meaningless (capacity <= 0, soc_min >= soc_max, ...)."""

    def __init__(self, device_id: str, field: str, reason: str) -> None:
        self.device_id = device_id
        self.field = field
        self.reason = reason
        super().__init__(f"limits of {device_id}: {field}: {reason}")


class InvalidScheduleEntry(ScheduleError, TypeError):
    """An entry built from values of the wrong type (not a datetime, not a number).

    Wrong *values* (naive times, unknown mode, rate over the limit) are not raised here: validation
    reports them all at once so the editor can show every problem together.
    """


class InvalidSchedule(ScheduleError, ValueError):
    """A schedule record whose own fields are wrong (empty target id, version < 1)."""


class IllegalScheduleTransition(ScheduleError):
    """A lifecycle action that the schedule's current state does not allow."""

    def __init__(self, state: object, action: object, allowed: Iterable[object]) -> None:
        self.state = state
        self.action = action
        self.allowed = tuple(allowed)
        names = ", ".join(str(a) for a in self.allowed) or "none (the state is final)"
        super().__init__(f"cannot {action} a schedule that is {state}; allowed: {names}")


class ApprovalRequired(ScheduleError):
    """Approving a schedule needs the name of the approver."""


@dataclass(frozen=True)
class ImportProblem:
    """One reason an import was refused. `location` is 'line 4' (CSV) or 'entry 4' (JSON)."""

    location: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ScheduleImportError(ScheduleError, ValueError):
    """A schedule file was refused. `problems` lists every bad line, not only the first."""

    def __init__(self, source: str, problems: Iterable[ImportProblem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s), nothing imported:\n{lines}")
