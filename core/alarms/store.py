"""Where transitions go: a small Protocol a repository implements, and an in-memory version for tests."""

from __future__ import annotations

from typing import Protocol

from core.alarms.states import AlarmState
from core.alarms.transitions import AlarmTransition, TransitionCause


class AlarmStore(Protocol):
    """Persistence the engine needs: append the journal, and read back what was not normal at restart."""

    def append_transition(self, transition: AlarmTransition) -> None:
        """Persist one transition; called in the order the engine emits them."""
        ...

    def load_active(self) -> list[AlarmTransition]:
        """Return the latest state-changing transition of every alarm not in NORMAL."""
        ...


class InMemoryAlarmStore:
    """An AlarmStore in a list; the reference behaviour for repository implementations."""

    def __init__(self) -> None:
        self.transitions: list[AlarmTransition] = []

    def append_transition(self, transition: AlarmTransition) -> None:
        """Append one transition to the journal."""
        self.transitions.append(transition)

    def load_active(self) -> list[AlarmTransition]:
        """Latest state-changing transition per alarm, keeping those not back in NORMAL."""
        latest: dict[str, AlarmTransition] = {}
        for t in self.transitions:
            if t.cause is not TransitionCause.COMMENT:
                latest[t.alarm_id] = t
        return [t for t in latest.values() if t.to_state is not AlarmState.NORMAL]
