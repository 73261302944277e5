"""Per-source alarm state of one rule, held in numpy columns so a tick costs a few array operations.

Only sources whose condition changes leave the vectorized path; the engine turns those into
Python transition records.
"""

from __future__ import annotations

import numpy as np

from core.alarms.states import AlarmState

STATE_ORDER: tuple[AlarmState, ...] = tuple(AlarmState)
STATE_CODE: dict[AlarmState, int] = {state: code for code, state in enumerate(STATE_ORDER)}
NORMAL_CODE = STATE_CODE[AlarmState.NORMAL]
SUPPRESSED_CODES = np.array([STATE_CODE[AlarmState.SHELVED], STATE_CODE[AlarmState.OUT_OF_SERVICE]], np.int8)
ANNUNCIATED_CODES = np.array(
    [STATE_CODE[s] for s in (AlarmState.ACTIVE_UNACKED, AlarmState.ACTIVE_ACKED, AlarmState.RETURNED_UNACKED)],
    np.int8,
)
_EMPTY = np.empty(0, np.intp)

# (column name, dtype, fill value) of every per-source column.
_COLUMNS = (
    ("state", np.int8, NORMAL_CODE),
    ("cond", np.bool_, False),
    ("first_on", np.float64, np.nan),  # monotonic s when the trip condition was first seen
    ("first_off", np.float64, np.nan),  # monotonic s when the release condition was first seen
    ("hold_until", np.float64, np.nan),  # monotonic s; event rules only
    ("value", np.float64, np.nan),  # last valid reading
    ("activated_at_s", np.float64, np.nan),  # epoch s of the last annunciation (-> UNACK)
    ("state_since_s", np.float64, np.nan),  # epoch s of the last state change
)


class SourceBank:
    """Columns of per-source state for one rule; `size` rows are live, capacity may be larger."""

    def __init__(self, rule_id: str, source_ids: list[str]) -> None:
        self.rule_id = rule_id
        self.source_ids: list[str] = list(source_ids)
        self.index: dict[str, int] = {s: i for i, s in enumerate(self.source_ids)}
        self.size = len(self.source_ids)
        capacity = max(self.size, 1)
        for name, dtype, fill in _COLUMNS:
            setattr(self, name, np.full(capacity, fill, dtype=dtype))
        # Whether any timer is running, so quiet ticks skip the timer arithmetic entirely.
        self._on_pending = False
        self._off_pending = False

    # Typed views of the columns (set dynamically above).
    state: np.ndarray
    cond: np.ndarray
    first_on: np.ndarray
    first_off: np.ndarray
    hold_until: np.ndarray
    value: np.ndarray
    activated_at_s: np.ndarray
    state_since_s: np.ndarray

    def state_at(self, i: int) -> AlarmState:
        """The AlarmState of row i."""
        return STATE_ORDER[int(self.state[i])]

    def set_state(self, i: int, state: AlarmState) -> None:
        """Store the AlarmState of row i."""
        self.state[i] = STATE_CODE[state]

    def append(self, source_id: str) -> int:
        """Add a source (event rules learn sources as events arrive); returns its row."""
        if self.size == len(self.state):
            for name, dtype, fill in _COLUMNS:
                old = getattr(self, name)
                grown = np.full(2 * len(old), fill, dtype=dtype)
                grown[: len(old)] = old
                setattr(self, name, grown)
        row = self.size
        self.source_ids.append(source_id)
        self.index[source_id] = row
        self.size += 1
        return row

    def remapped(self, source_ids: list[str]) -> SourceBank:
        """A bank over new source ids that keeps the rows of sources present in both."""
        bank = SourceBank(self.rule_id, source_ids)
        old_rows, new_rows = [], []
        for new_row, source in enumerate(source_ids):
            old_row = self.index.get(source)
            if old_row is not None:
                old_rows.append(old_row)
                new_rows.append(new_row)
        if old_rows:
            for name, _, _ in _COLUMNS:
                getattr(bank, name)[new_rows] = getattr(self, name)[old_rows]
            bank._on_pending = bool(np.any(~np.isnan(bank.first_on)))
            bank._off_pending = bool(np.any(~np.isnan(bank.first_off)))
        return bank

    def step(
        self,
        values: np.ndarray,
        trip: np.ndarray,
        hold: np.ndarray,
        now_mono: float,
        on_delay_s: float,
        off_delay_s: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Advance the debounced condition one tick; return (rows that became active, rows that cleared).

        trip: the value is past the threshold; hold: the value is still past the clear level.
        NaN values leave condition and timers untouched (no reading is no evidence).
        """
        valid = ~np.isnan(values)
        cond = self.cond
        np.copyto(self.value, values, where=valid)
        rise = fall = None
        arming = trip & ~cond
        if self._on_pending or arming.any():
            first_on = self.first_on
            first_on[valid & ~arming] = np.nan
            start = arming & np.isnan(first_on)
            first_on[start] = now_mono
            rise = arming & (now_mono - first_on >= on_delay_s)
            first_on[rise] = np.nan
            self._on_pending = bool(np.any(~np.isnan(first_on)))
        releasing = cond & ~hold & valid
        if self._off_pending or releasing.any():
            first_off = self.first_off
            first_off[valid & ~releasing] = np.nan
            start = releasing & np.isnan(first_off)
            first_off[start] = now_mono
            fall = releasing & (now_mono - first_off >= off_delay_s)
            first_off[fall] = np.nan
            self._off_pending = bool(np.any(~np.isnan(first_off)))
        rise_rows = np.flatnonzero(rise) if rise is not None else _EMPTY
        fall_rows = np.flatnonzero(fall) if fall is not None else _EMPTY
        cond[rise_rows] = True
        cond[fall_rows] = False
        return rise_rows, fall_rows

    def suppressed_mask(self, rows: np.ndarray) -> np.ndarray:
        """For each of `rows`, whether the alarm is shelved or out of service."""
        return np.isin(self.state[rows], SUPPRESSED_CODES)

    def annunciated_rows(self, include_suppressed: bool) -> np.ndarray:
        """Rows an alarm list shows (plus suppressed ones when asked)."""
        states = self.state[: self.size]
        mask = np.isin(states, ANNUNCIATED_CODES)
        if include_suppressed:
            mask |= np.isin(states, SUPPRESSED_CODES)
        return np.flatnonzero(mask)
