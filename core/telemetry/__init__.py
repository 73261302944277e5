"""Stored telemetry: the storage writer, rollups, retention and history queries."""

from core.telemetry.cell_codec import decode_cells, encode_cells
from core.telemetry.queries import History, PackCellHistory, PackCells, TelemetryQueries, TelemetryQueryError
from core.telemetry.retention import DEFAULT_RAW_RETENTION, PurgeReport, Retention
from core.telemetry.rollups import RollupReport, Rollups
from core.telemetry.writer import TelemetryWriter, WriterStats, WriterStopped

__all__ = [
    "DEFAULT_RAW_RETENTION",
    "History",
    "PackCellHistory",
    "PackCells",
    "PurgeReport",
    "Retention",
    "RollupReport",
    "Rollups",
    "TelemetryQueries",
    "TelemetryQueryError",
    "TelemetryWriter",
    "WriterStats",
    "WriterStopped",
    "decode_cells",
    "encode_cells",
]
