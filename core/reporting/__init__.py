"""Scheduled reports: what to make, how often, where to put it and whom to mail (no rendering here: that is
reports/, which depends on core, not the other way round)."""

from core.reporting.schedule import Cadence, ReportSchedule, ReportScheduleError
from core.reporting.store import ReportScheduleStore

__all__ = ["Cadence", "ReportSchedule", "ReportScheduleError", "ReportScheduleStore"]
