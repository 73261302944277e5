"""BessFleet: bounds, limits and energy balance for any setpoint sequence; heat; noise; bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.batteries.ageing import AgeingModel
from core.batteries.bess import BessFleet, BessParams
from core.batteries.errors import InvalidBatteryParameter

N = 4
setpoints = st.lists(st.floats(-500.0, 500.0, allow_nan=False), min_size=N, max_size=N)
steps = st.lists(st.tuples(setpoints, st.floats(0.0, 7200.0)), min_size=1, max_size=25)


@st.composite
def fleets(draw):
    """Random but valid fleets; ageing is fast so that capacity fade happens inside a short test."""
    soc_min = draw(st.floats(0.0, 40.0))
    soc_max = draw(st.floats(soc_min + 1.0, 100.0))
    params = BessParams(
        capacity_kwh=draw(st.floats(1.0, 1000.0)),
        max_charge_kw=draw(st.floats(0.0, 400.0)),
        max_discharge_kw=draw(st.floats(0.0, 400.0)),
        round_trip_efficiency=draw(st.floats(0.5, 1.0)),
        soc_min_pct=soc_min,
        soc_max_pct=soc_max,
        self_discharge_pct_per_day=draw(st.floats(0.0, 50.0)),
    )
    ageing = draw(st.sampled_from([AgeingModel.none(), AgeingModel(calendar_fade_per_year=50.0, cycle_fade_per_efc=0.01)]))
    initial = draw(st.floats(soc_min, soc_max))
    return BessFleet(N, params, initial_soc_pct=initial, ageing=ageing, seed=1)


@settings(max_examples=60, deadline=None)
@given(fleet=fleets(), sequence=steps)
def test_soc_stays_within_bounds_for_any_setpoint_sequence(fleet, sequence):
    for powers, dt_s in sequence:
        fleet.set_power_kw(slice(None), np.array(powers))
        fleet.step(dt_s)
        assert np.all(fleet.soc_pct >= fleet.soc_min_pct - 1e-9)
        assert np.all(fleet.soc_pct <= fleet.soc_max_pct + 1e-9)


@settings(max_examples=60, deadline=None)
@given(fleet=fleets(), sequence=steps)
def test_power_respects_limits_and_never_exceeds_the_request(fleet, sequence):
    for powers, dt_s in sequence:
        request = np.array(powers)
        fleet.set_power_kw(slice(None), request)
        fleet.step(dt_s)
        assert np.all(fleet.power_kw <= fleet.max_discharge_kw + 1e-12)
        assert np.all(fleet.power_kw >= -fleet.max_charge_kw - 1e-12)
        assert np.all(np.abs(fleet.power_kw) <= np.abs(request) + 1e-12)
        assert np.all(fleet.power_kw * request >= 0.0)  # never the opposite direction


@settings(max_examples=60, deadline=None)
@given(fleet=fleets(), sequence=steps)
def test_every_kwh_is_accounted_for(fleet, sequence):
    stored_before = fleet.stored_energy_kwh.copy()
    for powers, dt_s in sequence:
        fleet.set_power_kw(slice(None), np.array(powers))
        fleet.step(dt_s)
    eta = fleet.efficiency_one_way
    expected_drop = (
        fleet.discharged_kwh / eta - fleet.charged_kwh * eta + fleet.self_discharge_loss_kwh + fleet.fade_loss_kwh
    )
    actual_drop = stored_before - fleet.stored_energy_kwh
    np.testing.assert_allclose(actual_drop, expected_drop, atol=1e-9 * (1.0 + fleet.capacity_kwh.max()))


@settings(max_examples=100, deadline=None)
@given(rte=st.floats(0.5, 1.0), power_kw=st.floats(1.0, 100.0))
def test_round_trip_returns_rte_of_the_energy_put_in(rte, power_kw):
    fleet = BessFleet(1, BessParams(round_trip_efficiency=rte), initial_soc_pct=50.0, ageing=AgeingModel.none())
    fleet.set_power_kw(0, -power_kw)
    fleet.step(600.0)  # charge
    stored_gain = fleet.stored_energy_kwh[0] - 100.0
    fleet.set_power_kw(0, power_kw)
    while fleet.stored_energy_kwh[0] > 100.0 + 1e-12:
        fleet.set_power_kw(0, min(power_kw, (fleet.stored_energy_kwh[0] - 100.0) * np.sqrt(rte) * 3600.0 / 60.0))
        fleet.step(60.0)
    assert stored_gain == pytest.approx(power_kw / 6.0 * np.sqrt(rte))
    assert fleet.discharged_kwh[0] == pytest.approx(rte * fleet.charged_kwh[0], rel=1e-9)


def test_unconstrained_setpoint_is_followed_exactly_and_positive_discharges():
    fleet = BessFleet(2, initial_soc_pct=50.0, ageing=AgeingModel.none())
    fleet.set_power_kw(np.array([True, False]), 40.0)
    fleet.set_power_kw(1, -40.0)
    fleet.step(900.0)
    np.testing.assert_array_equal(fleet.power_kw, [40.0, -40.0])
    assert fleet.soc_pct[0] < 50.0 < fleet.soc_pct[1]
    assert fleet.current_a[0] > 0 > fleet.current_a[1]


def test_energy_available_is_what_a_full_discharge_delivers():
    fleet = BessFleet(1, initial_soc_pct=60.0, ageing=AgeingModel.none())
    available = fleet.energy_available_kwh[0]
    fleet.set_power_kw(0, 100.0)
    for _ in range(200):
        fleet.step(60.0)
    assert fleet.soc_pct[0] == pytest.approx(5.0)
    assert fleet.discharged_kwh[0] == pytest.approx(available, rel=1e-12)
    assert fleet.energy_available_kwh[0] == pytest.approx(0.0, abs=1e-9)


def test_device_heats_with_power_and_relaxes_to_ambient():
    fleet = BessFleet(2, ambient_temp_c=20.0, initial_soc_pct=50.0)
    fleet.set_power_kw(0, 100.0)
    for _ in range(30):
        fleet.step(60.0)
    assert fleet.temp_c[0] > 21.0
    assert fleet.temp_c[1] == pytest.approx(20.0)
    hot = fleet.temp_c[0]
    fleet.set_power_kw(0, 0.0)
    fleet.step(20 * 3600.0)
    assert 20.0 <= fleet.temp_c[0] < 20.0 + 0.01 * (hot - 20.0)


def test_soh_fades_with_throughput():
    idle = BessFleet(1, initial_soc_pct=50.0)
    cycling = BessFleet(1, initial_soc_pct=50.0)
    for k in range(500):
        cycling.set_power_kw(0, 100.0 if k % 2 else -100.0)
        for fleet in (idle, cycling):
            fleet.step(3600.0)
    assert cycling.soh_pct[0] < idle.soh_pct[0] < 100.0


def test_same_seed_same_measurements():
    readings = []
    for seed in (5, 5, 6):
        fleet = BessFleet(50, seed=seed)
        fleet.set_power_kw(slice(0, 25), 30.0)
        fleet.step(60.0)
        readings.append(fleet.measure())
    assert np.array_equal(readings[0].power_kw, readings[1].power_kw)
    assert not np.array_equal(readings[0].power_kw, readings[2].power_kw)
    clean = BessFleet(3).measure(noise=False)
    assert np.all(clean.soc_pct == 50.0)
    with pytest.raises(ValueError):
        clean.soc_pct[0] = 1.0


@pytest.mark.parametrize(
    "bad",
    [
        {"capacity_kwh": 0.0},
        {"round_trip_efficiency": 1.2},
        {"round_trip_efficiency": 0.0},
        {"soc_min_pct": 50.0, "soc_max_pct": 40.0},
        {"max_charge_kw": -1.0},
        {"capacity_kwh": np.ones(3)},
        {"self_discharge_pct_per_day": float("nan")},
    ],
)
def test_invalid_parameters_are_rejected(bad):
    with pytest.raises(InvalidBatteryParameter):
        BessFleet(2, BessParams(**bad))


def test_invalid_commands_are_rejected():
    fleet = BessFleet(3)
    with pytest.raises(InvalidBatteryParameter):
        fleet.set_power_kw(0, float("nan"))
    with pytest.raises(InvalidBatteryParameter):
        fleet.set_power_kw(np.array([True, False]), 1.0)
    with pytest.raises(InvalidBatteryParameter):
        fleet.set_power_kw(7, 1.0)
    with pytest.raises(InvalidBatteryParameter):
        BessFleet(3, initial_soc_pct=99.0)
