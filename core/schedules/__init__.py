"""The schedule domain, pure: model and lifecycle, validation, SoC trajectory, editing helpers, JSON/CSV import
and export. No database and no protocol: storage and drivers/mqtt map these values onto their own forms."""

from core.schedules.errors import (
    ApprovalRequired,
    IllegalScheduleTransition,
    ImportProblem,
    InvalidDeviceLimits,
    InvalidSchedule,
    InvalidScheduleEntry,
    ScheduleError,
    ScheduleImportError,
)
from core.schedules.model import (
    DeviceLimits,
    Mode,
    Schedule,
    ScheduleAction,
    ScheduleEntry,
    ScheduleSource,
    ScheduleState,
    ScheduleTarget,
    TargetKind,
    allowed_actions,
    transition,
)
from core.schedules.trajectory import SocViolation, Trajectory, TrajectoryStep, UnsimulatableSchedule, simulate
from core.schedules.validation import (
    DEFAULT_HORIZON,
    Issue,
    Rule,
    ValidationReport,
    failing_devices,
    structural_errors,
    validate,
    validate_group,
)

__all__ = [
    "DEFAULT_HORIZON", "ApprovalRequired", "DeviceLimits", "IllegalScheduleTransition", "ImportProblem",
    "InvalidDeviceLimits", "InvalidSchedule", "InvalidScheduleEntry", "Issue", "Mode", "Rule", "Schedule",
    "ScheduleAction", "ScheduleEntry", "ScheduleError", "ScheduleImportError", "ScheduleSource", "ScheduleState",
    "ScheduleTarget", "SocViolation", "TargetKind", "Trajectory", "TrajectoryStep", "UnsimulatableSchedule",
    "ValidationReport", "allowed_actions", "failing_devices", "simulate", "structural_errors", "transition",
    "validate", "validate_group",
]
