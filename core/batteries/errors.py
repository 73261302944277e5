"""Typed errors of the battery models. All are ValueErrors: they mean the caller asked for something invalid."""

from __future__ import annotations


class BatteryModelError(ValueError):
    """Base of every error raised by `core.batteries`."""


class InvalidBatteryParameter(BatteryModelError):
    """A parameter is out of its physical range, has the wrong shape, or is not finite."""


class CellIndexError(InvalidBatteryParameter):
    """A pack or cell index does not exist in this battery system."""


class UnknownSensorMetric(InvalidBatteryParameter):
    """A stuck-sensor fault was asked for a metric the system does not measure per cell."""


class PowerNotDeliverable(BatteryModelError):
    """The requested power exceeds what the battery's source voltage and resistance can transfer."""
