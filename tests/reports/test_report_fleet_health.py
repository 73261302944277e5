"""Fleet health report from 1,000 generated devices and two cell-level battery systems."""

from __future__ import annotations

import json
import re

import pytest

from reports.demo_data import demo_battery_system, demo_fleet_health, demo_meta
from reports.fleet_health import FleetHealthReportData, battery_system_health, build_pdf, summary, write_csv, write_json
from tests.reports.pdf_checks import assert_pages_look_rendered, csv_rows, pdf_text, render_pages


@pytest.fixture(scope="module")
def fleet() -> FleetHealthReportData:
    return demo_fleet_health(1000)


@pytest.fixture(scope="module")
def rendered(fleet, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fleet")
    pdf = build_pdf(fleet, folder / "fleet.pdf")
    return pdf, pdf_text(pdf), folder


def test_pdf_lists_every_device_once_with_totals_and_headings(fleet, rendered):
    _, text, _ = rendered
    totals = summary(fleet)
    for heading in ("Fleet health", "Summary", "State of health distribution", "Mean state of charge by site",
                    "Battery system bs-01", "Weakest cells", "Hottest cells", "Devices"):
        assert heading in text
    device_section = text[text.rindex("Devices\n"):] if "Devices\n" in text else text
    ids = re.findall(r"\bbess-\d{4}\b", device_section)
    assert ids == [d.device_id for d in fleet.devices]
    assert re.search(r"Devices\s+1,000", text)
    assert re.search(rf"Offline\s+{totals['offline']}\b", text)
    assert re.search(rf"Active alarms\s+{totals['active_alarms']}\b", text)
    assert f"{totals['mean_soh_pct']:.1f} %" in text


def test_pages_render_to_non_trivial_images(rendered):
    pdf, _, folder = rendered
    pngs = render_pages(pdf, folder / "png")
    assert len(pngs) >= 15  # 1,000 rows cannot fit on a few pages: the table did split
    assert_pages_look_rendered(pngs)


def test_csv_and_json_hold_the_same_device_rows_as_the_pdf(fleet, rendered, tmp_path):
    _, text, _ = rendered
    assert write_csv(fleet, tmp_path / "f.csv") == 1000
    rows = csv_rows(tmp_path / "f.csv")
    first = fleet.devices[0]
    assert rows[0]["device_id"] == first.device_id and float(rows[0]["soh_pct"]) == first.soh_pct
    pdf_line = next(line for line in text.splitlines() if re.search(rf"\b{first.device_id}\b", line)
                    and first.name in line)
    assert f"{first.soc_pct:.1f}" in pdf_line and f"{first.soh_pct:.1f}" in pdf_line and first.status in pdf_line
    doc = json.loads(write_json(fleet, tmp_path / "f.json").read_text())
    assert [d["device_id"] for d in doc["devices"]] == [r["device_id"] for r in rows]
    assert doc["summary"]["devices"] == 1000 and len(doc["battery_systems"]) == 2
    assert doc["meta"]["period_start"] == "2026-03-01T00:00:00+00:00"


def test_battery_system_health_finds_the_injected_weak_and_hot_cells():
    health = battery_system_health("bs-x", "test", demo_battery_system(seed=1, weak_cell=(3, 2), hot_cell=(60, 9)))
    assert (health.weakest_cells[0].pack, health.weakest_cells[0].cell) == (3, 2)
    assert (health.hottest_cells[0].pack, health.hottest_cells[0].cell) == (60, 9)
    assert health.weakest_cells[0].capacity_ah < health.weakest_cells[1].capacity_ah
    assert health.imbalance_mv > 0 and 0 < health.soc_pct < 100


def test_empty_fleet_says_no_data(tmp_path):
    pdf = build_pdf(FleetHealthReportData(demo_meta(), devices=()), tmp_path / "empty.pdf")
    text = pdf_text(pdf)
    assert "No data in this period" in text and "Fleet health" in text
    assert write_csv(FleetHealthReportData(demo_meta(), devices=()), tmp_path / "e.csv") == 0
