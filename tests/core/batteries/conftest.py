"""Fixtures for the battery model tests: the PyBaMM reference pulse shipped in tests/fixtures/battery."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "battery"
PULSE_CSV = FIXTURES / "pybamm_ECM_Example_thevenin_1rc_pulse_25C.csv"


@pytest.fixture(scope="session")
def pybamm_pulse() -> dict[str, np.ndarray]:
    """PyBaMM's Thevenin 1RC pulse at 25 C, as named columns (time_s, current_a, voltage_v, ...)."""
    data = np.loadtxt(PULSE_CSV, delimiter=",", skiprows=1)
    names = ["time_s", "current_a", "voltage_v", "soc", "ocv_v", "r0_ohm", "r1_ohm", "c1_f", "eta_v", "temp_c"]
    return {name: data[:, i] for i, name in enumerate(names)}
