"""Retention: raw telemetry and raw cell samples are deleted after a window; rollups are kept.

Raw rows are only deleted once the 1-minute rollup has passed them (its mark, see rollups.py), so a stalled
rollup job stops the purge instead of losing data that was never summarised. Cell samples follow the same
cut-off, so both raw streams cover the same period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete

from core.clock import Clock, SystemClock
from core.storage.database import Database
from core.telemetry.keys import distinct_keys
from core.telemetry.rollups import MARK_1M, read_mark
from core.telemetry.tables import cell_samples, telemetry_raw
from core.telemetry.timecodes import from_epoch_ms, to_epoch_ms

DEFAULT_RAW_RETENTION = timedelta(days=7)


@dataclass(frozen=True)
class PurgeReport:
    cutoff: datetime | None  # rows before this were deleted; None when nothing could be (no rollup yet)
    raw_rows: int
    cell_rows: int


class Retention:
    """Deletes old raw rows. Run it periodically (e.g. hourly) so each run deletes a small slice."""

    def __init__(self, db: Database, clock: Clock | None = None, raw_window: timedelta = DEFAULT_RAW_RETENTION) -> None:
        if raw_window <= timedelta(0):
            raise ValueError("the raw retention window must be positive")
        self.db = db
        self.clock = clock or SystemClock()
        self.raw_window = raw_window

    def purge(self, now: datetime | None = None) -> PurgeReport:
        """Delete raw telemetry and cell samples older than the window and already rolled up (one transaction)."""
        wanted = to_epoch_ms(now or self.clock.now()) - int(self.raw_window.total_seconds() * 1000)
        with self.db.engine.begin() as conn:
            rolled = read_mark(conn, MARK_1M)
            if rolled is None:
                return PurgeReport(None, 0, 0)
            cutoff = min(wanted, rolled)
            counts = []
            for table, device in ((telemetry_raw, telemetry_raw.c.device_id), (cell_samples, cell_samples.c.device_key)):
                deleted = 0
                # One key range per device: no index on time alone is needed (see keys.py).
                for value in distinct_keys(conn, device):
                    result = conn.execute(delete(table).where(device == value, table.c.ts_ms < cutoff))
                    deleted += max(result.rowcount or 0, 0)
                counts.append(deleted)
        return PurgeReport(from_epoch_ms(cutoff), counts[0], counts[1])
