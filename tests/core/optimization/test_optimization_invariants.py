"""Invariants over random prices and batteries: SoC and power stay within limits, stored energy
follows the efficiency model, the site balance holds, and the same input gives the same plan."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.optimization.lp import solve_plan
from core.optimization.problem import BatteryParams, Objective, PriceSeries

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
TOL = 1e-6


@st.composite
def problems(draw):
    n = draw(st.integers(min_value=2, max_value=48))
    price = st.floats(min_value=-50.0, max_value=400.0, allow_nan=False)
    import_price = np.array(draw(st.lists(price, min_size=n, max_size=n)))
    spread = np.array(draw(st.lists(st.floats(0.0, 30.0), min_size=n, max_size=n)))
    load = np.array(draw(st.lists(st.floats(0.0, 80.0), min_size=n, max_size=n)))
    soc_min = draw(st.floats(0.0, 40.0))
    soc_max = draw(st.floats(soc_min, 100.0))
    battery = BatteryParams(
        capacity_kwh=draw(st.floats(1.0, 500.0)),
        max_charge_kw=draw(st.floats(0.0, 100.0)),
        max_discharge_kw=draw(st.floats(0.0, 100.0)),
        charge_efficiency=draw(st.floats(0.7, 1.0)),
        discharge_efficiency=draw(st.floats(0.7, 1.0)),
        soc_min_pct=soc_min,
        soc_max_pct=soc_max,
        initial_soc_pct=draw(st.floats(soc_min, soc_max)),
        degradation_cost_eur_per_kwh=draw(st.floats(0.0, 0.1)),
    )
    step = draw(st.sampled_from([timedelta(minutes=15), timedelta(hours=1)]))
    prices = PriceSeries(START, step, import_price, export_price_eur_per_mwh=import_price - spread, load_kw=load)
    objective = draw(st.sampled_from([Objective.MINIMIZE_COST, Objective.MAXIMIZE_REVENUE, Objective.GRID_PEAK_SHAVING]))
    return battery, prices, objective


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_plan_respects_limits_and_the_energy_model(problem):
    battery, prices, objective = problem
    plan = solve_plan(battery, prices, objective)
    device, dt = plan.device, prices.step_hours

    assert np.all(device.soc_kwh >= battery.soc_min_kwh - TOL)
    assert np.all(device.soc_kwh <= battery.soc_max_kwh + TOL)
    assert np.all((device.charge_kw >= 0) & (device.charge_kw <= battery.max_charge_kw + TOL))
    assert np.all((device.discharge_kw >= 0) & (device.discharge_kw <= battery.max_discharge_kw + TOL))

    previous = np.concatenate([[battery.initial_soc_kwh], device.soc_kwh[:-1]])
    stored = device.charge_kw * battery.charge_efficiency * dt - device.discharge_kw * dt / battery.discharge_efficiency
    np.testing.assert_allclose(device.soc_kwh - previous, stored, atol=TOL, rtol=0)

    site = np.zeros(prices.n_steps) if objective is Objective.MAXIMIZE_REVENUE else prices.load_kw
    np.testing.assert_allclose(
        plan.grid_import_kw - plan.grid_export_kw, site + device.charge_kw - device.discharge_kw, atol=TOL
    )


@settings(max_examples=25, deadline=None)
@given(problems())
def test_same_input_gives_the_identical_plan(problem):
    battery, prices, objective = problem
    first = solve_plan(battery, prices, objective)
    second = solve_plan(battery, prices, objective)
    for a, b in zip(first.devices, second.devices):
        assert np.array_equal(a.charge_kw, b.charge_kw)
        assert np.array_equal(a.discharge_kw, b.discharge_kw)
        assert np.array_equal(a.soc_kwh, b.soc_kwh)
    assert first.objective_value == second.objective_value


@settings(max_examples=25, deadline=None)
@given(problems())
def test_optimal_plan_is_never_dearer_than_idling(problem):
    battery, prices, objective = problem
    if objective is Objective.GRID_PEAK_SHAVING:
        objective = Objective.MINIMIZE_COST
    plan = solve_plan(battery, prices, objective)
    site = np.zeros(prices.n_steps) if objective is Objective.MAXIMIZE_REVENUE else prices.load_kw
    idle_cost = float(prices.import_price_eur_per_mwh @ site) * prices.step_hours / 1000
    assert plan.objective_value <= idle_cost + 1e-6
