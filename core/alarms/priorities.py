"""Alarm priorities: three levels, as the brief's filters ask (critical / warning / info)."""

from __future__ import annotations

from enum import Enum


class Priority(str, Enum):
    """How urgently an operator must respond. The string value is what storage and exports carry."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Sort key: 0 is the most urgent, so alarm lists sort ascending by rank."""
        return _RANK[self]


_RANK = {Priority.CRITICAL: 0, Priority.WARNING: 1, Priority.INFO: 2}
