"""The fleet view's filters, sort and selection, saved per user in the same QSettings as the layout."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSettings

from core.fleet.live_state import AvailabilityCode
from desktop.models.fleet_filter import ALL_STATUSES, FleetFilter


@dataclass(frozen=True)
class FleetViewState:
    filter: FleetFilter = FleetFilter()
    sort_column: int = 0
    ascending: bool = True
    selected_device: str = ""


class FleetSettings:
    def __init__(self, settings: QSettings, username: str) -> None:
        self._settings = settings
        self._prefix = f"fleet/{username}/"

    def save(self, state: FleetViewState) -> None:
        s, p, f = self._settings, self._prefix, state.filter
        s.setValue(p + "text", f.text)
        s.setValue(p + "statuses", ",".join(str(int(code)) for code in sorted(f.statuses)))
        s.setValue(p + "site", f.site)
        s.setValue(p + "seen_within_s", "" if f.seen_within_s is None else str(f.seen_within_s))
        s.setValue(p + "sort_column", state.sort_column)
        s.setValue(p + "ascending", "1" if state.ascending else "0")
        s.setValue(p + "selected", state.selected_device)
        s.sync()

    def load(self) -> FleetViewState:
        s, p = self._settings, self._prefix
        if not s.contains(p + "text"):
            return FleetViewState()
        try:
            codes = str(s.value(p + "statuses", "") or "")
            statuses = frozenset(AvailabilityCode(int(c)) for c in codes.split(",") if c) if codes else ALL_STATUSES
            window = str(s.value(p + "seen_within_s", "") or "")
            return FleetViewState(
                FleetFilter(str(s.value(p + "text", "") or ""), statuses, str(s.value(p + "site", "") or ""),
                            float(window) if window else None),
                int(s.value(p + "sort_column", 0)),
                str(s.value(p + "ascending", "1")) == "1",
                str(s.value(p + "selected", "") or ""),
            )
        except (TypeError, ValueError):  # a hand-edited or older file: start clean rather than fail
            return FleetViewState()
