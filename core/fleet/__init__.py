"""The fleet's live picture: LiveState columns, battery cell arrays, decoded samples, ingest counters."""

from core.fleet.battery_cells import BatterySystemSnapshot
from core.fleet.counters import CountersSnapshot, IngestCounters
from core.fleet.live_state import AvailabilityCode, LiveSnapshot, LiveState, UnknownDevice
from core.fleet.samples import PackCellSample, StatusChange, TelemetrySample

__all__ = [
    "AvailabilityCode",
    "BatterySystemSnapshot",
    "CountersSnapshot",
    "IngestCounters",
    "LiveSnapshot",
    "LiveState",
    "PackCellSample",
    "StatusChange",
    "TelemetrySample",
    "UnknownDevice",
]
