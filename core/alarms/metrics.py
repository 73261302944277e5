"""The quantities threshold rules can watch, and the physical range each one can take."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Scope(str, Enum):
    """What one alarm source of a metric is: a device, a cell, or a pack."""

    DEVICE = "device"
    CELL = "cell"
    PACK = "pack"


class Metric(str, Enum):
    """A measured or derived quantity. Names carry units (project rule)."""

    CELL_TEMP_C = "cell_temp_c"
    CELL_VOLTAGE_V = "cell_voltage_v"
    DEVICE_SOC_PCT = "device_soc_pct"
    DEVICE_TEMP_C = "device_temp_c"
    # max - min cell voltage within one pack
    PACK_IMBALANCE_V = "pack_imbalance_v"
    # max - min cell temperature within one pack
    PACK_TEMP_SPREAD_C = "pack_temp_spread_c"

    @property
    def scope(self) -> Scope:
        """Whether the metric has one value per device, per cell or per pack."""
        return _SCOPE[self]

    @property
    def physical_range(self) -> PhysicalRange:
        """The values the quantity can physically take; thresholds must lie inside."""
        return METRIC_RANGES[self]


@dataclass(frozen=True)
class PhysicalRange:
    """Closed interval [low, high] in the metric's unit."""

    low: float
    high: float
    unit: str

    @property
    def span(self) -> float:
        """Width of the range; a deadband must be smaller than this."""
        return self.high - self.low

    def __contains__(self, value: object) -> bool:
        return isinstance(value, (int, float)) and self.low <= value <= self.high


_SCOPE = {
    Metric.CELL_TEMP_C: Scope.CELL,
    Metric.CELL_VOLTAGE_V: Scope.CELL,
    Metric.DEVICE_SOC_PCT: Scope.DEVICE,
    Metric.DEVICE_TEMP_C: Scope.DEVICE,
    Metric.PACK_IMBALANCE_V: Scope.PACK,
    Metric.PACK_TEMP_SPREAD_C: Scope.PACK,
}

# Ranges a reading can have, not operating limits: -40..150 C covers storage cold to a cell in thermal
# runaway onset; 0..5 V covers every Li-ion chemistry per cell (NMC tops out at 4.2-4.4 V); imbalance
# and spread are differences, so they start at 0.
METRIC_RANGES: dict[Metric, PhysicalRange] = {
    Metric.CELL_TEMP_C: PhysicalRange(-40.0, 150.0, "C"),
    Metric.CELL_VOLTAGE_V: PhysicalRange(0.0, 5.0, "V"),
    Metric.DEVICE_SOC_PCT: PhysicalRange(0.0, 100.0, "%"),
    Metric.DEVICE_TEMP_C: PhysicalRange(-40.0, 150.0, "C"),
    Metric.PACK_IMBALANCE_V: PhysicalRange(0.0, 2.0, "V"),
    Metric.PACK_TEMP_SPREAD_C: PhysicalRange(0.0, 100.0, "C"),
}
