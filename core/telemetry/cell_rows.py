"""PackCellSample -> one cell_samples row, and when a row carries the slow arrays (SoC and SoH).

Voltage and temperature are stored in every row: alarms and the heat map need every sample. SoC and SoH
move slowly (SoC by < 0.02 %/s at 0.5C, SoH over months), so a row carries them only when
- ``slow_period_ms`` (default 60 s) has passed since the pack's last row that carried them, or
- any cell's SoC or SoH moved by ``slow_change_codes`` steps (default 100 = 1 %) or more since then, or
  became missing / present, or the cell count changed, or
- the sample is older than the last one that carried them (out of order; stored, cheap and rare),
and they are NULL otherwise. The change threshold sits well above estimator jitter: with 0.2 % (1 sigma)
of noise per sample, as benchmarks/db_growth.py simulates, a 0.5 % threshold made 57 % of the rows carry
them (74 B per row instead of 55); at 1 % it is 3.6 % of the rows (3.3 % from the period alone).

Readers take a pack's SoC/SoH from its newest row that carries them (core/telemetry/queries.py), so what
they get is at most one period old and within 1 % of the latest reading (a pack at 1C moves ~1.7 % per
minute, so there the threshold, not the period, bounds it) — unless the row that carried them was lost
(parked after failed commits, or a re-delivery that collided with a stored row), in which case the next
period brings them back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.fleet.samples import PackCellSample
from core.telemetry.cell_codec import cell_codes, pack_codes
from core.telemetry.timecodes import MINUTE_MS, to_epoch_ms

CURRENT_STEP_A = 0.01  # current_10ma: pack current in 10 mA steps
MAX_CURRENT_A = 1_000_000.0  # larger magnitudes are rejected as garbage (and would overflow the column)


@dataclass
class _SlowState:
    ts_ms: int
    soc: list[int]
    soh: list[int]


class CellRowEncoder:
    """Turns pack samples into rows, remembering per (device, pack) when SoC/SoH were last stored.

    Used by the writer thread only (not thread-safe).
    """

    def __init__(self, slow_period_ms: int = MINUTE_MS, slow_change_codes: int = 100) -> None:
        if slow_period_ms <= 0 or slow_change_codes <= 0:
            raise ValueError("slow_period_ms and slow_change_codes must be positive")
        self.slow_period_ms = slow_period_ms
        self.slow_change_codes = slow_change_codes
        self._last: dict[tuple[str, int], _SlowState] = {}

    def row(self, c: PackCellSample) -> dict | None:
        """The row for c without its device_key (the writer adds it), or None when c is invalid
        (naive or missing time, non-finite or absurd current)."""
        try:
            ts_ms = to_epoch_ms(c.ts)
        except (ValueError, TypeError, AttributeError):
            return None
        if not math.isfinite(c.current_a) or abs(c.current_a) > MAX_CURRENT_A:
            return None
        soc, soh = cell_codes(c.soc_pct, "soc_pct"), cell_codes(c.soh_pct, "soh_pct")
        carry = self._carries_slow(c.device_id, int(c.pack), ts_ms, soc, soh)
        return {
            "ts_ms": ts_ms,
            "pack": int(c.pack),
            "current_10ma": int(round(c.current_a / CURRENT_STEP_A)),
            "voltage_v": pack_codes(cell_codes(c.voltage_v, "voltage_v")),
            "temp_c": pack_codes(cell_codes(c.temp_c, "temp_c")),
            "soc_pct": pack_codes(soc) if carry else None,
            "soh_pct": pack_codes(soh) if carry else None,
        }

    def _carries_slow(self, device_id: str, pack: int, ts_ms: int, soc: list[int], soh: list[int]) -> bool:
        key = (device_id, pack)
        last = self._last.get(key)
        if last is not None and ts_ms < last.ts_ms:
            return True  # out of order: store, but keep the newer reference
        if last is not None and ts_ms - last.ts_ms < self.slow_period_ms and not self._moved(last, soc, soh):
            return False
        self._last[key] = _SlowState(ts_ms, soc, soh)
        return True

    def _moved(self, last: _SlowState, soc: list[int], soh: list[int]) -> bool:
        limit = self.slow_change_codes
        for old, new in ((last.soc, soc), (last.soh, soh)):
            if len(old) != len(new):
                return True
            # Sentinel codes (NaN, out of range) sit at the top of the code space: any change to or from
            # one is a move of thousands of steps.
            if any(abs(a - b) >= limit for a, b in zip(old, new)):
                return True
        return False
