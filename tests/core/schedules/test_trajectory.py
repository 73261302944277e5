"""SoC trajectory: energy balance with efficiencies, running entries, overrun detection."""

import pytest

from core.schedules.model import Mode
from core.schedules.trajectory import UnsimulatableSchedule, simulate
from tests.core.schedules.factories import NOW, at, entry, limits


def test_charge_and_discharge_with_efficiencies():
    lim = limits(capacity_kwh=400.0, charge_efficiency=0.9, discharge_efficiency=0.8, current_soc_pct=50.0)
    trajectory = simulate([entry(13, 14, rate_kw=100), entry(15, 17, mode=Mode.DISCHARGE, rate_kw=40)], lim)
    first, second = trajectory.steps
    # 100 kWh from the grid stores 90 kWh = 22.5 % of 400 kWh.
    assert (first.start_soc_pct, first.end_soc_pct) == (50.0, pytest.approx(72.5))
    # 80 kWh delivered draws 100 kWh from the cells = 25 %.
    assert second.start_soc_pct == first.end_soc_pct and second.end_soc_pct == pytest.approx(47.5)
    assert (trajectory.charged_kwh, trajectory.discharged_kwh) == (100.0, 80.0)
    assert trajectory.end_soc_pct == pytest.approx(47.5) and trajectory.first_violation is None
    assert trajectory.points == ((at(13), 50.0), (at(14), first.end_soc_pct),
                                 (at(15), first.end_soc_pct), (at(17), second.end_soc_pct))


def test_now_skips_finished_entries_and_trims_the_running_one():
    trajectory = simulate([entry(9, 10), entry(11, 13, rate_kw=100)], limits(), NOW)
    [step] = trajectory.steps
    assert (step.entry_index, step.start, step.energy_kwh) == (2, NOW, 100.0)
    assert trajectory.start_time == NOW


def test_overrun_reports_crossing_and_is_not_clamped():
    trajectory = simulate([entry(13, 15, rate_kw=200), entry(15, 16, rate_kw=200)], limits(current_soc_pct=60.0))
    violation = trajectory.first_violation
    # 60 % + 20 %/h: 90 % is crossed 1.5 h into entry 1, which would end at 100 %.
    assert (violation.entry_index, violation.bound, violation.bound_pct) == (1, "max", 90.0)
    assert violation.crossing_time == at(14.5) and violation.reached_time == at(15)
    assert violation.reached_soc_pct == pytest.approx(100.0)
    assert trajectory.end_soc_pct == pytest.approx(120.0)  # what the schedule asks for, not what the BMS allows


def test_charging_a_battery_below_its_minimum_is_not_an_overrun():
    assert simulate([entry(13, 14, rate_kw=10)], limits(current_soc_pct=5.0)).first_violation is None


def test_empty_schedule():
    trajectory = simulate([], limits())
    assert trajectory.steps == () and trajectory.end_soc_pct == 50.0 and trajectory.start_time is None


@pytest.mark.parametrize("entries", [[entry(14, 15), entry(13, 14)], [entry(14, 15, mode=5)], [entry(15, 14)],
                                     [entry(13, 14, rate_kw=float("nan"))]])
def test_malformed_entries_are_refused(entries):
    with pytest.raises(UnsimulatableSchedule, match="validate the entries first"):
        simulate(entries, limits())
