"""Chattering detection: an alarm that activates again and again within a short window.

ISA-18.2 TR5 / EEMUA 191 call an alarm chattering when it activates 3 or more times in one minute;
those are the defaults. A chattering alarm is flagged (and counted for the EEMUA figures); if the policy
says so, the engine also shelves it for a while with a note saying why.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from core.alarms.errors import AlarmError


class ChatterPolicyError(AlarmError, ValueError):
    """A chatter policy with impossible numbers."""


@dataclass(frozen=True)
class ChatterPolicy:
    """Flag after `min_activations` activations within `window_s`; shelve for `suppress_for_s` if set."""

    min_activations: int = 3
    window_s: float = 60.0
    suppress_for_s: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.min_activations, int) or self.min_activations < 2:
            raise ChatterPolicyError(f"min_activations must be an int >= 2, got {self.min_activations!r}")
        if not math.isfinite(self.window_s) or self.window_s <= 0:
            raise ChatterPolicyError(f"window_s must be finite and > 0, got {self.window_s!r}")
        if self.suppress_for_s is not None and (not math.isfinite(self.suppress_for_s) or self.suppress_for_s <= 0):
            raise ChatterPolicyError(f"suppress_for_s must be finite and > 0, got {self.suppress_for_s!r}")


class ChatterTracker:
    """Remembers recent activation times per alarm (only alarms that activated, so it stays small)."""

    def __init__(self, policy: ChatterPolicy) -> None:
        self.policy = policy
        self._recent: dict[str, deque[float]] = {}
        self._flagged: set[str] = set()
        self.episodes: dict[str, int] = {}

    def record_activation(self, alarm_id: str, now_mono: float) -> bool:
        """Note one activation; return True when this activation makes the alarm newly chattering."""
        recent = self._recent.setdefault(alarm_id, deque(maxlen=self.policy.min_activations))
        recent.append(now_mono)
        chattering = (
            len(recent) == self.policy.min_activations and now_mono - recent[0] <= self.policy.window_s
        )
        if not chattering:
            self._flagged.discard(alarm_id)
            return False
        if alarm_id in self._flagged:
            return False
        self._flagged.add(alarm_id)
        self.episodes[alarm_id] = self.episodes.get(alarm_id, 0) + 1
        return True

    def is_chattering(self, alarm_id: str) -> bool:
        """Whether the alarm's latest activations were within the window."""
        return alarm_id in self._flagged

    @property
    def flagged(self) -> frozenset[str]:
        """Alarm ids currently flagged as chattering."""
        return frozenset(self._flagged)
