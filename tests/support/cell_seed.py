"""Cell readings of one battery system, stored through the real TelemetryWriter (as the ingest stores them),
with one weak cell, one low-voltage cell, and a later reading that a report for an earlier period must not
use. The values step by cell so every ranking has one right order."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.fleet.samples import PackCellSample
from core.storage.database import Database
from core.telemetry.writer import TelemetryWriter

PACKS, CELLS = 3, 8
WEAK_SOH = ("pack02/cell06", 1, 5, 81.0)  # id, pack, cell (from 0), SoH
LOW_VOLTAGE = ("pack03/cell01", 2, 0, 3.05)  # id, pack, cell, voltage
LATER_WEAK = ("pack01/cell04", 0, 3)  # weakest and lowest in the reading after the period only


def _pack(device_id: str, pack: int, at: datetime, later: bool) -> PackCellSample:
    voltage = [3.30 + 0.01 * pack + 0.001 * c for c in range(CELLS)]
    soh = [98.0 + 0.5 * pack + 0.1 * c for c in range(CELLS)]
    if pack == WEAK_SOH[1]:
        soh[WEAK_SOH[2]] = WEAK_SOH[3]
    if pack == LOW_VOLTAGE[1]:
        voltage[LOW_VOLTAGE[2]] = LOW_VOLTAGE[3]
    if later and pack == LATER_WEAK[1]:
        voltage[LATER_WEAK[2]], soh[LATER_WEAK[2]] = 2.5, 50.0
    return PackCellSample(device_id=device_id, pack=pack, ts=at, received_at=at, voltage_v=tuple(voltage),
                          temp_c=tuple(25.0 + pack + 0.1 * c for c in range(CELLS)),
                          soc_pct=tuple(60.0 + pack for _ in range(CELLS)), soh_pct=tuple(soh), current_a=12.5)


def seed_cells(db: Database, device_id: str, at: datetime, later: datetime) -> None:
    """Two readings of every pack at `at` and `at` + 10 s (the second without SoC/SoH, which the writer stores
    about once a minute), and one at `later` whose pack01/cell04 is the worst of all."""
    writer = TelemetryWriter(db, flush_interval_s=3600.0)
    try:
        for when, is_later in ((at, False), (at + timedelta(seconds=10), False), (later, True)):
            writer.submit_cells([_pack(device_id, p, when, is_later) for p in range(PACKS)])
        assert writer.flush(timeout=60), writer.stats()
    finally:
        assert writer.stop(timeout=30)
