"""The cell model against PyBaMM: same tables, same current profile, terminal voltage within 1 mV."""

from __future__ import annotations

import numpy as np

from core.batteries.ageing import AgeingModel
from core.batteries.cell_parameters import load_ecm_example
from core.batteries.ecm import TheveninCells

# PyBaMM's run is isothermal to 1e-4 K, so the validation holds temperature with a huge thermal mass.
ISOTHERMAL_J_PER_K = 1e12


def replay(pulse: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Feed the reference current into one cell, row by row; repeated timestamps become dt = 0 steps."""
    cell = TheveninCells(
        1, soc=0.8, temp_c=25.0, ambient_temp_c=25.0, thermal_mass_j_per_k=ISOTHERMAL_J_PER_K,
        ageing=AgeingModel.none(),
    )
    times, currents = pulse["time_s"], pulse["current_a"]
    out = {"voltage_v": [], "soc": [], "rc_voltage_v": [], "r0_ohm": []}
    previous_t = times[0]
    for t, current in zip(times, currents):
        # The row's current flows over the interval that ends at the row (PyBaMM's step boundaries).
        cell.step(current, t - previous_t)
        previous_t = t
        out["voltage_v"].append(cell.voltage_v[0])
        out["soc"].append(cell.soc[0])
        out["rc_voltage_v"].append(cell.rc_voltage_v[0])
        out["r0_ohm"].append(cell.r0_ohm[0])
    return {k: np.array(v) for k, v in out.items()}


def test_terminal_voltage_matches_pybamm_within_1_mv(pybamm_pulse):
    result = replay(pybamm_pulse)
    error_v = np.abs(result["voltage_v"] - pybamm_pulse["voltage_v"])
    # Measured: 0.04 mV max. 1 mV is the brief's bar; a sign or lookup mistake costs tens of mV.
    assert error_v.max() < 1e-3, f"max |dV| = {error_v.max() * 1e3:.3f} mV"


def test_intermediate_states_match_pybamm(pybamm_pulse):
    result = replay(pybamm_pulse)
    np.testing.assert_allclose(result["soc"], pybamm_pulse["soc"], atol=1e-6)
    # PyBaMM's element-1 overpotential is the negative of our RC-branch voltage.
    np.testing.assert_allclose(result["rc_voltage_v"], -pybamm_pulse["eta_v"], atol=2e-4)
    np.testing.assert_allclose(result["r0_ohm"], pybamm_pulse["r0_ohm"], rtol=5e-4)  # ours is mid-step SoC


def test_table_lookups_match_pybamm_columns(pybamm_pulse):
    params = load_ecm_example()
    r0, r1, c1 = params.rc_at(pybamm_pulse["temp_c"], pybamm_pulse["current_a"], pybamm_pulse["soc"])
    np.testing.assert_allclose(r0, pybamm_pulse["r0_ohm"], rtol=1e-6)
    np.testing.assert_allclose(r1, pybamm_pulse["r1_ohm"], rtol=1e-6)
    np.testing.assert_allclose(c1, pybamm_pulse["c1_f"], rtol=1e-6)
    np.testing.assert_allclose(params.ocv_v_at(pybamm_pulse["soc"]), pybamm_pulse["ocv_v"], atol=1e-6)


def test_discharge_lowers_voltage_below_ocv_and_charge_raises_it():
    cells = TheveninCells(2, soc=0.5, ageing=AgeingModel.none())
    ocv = cells.ocv_v.copy()
    cells.step(np.array([100.0, -100.0]), 10.0)
    assert cells.voltage_v[0] < ocv[0] and cells.soc[0] < 0.5
    assert cells.voltage_v[1] > ocv[1] and cells.soc[1] > 0.5
