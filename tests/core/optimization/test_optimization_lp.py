"""Small LPs whose optimum can be worked out by hand, infeasibility messages, and the time budget."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from core.optimization.errors import InfeasiblePlan, InvalidOptimizationInput
from core.optimization.lp import solve_plan
from core.optimization.plan import SolveStatus
from core.optimization.problem import BatteryParams, Objective, PriceSeries, SolveOptions

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_two_price_levels_charge_cheap_and_discharge_dear_at_the_right_rates(hourly, ideal_battery):
    battery = ideal_battery(charge_efficiency=0.9, discharge_efficiency=0.9)
    plan = solve_plan(battery, hourly([20, 20, 20, 20, 100, 100, 100, 100]))
    device = plan.device
    # 4 h x 5 kW (the charge limit) stores 18 kWh at 90 %; that returns 16.2 kWh at 90 %, at most
    # 10 kW an hour, as early as possible (the documented tie-break).
    np.testing.assert_allclose(device.charge_kw, [5, 5, 5, 5, 0, 0, 0, 0], atol=1e-7)
    np.testing.assert_allclose(device.discharge_kw, [0, 0, 0, 0, 10, 6.2, 0, 0], atol=1e-7)
    np.testing.assert_allclose(device.soc_kwh, [4.5, 9, 13.5, 18, 18 - 10 / 0.9, 0, 0, 0], atol=1e-7)
    assert plan.status is SolveStatus.OPTIMAL
    assert plan.objective_value == pytest.approx((20 * 20 - 100 * 16.2) / 1000, abs=1e-6)


def test_zero_spread_with_degradation_cost_idles(hourly, ideal_battery):
    # Terminal = initial: otherwise selling the stored energy would rightly pay.
    battery = ideal_battery(initial_soc_pct=50.0, terminal_soc_pct=50.0, degradation_cost_eur_per_kwh=0.01)
    plan = solve_plan(battery, hourly([50.0] * 6))
    assert np.all(plan.device.charge_kw == 0) and np.all(plan.device.discharge_kw == 0)
    np.testing.assert_allclose(plan.device.soc_kwh, 10.0)


def test_spread_below_degradation_cost_idles_and_above_it_trades(hourly, ideal_battery):
    battery = ideal_battery(degradation_cost_eur_per_kwh=0.03)  # 0.06 EUR per kWh cycled
    idle = solve_plan(battery, hourly([40, 90, 40, 90]))  # 0.05 EUR/kWh spread
    assert idle.device.charge_kw.sum() == 0
    trades = solve_plan(battery, hourly([40, 110, 40, 110]))  # 0.07 EUR/kWh spread
    assert trades.device.charge_kw.sum() > 0


def test_equal_cheap_hours_resolve_to_the_earliest(hourly, ideal_battery):
    battery = ideal_battery(capacity_kwh=5.0)
    plan = solve_plan(battery, hourly([10, 10, 10, 90]))
    np.testing.assert_allclose(plan.device.charge_kw, [5, 0, 0, 0], atol=1e-9)


def test_peak_shaving_without_recharge_flattens_the_peak_to_what_stored_energy_allows(hourly, ideal_battery):
    # 20 kWh stored, no charging: the 40 kW hour can only come down to 40 - 20 = 20 kW.
    battery = ideal_battery(initial_soc_pct=100.0, max_charge_kw=0.0, max_discharge_kw=50.0)
    plan = solve_plan(battery, hourly([50] * 4, load_kw=[10, 10, 40, 10]), Objective.GRID_PEAK_SHAVING)
    assert plan.objective_value == pytest.approx(20.0, abs=1e-6)
    np.testing.assert_allclose(plan.grid_import_kw, [10, 10, 20, 10], atol=1e-6)


def test_peak_shaving_with_recharge_flattens_the_peak_to_a_level(hourly, ideal_battery):
    # 20 kWh stored plus what it can charge in hours 0-1 under the peak P: 20 + 2(P-10) >= 40 - P -> P = 40/3.
    battery = ideal_battery(capacity_kwh=100.0, initial_soc_pct=20.0, max_charge_kw=50.0, max_discharge_kw=50.0)
    plan = solve_plan(battery, hourly([50] * 4, load_kw=[10, 10, 40, 10]), Objective.GRID_PEAK_SHAVING)
    assert plan.grid_import_kw.max() == pytest.approx(40 / 3, abs=1e-5)
    np.testing.assert_allclose(plan.grid_import_kw[:3], 40 / 3, atol=1e-5)


def test_demand_charge_makes_cost_minimization_shave_the_peak(hourly, ideal_battery):
    battery = ideal_battery(initial_soc_pct=100.0, max_charge_kw=0.0, max_discharge_kw=50.0)
    prices = hourly([50] * 4, load_kw=[10, 10, 40, 10], demand_charge_eur_per_kw=10.0)
    plan = solve_plan(battery, prices, Objective.MINIMIZE_COST)
    assert plan.grid_import_kw.max() == pytest.approx(20.0, abs=1e-6)
    assert plan.objective_value == pytest.approx(50 * 50 / 1000 + 10 * 20, abs=1e-6)


def test_setpoint_tracking_follows_a_reachable_setpoint_exactly(hourly, ideal_battery):
    battery = ideal_battery(initial_soc_pct=50.0)
    prices = hourly([50] * 4, load_kw=[10] * 4, grid_setpoint_kw=[10, 15, 5, 10])
    plan = solve_plan(battery, prices, Objective.GRID_SETPOINT_TRACKING)
    assert plan.objective_value == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(plan.device.net_charge_kw, [0, 5, -5, 0], atol=1e-6)


def test_setpoint_tracking_needs_a_setpoint(hourly, ideal_battery):
    with pytest.raises(InvalidOptimizationInput, match="grid_setpoint_kw"):
        solve_plan(ideal_battery(), hourly([50] * 4), Objective.GRID_SETPOINT_TRACKING)


def test_revenue_objective_ignores_site_load(hourly, ideal_battery):
    prices = hourly([20, 100], load_kw=[100, 100])
    plan = solve_plan(ideal_battery(), prices, Objective.MAXIMIZE_REVENUE)
    np.testing.assert_allclose(plan.device.net_charge_kw, [5, -5], atol=1e-9)
    np.testing.assert_allclose(plan.grid_import_kw, [5, 0], atol=1e-9)


def test_initial_soc_below_minimum_is_explained(hourly, ideal_battery):
    with pytest.raises(InfeasiblePlan) as error:
        solve_plan(ideal_battery(initial_soc_pct=3.0, soc_min_pct=5.0), hourly([1, 2]))
    assert str(error.value) == "initial SoC 3 % below minimum 5 %"
    assert (error.value.constraint, error.value.step_index, error.value.at) == ("initial_soc", 0, START)


def test_unreachable_terminal_soc_names_the_limit_and_the_hour():
    battery = BatteryParams(
        capacity_kwh=100, max_charge_kw=1.0, max_discharge_kw=1.0, charge_efficiency=1.0,
        soc_min_pct=5, soc_max_pct=95, initial_soc_pct=20, terminal_soc_pct=90,
    )  # fmt: skip
    prices = PriceSeries(START, timedelta(minutes=15), [50.0] * 96)
    with pytest.raises(InfeasiblePlan) as error:
        solve_plan(battery, prices)
    assert str(error.value) == (
        "terminal SoC 90 % unreachable: max charge 1 kW x 24 h from 20 % reaches only 44 % by 2026-01-02 00:00 UTC"
    )
    assert error.value.constraint == "terminal_soc"
    assert error.value.step_index == 95
    assert error.value.at == START + timedelta(days=1)


def test_terminal_soc_above_maximum_is_explained(hourly, ideal_battery):
    with pytest.raises(InfeasiblePlan, match="terminal SoC 95 % above maximum 90 %"):
        solve_plan(ideal_battery(soc_max_pct=90, terminal_soc_pct=95), hourly([1, 2]))


def test_reachable_terminal_soc_is_met(hourly, ideal_battery):
    plan = solve_plan(ideal_battery(terminal_soc_pct=50), hourly([90, 10, 90, 90]))
    assert plan.device.soc_pct[-1] >= 50 - 1e-7


def test_exhausted_time_budget_returns_a_feasible_plan_flagged_as_fallback():
    battery = BatteryParams(capacity_kwh=100, max_charge_kw=20, max_discharge_kw=20, initial_soc_pct=20,
                            terminal_soc_pct=60)  # fmt: skip
    prices = PriceSeries(START, timedelta(minutes=15), np.linspace(10, 200, 96))
    plan = solve_plan(battery, prices, options=SolveOptions(time_limit_s=0.0))
    assert plan.status is SolveStatus.TIME_LIMIT_FALLBACK
    assert not plan.is_optimal
    assert plan.device.soc_pct.min() >= battery.soc_min_pct - 1e-9
    assert plan.device.soc_pct.max() <= battery.soc_max_pct + 1e-9
    assert plan.device.soc_pct[-1] >= 60 - 1e-9
    assert plan.device.charge_kw.max() <= 20 + 1e-9
    # The same request with time to spare is optimal and no dearer than the fallback.
    optimal = solve_plan(battery, prices)
    assert optimal.is_optimal
    assert optimal.objective_value <= plan.objective_value + 1e-9
