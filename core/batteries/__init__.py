"""Battery physics: cell parameters, a vectorized equivalent-circuit cell model, battery systems of
packs x cells with faults, and a device-level energy-storage fleet model. Pure numpy, no I/O.

Sign convention everywhere: positive current or power = discharge.
"""

from core.batteries.ageing import AgeingModel
from core.batteries.battery_system import BatterySystem, CellIndex
from core.batteries.bess import BessFleet, BessMeasurement, BessNoise, BessParams
from core.batteries.cell_parameters import CellParameters, load_ecm_example
from core.batteries.ecm import TheveninCells
from core.batteries.errors import (
    BatteryModelError,
    CellIndexError,
    InvalidBatteryParameter,
    PowerNotDeliverable,
    UnknownSensorMetric,
)
from core.batteries.faults import CELL_METRICS
from core.batteries.measurement import SensorNoise, SystemMeasurement

__all__ = [
    "CELL_METRICS",
    "AgeingModel",
    "BatteryModelError",
    "BatterySystem",
    "BessFleet",
    "BessMeasurement",
    "BessNoise",
    "BessParams",
    "CellIndex",
    "CellIndexError",
    "CellParameters",
    "InvalidBatteryParameter",
    "PowerNotDeliverable",
    "SensorNoise",
    "SystemMeasurement",
    "TheveninCells",
    "UnknownSensorMetric",
    "load_ecm_example",
]
