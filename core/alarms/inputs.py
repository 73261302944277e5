"""What the alarm engine receives besides snapshots: device availability codes and discrete events.

Events are frozen dataclasses dispatched by type (CRAFT rule 4). Each names the source it concerns:
a device id, or a forecast model id for drift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum

from core.clock import ensure_utc


class Availability(IntEnum):
    """Per-device availability as LiveState reports it; ordered so larger means worse."""

    ONLINE = 0
    STALE = 1
    OFFLINE = 2


def _check_source(value: str, what: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")


class _DeviceEvent:
    """What every event about one device shares: the device is the alarm source, `at` is aware UTC, and
    unless a subclass measures something the failure itself is the alarm (no value)."""

    device_id: str
    at: datetime

    def __post_init__(self) -> None:
        _check_source(self.device_id, "device_id")
        object.__setattr__(self, "at", ensure_utc(self.at, f"{type(self).__name__}.at"))

    @property
    def source_id(self) -> str:
        """The alarm source this event concerns."""
        return self.device_id

    @property
    def value(self) -> float | None:
        return None


@dataclass(frozen=True)
class CommandFailed(_DeviceEvent):
    """A command sent to a device failed (timeout, rejected, read-back mismatch)."""

    device_id: str
    command_id: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class ScheduleEntryFailed(_DeviceEvent):
    """A device did not execute a schedule entry (error in its acknowledgement, or no ack)."""

    device_id: str
    schedule_id: str
    entry_index: int
    reason: str
    at: datetime


@dataclass(frozen=True)
class AckLatencyHigh(_DeviceEvent):
    """A device acknowledged a schedule or command later than its allowed latency."""

    device_id: str
    latency_s: float
    at: datetime

    def __post_init__(self) -> None:
        if not math.isfinite(self.latency_s) or self.latency_s < 0:
            raise ValueError(f"latency_s must be finite and >= 0, got {self.latency_s!r}")
        super().__post_init__()

    @property
    def value(self) -> float | None:
        """The measured latency in seconds."""
        return float(self.latency_s)


@dataclass(frozen=True)
class ForecastDriftDetected:
    """A forecast model's live error drifted past its monitor's limit (core.forecasting.drift raises it).

    `drift_score` is live MAE / backtest MAE; the other measurements are optional so that any monitor can
    raise the event, and they travel into the alarm for the operator to read.
    """

    model_id: str
    drift_score: float
    at: datetime
    kind: str = "price"
    live_mae: float | None = None
    backtest_mae: float | None = None
    threshold_ratio: float | None = None
    window_rows: int | None = None

    def __post_init__(self) -> None:
        _check_source(self.model_id, "model_id")
        if not math.isfinite(self.drift_score):
            raise ValueError(f"drift_score must be finite, got {self.drift_score!r}")
        object.__setattr__(self, "at", ensure_utc(self.at, "ForecastDriftDetected.at"))

    @property
    def source_id(self) -> str:
        """The alarm source this event concerns."""
        return self.model_id

    @property
    def value(self) -> float | None:
        """The drift score the monitor computed."""
        return float(self.drift_score)


AlarmInputEvent = CommandFailed | ScheduleEntryFailed | AckLatencyHigh | ForecastDriftDetected
