"""OptimizationService over real storage (SQLite and PostgreSQL): stored prices, the registered model, plans,
savings with a P10/P90 band, a shortened horizon with a note, infeasible devices explained, permissions,
cancel, and the hand-over of a plan to ScheduleService as a draft."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from core.audit.trail import AuditFilter
from core.clock import ManualClock
from core.errors import PermissionDenied
from core.forecasting.db_registry import DbRecordStore, seed_from
from core.forecasting.default_model import shipped_registry
from core.forecasting.registry import ModelRegistry
from core.market.service import MarketDataService
from core.optimization.fleet import OptimizationCancelled
from core.optimization.problem import Objective
from core.optimization.service import CancelToken, OptimizationRefused, OptimizationRequest, OptimizationService
from core.schedules.model import DeviceLimits, ScheduleSource, ScheduleState
from core.schedules.service import ScheduleService
from tests.support.people import make_people

UTC = timezone.utc
PRICES = Path(__file__).resolve().parents[2] / "fixtures" / "timeseries" / "be_day_ahead_prices_utc_2024-03_2024-05.csv"
LIMITS = {
    "bess-01": DeviceLimits("bess-01", 200.0, 100.0, 100.0, 10.0, 90.0, 0.95, 0.95, 50.0),
    "bess-02": DeviceLimits("bess-02", 100.0, 50.0, 50.0, 10.0, 90.0, 0.95, 0.95, 40.0),
    "bess-low": DeviceLimits("bess-low", 100.0, 50.0, 50.0, 10.0, 90.0, 0.95, 0.95, 3.0),
}


@pytest.fixture
def clock():
    return ManualClock(datetime(2024, 5, 31, 23, 40, tzinfo=UTC))  # the stored prices end at 2024-06-01 00:00


def build(services, clock, tmp_path, limits=LIMITS):
    people = make_people(services)
    market = MarketDataService(services.db, services.audit, services.authorizer, clock)
    registry = ModelRegistry(tmp_path / "models", clock, DbRecordStore(services.db))
    with shipped_registry() as shipped:
        seed_from(registry, shipped)
    schedules = ScheduleService(services.db, services.audit, services.authorizer, clock, limits.__getitem__)
    optimizer = OptimizationService(services.db, services.audit, services.authorizer, market, registry, schedules,
                                    limits.__getitem__, clock)
    return optimizer, market, schedules, people


@pytest.fixture
def setup(services, clock, tmp_path):
    optimizer, market, schedules, people = build(services, clock, tmp_path)
    assert market.import_file(people["tom"], PRICES).ok
    return optimizer, schedules, people


def test_run_plans_each_device_with_savings_band_and_shortens_a_too_long_horizon(setup, services):
    optimizer, _, people = setup
    seen = []
    result = optimizer.run(people["tom"], OptimizationRequest(("bess-01", "bess-02", "bess-low"),
                                                              Objective.MAXIMIZE_REVENUE, horizon_h=48),
                           progress=lambda done, total: seen.append((done, total)))
    band = result.band
    assert band.start == datetime(2024, 6, 1, tzinfo=UTC) and band.n_steps == 24 and band.degraded
    assert any("horizon shortened from 48 h to 24 h" in note for note in result.notes)
    assert np.all(band.p10 <= band.p50) and np.all(band.p50 <= band.p90) and np.any(band.p90 - band.p10 > 1)
    assert seen[-1] == (3, 3)
    ok = result.device("bess-01")
    assert ok.ok and ok.entries and ok.savings.expected_eur > 0
    assert ok.plan.device.soc_pct.min() >= 10 - 1e-6 and ok.plan.device.soc_pct.max() <= 90 + 1e-6
    low, expected, high = result.savings_eur
    assert low <= expected <= high and expected > 0
    low_soc = result.device("bess-low")
    assert not low_soc.ok and "initial SoC 3 % below minimum 10 %" in low_soc.problem
    audit = services.audit_log.query(people["chief"], AuditFilter(action="optimization.run"))
    assert audit[0].username == "tom" and audit[0].detail["infeasible"] == ["bess-low"]


def test_viewer_may_not_run_and_operator_may(setup, services):
    optimizer, _, people = setup
    request = OptimizationRequest(("bess-01",), horizon_h=12)
    with pytest.raises(PermissionDenied):
        optimizer.run(people["vic"], request)
    assert optimizer.run(people["olga"], request).device("bess-01").ok
    denied = services.audit_log.query(people["chief"], AuditFilter(action="permission.denied"))
    assert [e.username for e in denied] == ["vic"]


def test_cancel_stops_the_run(setup):
    optimizer, _, people = setup
    token = CancelToken()
    token.cancel()
    with pytest.raises(OptimizationCancelled):
        optimizer.run(people["tom"], OptimizationRequest(("bess-01", "bess-02")), cancel=token)


def test_edited_plan_is_proposed_as_an_optimizer_draft_that_only_an_operator_approves(setup):
    optimizer, schedules, people = setup
    result = optimizer.run(people["tom"], OptimizationRequest(("bess-01",), horizon_h=24))
    entries = list(result.device("bess-01").entries)
    first = entries[0]
    entries[0] = type(first)(first.start, first.end, first.mode, round(first.rate_kw / 2, 1))  # the trader's edit
    draft = optimizer.propose(people["tom"], "bess-01", entries)
    stored = schedules.get(draft.id)
    assert stored.state is ScheduleState.DRAFT and stored.schedule.source is ScheduleSource.OPTIMIZER
    assert stored.entries[0].rate_kw == round(first.rate_kw / 2, 1)
    with pytest.raises(PermissionDenied):
        schedules.approve(people["tom"], draft.id)
    assert schedules.approve(people["olga"], draft.id).state is ScheduleState.APPROVED


def test_without_stored_prices_the_run_is_refused_with_the_reason(services, clock, tmp_path):
    optimizer, _, _, people = build(services, clock, tmp_path)
    with pytest.raises(OptimizationRefused, match="import prices first"):
        optimizer.run(people["tom"], OptimizationRequest(("bess-01",)))


class CountingProcessPool(ProcessPoolExecutor):
    """A real process pool that counts the chunks handed to it: proves a run went through the processes."""

    def __init__(self):
        super().__init__(max_workers=2, mp_context=multiprocessing.get_context("forkserver"))
        self.chunks = 0

    def submit(self, fn, /, *args, **kwargs):
        self.chunks += 1
        return super().submit(fn, *args, **kwargs)


def test_sixteen_devices_run_in_worker_processes_with_the_same_plans_as_in_one_thread(
        sqlite_services, clock, tmp_path):
    limits = {f"bess-{i:02d}": DeviceLimits(f"bess-{i:02d}", 100.0 + 10 * i, 50.0, 50.0, 10.0, 90.0, 0.95, 0.95,
                                            20.0 + 4 * i) for i in range(16)}
    optimizer, market, _, people = build(sqlite_services, clock, tmp_path, limits)
    assert market.import_file(people["tom"], PRICES).ok
    pool = CountingProcessPool()
    optimizer.executor = pool
    seen = []
    try:
        pooled = optimizer.run(people["tom"], OptimizationRequest(tuple(limits), horizon_h=4),
                               progress=lambda done, total: seen.append((done, total)))
    finally:
        pool.shutdown()
    assert pool.chunks == 8  # 16 devices in 2 workers x 4 chunks
    assert seen[-1] == (16, 16) and [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert all(d.ok for d in pooled.devices) and [d.device_id for d in pooled.devices] == list(limits)
    threaded = optimizer.run(people["tom"], OptimizationRequest(tuple(limits)[:15], horizon_h=4))
    assert pool.chunks == 8  # below POOL_MIN_DEVICES: one worker thread, the pool is not used
    for device in threaded.devices:
        np.testing.assert_allclose(pooled.device(device.device_id).plan.device.net_charge_kw,
                                   device.plan.device.net_charge_kw, atol=1e-6)


def test_without_a_running_schedule_the_plan_is_compared_with_the_device_s_usual_use(setup, services, clock):
    """The baseline is business as usual from the telemetry rollups: here bess-01 discharged 50 kW every evening
    at 18:00 over the last week, so the current profile holds -50 kW of net charge at 18:00."""
    from sqlalchemy import insert

    from core.telemetry.tables import telemetry_15m
    from tests.support.rollup_rows import bucket

    optimizer, _, people = setup
    first_evening = datetime(2024, 5, 25, 18, tzinfo=UTC)
    with services.db.engine.begin() as conn:
        conn.execute(insert(telemetry_15m), [
            bucket("bess-01", first_evening + timedelta(days=d, minutes=q), 50.0) for d in range(7) for q in (0, 15, 30, 45)])
    result = optimizer.run(people["tom"], OptimizationRequest(("bess-01", "bess-02"), Objective.MAXIMIZE_REVENUE,
                                                              horizon_h=24))
    usual, idle = result.device("bess-01"), result.device("bess-02")
    hour = (datetime(2024, 6, 1, 18, tzinfo=UTC) - result.band.start) // timedelta(hours=1)
    assert usual.current_net_kw[hour] == pytest.approx(-50.0) and np.count_nonzero(usual.current_net_kw) == 1
    assert not np.any(idle.current_net_kw)  # no history: idle
