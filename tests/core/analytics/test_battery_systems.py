"""Battery systems at a period's end, on SQLite and PostgreSQL: the newest pack readings before the instant
(stored through the real TelemetryWriter), SoC/SoH carried from the pack's slow row, and the alarms of the
system and its parts that were active then."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from core.analytics import AnalyticsRequest, AnalyticsService, Period
from tests.support.analytics_seed import DAY2, END, seed_fleet_history
from tests.support.cell_seed import CELLS, LOW_VOLTAGE, PACKS, WEAK_SOH, seed_cells

STRONG = "Correct-Horse-42"


@pytest.fixture
def world(services, clock):
    services.users.create_first_admin("chief", STRONG)
    admin = services.users.authenticate("chief", STRONG)
    seed_fleet_history(services.db)
    seed_cells(services.db, "bess-a", DAY2 + timedelta(hours=23, minutes=50), END + timedelta(hours=1))
    clock.advance(END + timedelta(hours=2) - clock.now())
    return AnalyticsService(services.db, services.audit, services.authorizer, clock), admin


def test_newest_readings_before_the_period_end_with_active_alarms(world):
    service, admin = world
    (system,) = service.battery_systems(admin, AnalyticsRequest(Period.custom(DAY2, END)))  # bess-b has no cells
    assert (system.system_id, system.name) == ("bess-a", "Unit A")
    assert system.reading_at == DAY2 + timedelta(hours=23, minutes=50, seconds=10)
    assert [p.pack for p in system.packs] == list(range(PACKS))
    weak = system.packs[WEAK_SOH[1]]
    assert weak.soh_pct[WEAK_SOH[2]] == pytest.approx(WEAK_SOH[3])  # carried from the row 10 s before
    assert float(np.nanmin(system.packs[0].voltage_v)) == pytest.approx(3.30)  # not the later 2.5 V
    assert system.packs[LOW_VOLTAGE[1]].voltage_v[LOW_VOLTAGE[2]] == pytest.approx(LOW_VOLTAGE[3], abs=1e-3)
    assert len(weak.voltage_v) == CELLS
    assert sorted((a.source_id, a.rule_id, a.state) for a in system.alarms) == [
        ("bess-a", "cell_temp_high", "UNACK"), ("bess-a/pack3", "cell_voltage_high", "UNACK")]


def test_a_period_before_any_cell_reading_has_no_systems(world):
    service, admin = world
    assert service.battery_systems(admin, AnalyticsRequest(Period.custom(DAY2, DAY2 + timedelta(hours=1)))) == []
    later = service.battery_systems(admin, AnalyticsRequest(Period.custom(END, END + timedelta(hours=2))))
    assert float(np.nanmin(later[0].packs[0].voltage_v)) == pytest.approx(2.5)  # the later reading, now in range
