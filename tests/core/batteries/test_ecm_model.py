"""TheveninCells beyond the PyBaMM replay: invariants, ageing, thermal steady state, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.batteries.ageing import SECONDS_PER_YEAR, AgeingModel
from core.batteries.cell_parameters import load_ecm_example
from core.batteries.ecm import TheveninCells
from core.batteries.errors import InvalidBatteryParameter


@settings(max_examples=60, deadline=None)
@given(
    current_a=st.floats(-300.0, 300.0, allow_nan=False),
    dt_s=st.floats(0.0, 600.0, allow_nan=False),
    soc=st.floats(0.05, 0.95),
)
def test_coulomb_counting_against_own_capacity(current_a, dt_s, soc):
    cells = TheveninCells(2, capacity_ah=np.array([100.0, 50.0]), soc=soc, ageing=AgeingModel.none())
    cells.step(current_a, dt_s)
    expected = np.clip(soc - current_a * dt_s / 3600.0 / np.array([100.0, 50.0]), 0.0, 1.0)
    np.testing.assert_allclose(cells.soc, expected, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    temp_c=st.floats(-40.0, 80.0),
    current_a=st.floats(-1000.0, 1000.0),
    soc=st.floats(-0.2, 1.2),
)
def test_lookups_stay_within_the_table_range(temp_c, current_a, soc):
    params = load_ecm_example()
    r0, r1, c1 = params.rc_at(np.array([temp_c]), np.array([current_a]), np.array([soc]))
    corners = params.rc_corners
    for value, row in zip((r0, r1, c1), range(3)):
        quantity = corners[row::3]
        assert quantity.min() - 1e-15 <= value[0] <= quantity.max() + 1e-15


def test_rc_voltage_relaxes_exactly_with_tau():
    cells = TheveninCells(1, soc=0.5, ageing=AgeingModel.none())
    cells.step(100.0, 3600.0)  # long enough to reach the RC steady state I * R1
    u0 = cells.rc_voltage_v[0]
    _, r1, c1 = cells.params.rc_at(cells.temp_c, np.zeros(1), cells.soc)
    tau = (r1 * c1)[0]
    cells.step(0.0, tau)
    assert cells.rc_voltage_v[0] == pytest.approx(u0 * np.exp(-1.0), rel=1e-6)


def test_thermal_steady_state_is_ambient_plus_heat_over_conductance():
    cells = TheveninCells(1, soc=0.5, ambient_temp_c=20.0, heat_transfer_w_per_k=2.0, ageing=AgeingModel.none())
    cells.step(0.0, 1e6, extra_heat_w=np.array([10.0]))
    assert cells.temp_c[0] == pytest.approx(25.0, abs=1e-9)


def test_calendar_fade_is_two_percent_per_year_at_25c_and_faster_when_hot():
    cool = TheveninCells(1, temp_c=25.0, ambient_temp_c=25.0, ageing=AgeingModel())
    hot = TheveninCells(1, temp_c=35.0, ambient_temp_c=35.0, ageing=AgeingModel())
    for cells in (cool, hot):
        cells.step(0.0, SECONDS_PER_YEAR)
    assert cool.soh[0] == pytest.approx(0.98, abs=1e-9)
    assert hot.soh[0] == pytest.approx(0.96, abs=1e-9)  # doubling per 10 C


def test_aged_cell_has_higher_resistance():
    fresh = TheveninCells(1, soh=1.0, ageing=AgeingModel.none())
    aged = TheveninCells(1, soh=0.8, ageing=AgeingModel.none())
    for cells in (fresh, aged):
        cells.step(100.0, 0.0)
    assert aged.r0_ohm[0] == pytest.approx(1.5 * fresh.r0_ohm[0], rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(bad=st.sampled_from([float("nan"), float("inf"), -1.0, 0.0]))
def test_non_physical_capacity_is_rejected(bad):
    with pytest.raises(InvalidBatteryParameter, match="capacity_ah"):
        TheveninCells(3, capacity_ah=bad)


@settings(max_examples=40, deadline=None)
@given(soc=st.one_of(st.floats(max_value=-1e-9), st.floats(min_value=1.0 + 1e-9), st.just(float("nan"))))
def test_soc_outside_zero_to_one_is_rejected(soc):
    with pytest.raises(InvalidBatteryParameter, match="soc"):
        TheveninCells(1, soc=soc)


def test_wrong_shapes_and_bad_steps_are_rejected():
    with pytest.raises(InvalidBatteryParameter, match="shape"):
        TheveninCells(3, capacity_ah=np.ones(2))
    cells = TheveninCells(2)
    with pytest.raises(InvalidBatteryParameter, match="dt_s"):
        cells.step(1.0, float("nan"))
    with pytest.raises(InvalidBatteryParameter, match="current_a"):
        cells.step(np.array([1.0, np.inf]), 1.0)
    with pytest.raises(InvalidBatteryParameter):
        AgeingModel(min_soh=1.5)
