"""Shared fixtures for the alarm tests: a manual clock, an in-memory store and snapshot builders."""

from __future__ import annotations

import numpy as np
import pytest

from core.alarms import AlarmEngine, BatterySystemSnapshot, FleetSnapshot, InMemoryAlarmStore
from core.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store() -> InMemoryAlarmStore:
    return InMemoryAlarmStore()


class SnapshotBuilder:
    """Builds snapshots of n devices and one battery system with healthy defaults, overridable per call."""

    def __init__(self, devices: int = 3, packs: int = 2, cells: int = 3) -> None:
        self.device_ids = tuple(f"dev{i}" for i in range(devices))
        self.packs, self.cells = packs, cells

    def __call__(self, soc_pct=50.0, device_temp_c=25.0, availability=0, voltage_v=3.30, cell_temp_c=25.0):
        n = len(self.device_ids)
        shape = (self.packs, self.cells)
        return FleetSnapshot(
            self.device_ids,
            np.broadcast_to(np.asarray(soc_pct, float), (n,)).copy(),
            np.broadcast_to(np.asarray(device_temp_c, float), (n,)).copy(),
            np.broadcast_to(np.asarray(availability, float), (n,)).copy(),
            (BatterySystemSnapshot(
                "bs1",
                np.broadcast_to(np.asarray(voltage_v, float), shape).copy(),
                np.broadcast_to(np.asarray(cell_temp_c, float), shape).copy(),
            ),),
        )


@pytest.fixture
def snap() -> SnapshotBuilder:
    return SnapshotBuilder()


@pytest.fixture
def make_engine(clock, store):
    def make(rules, **kwargs) -> AlarmEngine:
        return AlarmEngine(rules, clock, store, **kwargs)
    return make
