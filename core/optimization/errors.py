"""Errors the optimizer raises: bad input (a programming or data error) and infeasible plans (an
operator problem, explained in operator terms)."""

from __future__ import annotations

from datetime import datetime

from core.errors import GridRoomError


class InvalidOptimizationInput(GridRoomError, ValueError):
    """An input to the optimizer is malformed: `field` names it, `index` the step or device if any."""

    def __init__(self, message: str, field: str, index: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.index = index

    def __reduce__(self):  # keep the fields when the error crosses a process boundary
        return (type(self), (str(self), self.field, self.index))


class InfeasiblePlan(GridRoomError):
    """No plan can meet the constraints.

    `constraint` is a stable key (``"initial_soc"``, ``"terminal_soc"``, ``"grid_import_limit"``...),
    `step_index`/`at` point at the step where it bites (`at` is an aware UTC datetime), and
    `device_index` names the device inside a fleet problem. The message is for the operator.
    """

    def __init__(
        self,
        message: str,
        constraint: str,
        step_index: int | None = None,
        at: datetime | None = None,
        device_index: int | None = None,
    ) -> None:
        super().__init__(message)
        self.constraint = constraint
        self.step_index = step_index
        self.at = at
        self.device_index = device_index

    def __reduce__(self):  # keep the fields when the error crosses a process boundary
        return (type(self), (str(self), self.constraint, self.step_index, self.at, self.device_index))


class SolverFailure(GridRoomError):
    """HiGHS stopped for a reason that is neither optimal, infeasible nor out of time."""
