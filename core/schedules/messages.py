"""Runtime commands for schedules (frozen dataclasses handled by type)."""

from __future__ import annotations

from dataclasses import dataclass

from core.auth.principal import Principal


@dataclass(frozen=True, slots=True)
class DistributeSchedule:
    """Send an approved schedule version (by its row id) to its device: MQTT publish or GridRoom's executor."""

    actor: Principal
    schedule_row_id: int
