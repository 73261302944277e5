"""Fleet runs: independent devices across workers keep order and report per-device failures; the
grid-coupled LP holds the shared connection limit and explains when it cannot."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from core.optimization.errors import InfeasiblePlan, InvalidOptimizationInput
from core.optimization.fleet import (
    DeviceJob,
    OptimizationCancelled,
    optimize_coupled_fleet,
    optimize_fleet,
)
from core.optimization.lp import solve_plan
from core.optimization.plan import OptimizedPlan
from core.optimization.problem import BatteryParams, Objective, PriceSeries

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _jobs(count: int) -> list[DeviceJob]:
    rng = np.random.default_rng(7)
    return [
        DeviceJob(
            BatteryParams(capacity_kwh=float(rng.uniform(20, 100)), max_charge_kw=10, max_discharge_kw=10),
            PriceSeries(START, timedelta(hours=1), rng.uniform(0, 150, 24)),
        )
        for _ in range(count)
    ]


def test_fleet_in_worker_processes_matches_one_by_one_and_keeps_order():
    jobs = _jobs(12)
    outcomes = optimize_fleet(jobs, workers=2)
    for job, outcome in zip(jobs, outcomes):
        expected = solve_plan(job.battery, job.prices)
        assert isinstance(outcome, OptimizedPlan)
        assert np.array_equal(outcome.device.net_charge_kw, expected.device.net_charge_kw)


def test_one_infeasible_device_does_not_sink_the_fleet():
    jobs = _jobs(3)
    bad = BatteryParams(capacity_kwh=10, max_charge_kw=1, max_discharge_kw=1, soc_min_pct=20, initial_soc_pct=10)
    jobs[1] = DeviceJob(bad, jobs[1].prices)
    outcomes = optimize_fleet(jobs, executor=ThreadPoolExecutor(2))
    assert isinstance(outcomes[0], OptimizedPlan) and isinstance(outcomes[2], OptimizedPlan)
    assert isinstance(outcomes[1], InfeasiblePlan)
    assert outcomes[1].constraint == "initial_soc"


def test_infeasible_outcome_keeps_its_fields_across_processes():
    bad = BatteryParams(capacity_kwh=10, max_charge_kw=1, max_discharge_kw=1, soc_min_pct=20, initial_soc_pct=10)
    [outcome] = optimize_fleet([DeviceJob(bad, _jobs(1)[0].prices)], workers=1)
    assert isinstance(outcome, InfeasiblePlan)
    assert (outcome.constraint, outcome.step_index, outcome.at) == ("initial_soc", 0, START)


def test_progress_is_reported_and_cancel_stops_the_run():
    seen: list[tuple[int, int]] = []
    with ThreadPoolExecutor(1) as pool:
        optimize_fleet(_jobs(16), executor=pool, workers=2, progress=lambda done, total: seen.append((done, total)))
        assert seen[-1] == (16, 16)
        assert [done for done, _ in seen] == sorted(done for done, _ in seen)
        with pytest.raises(OptimizationCancelled, match="cancelled after 2 of 16 devices"):
            optimize_fleet(_jobs(16), executor=pool, workers=2, cancelled=lambda: True)


def test_coupled_fleet_respects_the_shared_grid_limit():
    batteries = [
        BatteryParams(capacity_kwh=40, max_charge_kw=10, max_discharge_kw=10, charge_efficiency=1.0,
                      discharge_efficiency=1.0, soc_min_pct=0, soc_max_pct=100, initial_soc_pct=0)
        for _ in range(3)
    ]  # fmt: skip
    prices = PriceSeries(START, timedelta(hours=1), [10, 10, 10, 10, 200, 200, 200, 200], load_kw=[5] * 8)
    # Alone, each battery would charge 10 kW in every cheap hour: 35 kW of site import.
    alone = solve_plan(batteries[0], prices)
    assert alone.grid_import_kw.max() == pytest.approx(15.0)
    plan = optimize_coupled_fleet(batteries, prices, grid_import_limit_kw=20.0)
    assert plan.is_optimal
    assert plan.grid_import_kw.max() <= 20.0 + 1e-6
    # The limit leaves 15 kW of charging for 4 cheap hours: 60 kWh in total, all of which is used.
    total_charge = sum(device.charge_kw for device in plan.devices)
    np.testing.assert_allclose(total_charge[:4], 15.0, atol=1e-6)
    assert sum(device.soc_kwh[3] for device in plan.devices) == pytest.approx(60.0, abs=1e-6)


def test_coupled_fleet_names_the_hour_where_load_alone_breaks_the_limit():
    batteries = [BatteryParams(capacity_kwh=40, max_charge_kw=10, max_discharge_kw=10) for _ in range(2)]
    prices = PriceSeries(START, timedelta(hours=1), [50] * 4, load_kw=[10, 10, 100, 10])
    with pytest.raises(InfeasiblePlan) as error:
        optimize_coupled_fleet(batteries, prices, grid_import_limit_kw=50.0)
    assert error.value.constraint == "grid_import_limit"
    assert error.value.step_index == 2
    assert "2026-01-01 02:00 UTC" in str(error.value) and "still imports 80 kW" in str(error.value)


def test_coupled_fleet_explains_a_limit_that_stored_energy_cannot_cover():
    # Two hours 10 kW over the limit need 20 kWh; the batteries hold 10 kWh above their minimum.
    batteries = [
        BatteryParams(capacity_kwh=10, max_charge_kw=0, max_discharge_kw=20, charge_efficiency=1.0,
                      discharge_efficiency=1.0, soc_min_pct=50, soc_max_pct=100, initial_soc_pct=100)
        for _ in range(2)
    ]  # fmt: skip
    prices = PriceSeries(START, timedelta(hours=1), [50] * 4, load_kw=[10, 10, 60, 60])
    with pytest.raises(InfeasiblePlan) as error:
        optimize_coupled_fleet(batteries, prices, grid_import_limit_kw=50.0)
    assert error.value.constraint == "grid_import_limit"
    assert error.value.step_index in (2, 3)
    assert "10 kW over" in str(error.value)


def test_coupled_fleet_names_the_device_with_bad_soc():
    batteries = [
        BatteryParams(capacity_kwh=10, max_charge_kw=1, max_discharge_kw=1),
        BatteryParams(capacity_kwh=10, max_charge_kw=1, max_discharge_kw=1, soc_max_pct=50, initial_soc_pct=60),
    ]
    with pytest.raises(InfeasiblePlan, match="device 1: initial SoC 60 % above maximum 50 %") as error:
        optimize_coupled_fleet(batteries, PriceSeries(START, timedelta(hours=1), [1, 2]), 100.0)
    assert error.value.device_index == 1


def test_bad_fleet_arguments_are_refused():
    with pytest.raises(InvalidOptimizationInput, match="workers"):
        optimize_fleet(_jobs(1), workers=0)
    with pytest.raises(InvalidOptimizationInput, match="grid_import_limit_kw"):
        optimize_coupled_fleet([_jobs(1)[0].battery], _jobs(1)[0].prices, float("nan"))
    assert optimize_fleet([]) == []


def test_coupled_peak_shaving_spreads_the_peak_over_devices():
    batteries = [
        BatteryParams(capacity_kwh=20, max_charge_kw=0, max_discharge_kw=50, charge_efficiency=1.0,
                      discharge_efficiency=1.0, soc_min_pct=0, soc_max_pct=100, initial_soc_pct=100)
        for _ in range(2)
    ]  # fmt: skip
    prices = PriceSeries(START, timedelta(hours=1), [50] * 4, load_kw=[10, 10, 70, 10])
    plan = optimize_coupled_fleet(batteries, prices, 1000.0, Objective.GRID_PEAK_SHAVING)
    assert plan.objective_value == pytest.approx(30.0, abs=1e-6)  # 70 - 2 x 20 kWh
