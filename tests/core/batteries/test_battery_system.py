"""BatterySystem: spread, current split, thermal behaviour, derived values, determinism and faults."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.batteries.ageing import AgeingModel
from core.batteries.battery_system import BatterySystem, CellIndex
from core.batteries.errors import InvalidBatteryParameter, PowerNotDeliverable


def small_system(**kwargs) -> BatterySystem:
    kwargs.setdefault("seed", 7)
    return BatterySystem(n_packs=8, cells_per_pack=12, **kwargs)


def test_default_system_is_100_packs_of_10_cells():
    system = BatterySystem()
    assert system.cell_voltage_v.shape == (100, 10)
    assert system.pack_voltage_v.shape == (100,)


def test_manufacturing_spread_has_the_requested_statistics():
    system = BatterySystem(n_packs=100, cells_per_pack=10, capacity_sigma=0.015, resistance_sigma=0.05)
    relative_capacity = system.base_capacity_ah / 100.0
    assert abs(relative_capacity.mean() - 1.0) < 0.002
    assert 0.013 < relative_capacity.std() < 0.017
    assert 0.045 < np.log(system.base_resistance_scale).std() < 0.055


def test_same_seed_same_run_and_other_seed_differs():
    runs = []
    for seed in (3, 3, 4):
        system = small_system(seed=seed)
        for _ in range(20):
            system.step(10.0, current_a=400.0)
        runs.append(system.measure())
    assert np.array_equal(runs[0].voltage_v, runs[1].voltage_v)
    assert np.array_equal(runs[0].temp_c, runs[1].temp_c)
    assert not np.array_equal(runs[0].voltage_v, runs[2].voltage_v)


@settings(max_examples=40, deadline=None)
@given(current_a=st.floats(-2000.0, 2000.0, allow_nan=False))
def test_pack_currents_add_up_to_the_system_current(current_a):
    system = small_system()
    system.step(1.0, current_a=current_a)
    assert system.system_current_a == pytest.approx(current_a, abs=1e-6)


def test_higher_resistance_pack_carries_less_current():
    system = small_system(resistance_sigma=0.0, capacity_sigma=0.0, soc_sigma=0.0)
    for cell in range(12):
        system.set_weak_cell(2, cell, capacity_factor=1.0, resistance_factor=2.0)
    system.step(1.0, current_a=400.0)  # the split lags R0 by one step
    system.step(1.0, current_a=400.0)
    assert system.pack_current_a[2] < 0.8 * np.delete(system.pack_current_a, 2).min()


def test_power_setpoint_is_met_and_positive_power_discharges():
    system = small_system()
    soc_before = system.system_soc_pct
    system.step(60.0, power_kw=12.0)
    assert system.system_power_kw == pytest.approx(12.0, rel=1e-9)
    assert system.system_soc_pct < soc_before
    system.step(60.0, power_kw=-12.0)
    assert system.system_power_kw == pytest.approx(-12.0, rel=1e-9)


def test_impossible_power_raises_a_typed_error():
    with pytest.raises(PowerNotDeliverable):
        small_system().step(1.0, power_kw=1e6)


@settings(max_examples=30, deadline=None)
@given(
    field=st.sampled_from(["initial_soc", "capacity_sigma", "resistance_sigma", "soc_sigma"]),
    value=st.one_of(st.floats(max_value=-1e-6), st.floats(min_value=1.01), st.just(float("nan"))),
)
def test_invalid_system_parameters_are_rejected(field, value):
    with pytest.raises(InvalidBatteryParameter, match=field):
        BatterySystem(n_packs=2, cells_per_pack=2, **{field: value})


def test_step_needs_exactly_one_setpoint():
    system = small_system()
    with pytest.raises(InvalidBatteryParameter):
        system.step(1.0)
    with pytest.raises(InvalidBatteryParameter):
        system.step(1.0, current_a=1.0, power_kw=1.0)
    with pytest.raises(InvalidBatteryParameter):
        system.step(-1.0, current_a=1.0)


def test_cells_heat_under_load_and_cool_at_rest():
    system = small_system(ambient_temp_c=20.0)
    for _ in range(30):
        system.step(60.0, current_a=8 * 100.0)  # 1C per pack for 30 min
    hot = system.cell_temp_c
    assert hot.min() > 22.0
    temps = []
    for _ in range(60):
        system.step(60.0, current_a=0.0)
        temps.append(system.cell_temp_c.mean())
    assert np.all(np.diff(temps) < 0)  # strictly cooling while above ambient
    assert 20.0 < temps[-1] < hot.mean() - 2.0


def test_imbalance_and_spreads_are_max_minus_min():
    system = small_system()
    system.step(30.0, current_a=600.0)
    v = system.cell_voltage_v
    t = system.cell_temp_c
    np.testing.assert_allclose(system.pack_imbalance_v, v.max(axis=1) - v.min(axis=1))
    assert system.system_imbalance_v == pytest.approx(v.max() - v.min())
    np.testing.assert_allclose(system.pack_temp_spread_c, t.max(axis=1) - t.min(axis=1))
    assert system.system_imbalance_v > 0


def test_pack_and_system_aggregates():
    system = small_system()
    system.set_weak_cell(5, 3, capacity_factor=0.9, resistance_factor=1.0)
    system.step(60.0, current_a=300.0)
    np.testing.assert_allclose(system.pack_soc_pct, system.cell_soc_pct.mean(axis=1))
    np.testing.assert_allclose(system.pack_soh_pct, system.cell_soh_pct.min(axis=1))
    assert system.pack_soh_pct[5] == pytest.approx(90.0, abs=0.01)
    assert system.pack_soc_pct.min() <= system.system_soc_pct <= system.pack_soc_pct.max()
    assert system.pack_soh_pct.min() <= system.system_soh_pct < 100.0


def test_over_temperature_cell_becomes_the_hottest():
    system = small_system()
    system.set_over_temperature(6, 4, extra_heat_w=20.0)
    for _ in range(20):
        system.step(30.0, current_a=400.0)
    assert system.hottest_cell == CellIndex(6, 4)
    assert system.pack_temp_spread_c.argmax() == 6


def test_weak_cell_becomes_the_weakest_and_drains_fastest():
    system = small_system(soc_sigma=0.0)
    assert system.weakest_cell != CellIndex(1, 9)
    system.set_weak_cell(1, 9, capacity_factor=0.7, resistance_factor=1.5)
    assert system.weakest_cell == CellIndex(1, 9)
    for _ in range(10):
        system.step(60.0, current_a=800.0)
    assert system.cell_soc_pct[1].argmin() == 9
    assert system.cell_soh_pct[1, 9] == pytest.approx(70.0, abs=0.01)


def test_stuck_sensor_reads_constant_while_the_true_value_moves():
    system = small_system()
    system.set_stuck_sensor(0, 0, "soc_pct")
    system.set_stuck_sensor(3, 2, "temp_c")
    frozen_soc = system.measure().soc_pct[0, 0]
    frozen_temp = system.measure().temp_c[3, 2]
    true_soc_before = system.cell_soc_pct[0, 0]
    for _ in range(10):
        system.step(60.0, current_a=800.0)
        reading = system.measure()
        assert reading.soc_pct[0, 0] == frozen_soc
        assert reading.temp_c[3, 2] == frozen_temp
    assert system.cell_soc_pct[0, 0] < true_soc_before - 1.0
    system.clear_faults()
    assert system.measure(noise=False).soc_pct[0, 0] == system.cell_soc_pct[0, 0]


def test_fault_hooks_reject_bad_input():
    system = small_system()
    with pytest.raises(InvalidBatteryParameter, match="does not exist"):
        system.set_weak_cell(8, 0, 0.5, 1.0)
    with pytest.raises(InvalidBatteryParameter, match="metric"):
        system.set_stuck_sensor(0, 0, "pressure_bar")
    with pytest.raises(InvalidBatteryParameter, match="capacity_factor"):
        system.set_weak_cell(0, 0, 1.5, 1.0)
    with pytest.raises(InvalidBatteryParameter, match="extra_heat_w"):
        system.set_over_temperature(0, 0, float("nan"))


def test_measurement_noise_and_read_only_arrays():
    system = small_system()
    clean = system.measure(noise=False)
    np.testing.assert_array_equal(clean.voltage_v, system.cell_voltage_v)
    noisy = system.measure(rng=np.random.default_rng(1))
    error_v = noisy.voltage_v - clean.voltage_v
    assert 0.0005 < error_v.std() < 0.0015  # SensorNoise default: 1 mV
    with pytest.raises(ValueError):
        noisy.voltage_v[0, 0] = 0.0


def test_soh_fades_faster_with_cycling_than_at_rest():
    resting = small_system(ageing=AgeingModel())
    cycling = small_system(ageing=AgeingModel())
    for k in range(200):
        resting.step(360.0, current_a=0.0)
        cycling.step(360.0, current_a=800.0 if k % 2 else -800.0)
    assert cycling.system_soh_pct < resting.system_soh_pct < 100.0


# The split is linearized over the step, so long steps leave a larger (still small) mismatch.
@pytest.mark.parametrize(("dt_s", "tolerance_v"), [(1.0, 0.003), (60.0, 0.003), (600.0, 0.010)])
def test_parallel_packs_share_the_bus_voltage_and_stay_stable_for_long_steps(dt_s, tolerance_v):
    system = small_system()
    for _ in range(int(1800 / dt_s)):  # 30 min at 0.5C per pack
        system.step(dt_s, current_a=400.0)
    per_cell_mismatch_v = np.abs(system.pack_voltage_v - system.bus_voltage_v) / system.cells_per_pack
    assert per_cell_mismatch_v.max() < tolerance_v
    assert np.all(np.abs(system.pack_current_a - 50.0) < 10.0)  # no circulating blow-up
