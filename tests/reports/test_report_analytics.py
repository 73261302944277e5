"""Energy and availability report: totals, groups and devices agree across PDF, CSV and JSON."""

from __future__ import annotations

import json
import math

import pytest

from reports.analytics import AnalyticsReportData, build_pdf, group_records, totals, write_csv, write_json
from reports.demo_data import demo_analytics, demo_meta
from tests.reports.pdf_checks import assert_pages_look_rendered, csv_rows, pdf_text, render_pages


def test_group_totals_add_up_to_the_fleet_totals():
    data = demo_analytics(40, 7)
    t, groups = totals(data), group_records(data)
    assert sum(g["devices"] for g in groups) == 40
    assert sum(g["charged_kwh"] for g in groups) == pytest.approx(t["charged_kwh"])
    assert sum(g["net"] for g in groups) == pytest.approx(t["revenue"] - t["cost"])
    assert 85 < t["round_trip_pct"] < 95


def test_pdf_shows_totals_groups_devices_and_the_daily_chart(tmp_path):
    data = demo_analytics(60, 14)
    t = totals(data)
    pdf = build_pdf(data, tmp_path / "a.pdf")
    text = pdf_text(pdf)
    for expected in ("Daily energy", "Per group", "Per device", "Frequency reserve", "bess-0060",
                     f"{t['charged_kwh'] / 1000:,.2f} MWh", f"{t['net']:,.2f} EUR", "01 Mar"):
        assert expected in text, expected
    assert_pages_look_rendered(render_pages(pdf, tmp_path / "png"))
    assert write_csv(data, tmp_path / "a.csv") == 60
    rows = csv_rows(tmp_path / "a.csv")
    assert all(r["device_id"] in text for r in rows)
    assert sum(float(r["net"]) for r in rows) == pytest.approx(t["net"], abs=0.05)
    doc = json.loads(write_json(data, tmp_path / "a.json").read_text())
    assert len(doc["daily"]) == 14 and doc["daily"][0]["day"] == "2026-03-01"


def test_empty_period_says_no_data_and_json_has_no_nan(tmp_path):
    empty = AnalyticsReportData(demo_meta(), devices=())
    assert "No data in this period" in pdf_text(build_pdf(empty, tmp_path / "e.pdf"))
    assert math.isnan(totals(empty)["round_trip_pct"])
    doc = json.loads(write_json(empty, tmp_path / "e.json").read_text())
    assert doc["totals"]["round_trip_pct"] is None


def test_anomalies_are_listed_with_their_reason_and_money_is_left_out_without_prices(tmp_path):
    import dataclasses

    data = demo_analytics(60, 14)
    spike = next(a for a in data.anomalies if a.device_id == "bess-0008")
    assert spike.robust_z > 10 and "above the median" in spike.reason
    build_pdf(data, tmp_path / "a.pdf")
    text = pdf_text(tmp_path / "a.pdf")
    assert "Anomalies flagged" in text and "Robust z" in text and "bess-0008's days" in " ".join(text.split())
    unpriced = dataclasses.replace(data, priced=False, notes=("no price series given: cost and revenue are not computed",))
    build_pdf(unpriced, tmp_path / "u.pdf")
    text = pdf_text(tmp_path / "u.pdf")
    assert "Cost of charging" not in text and "Revenue (EUR)" not in text and "no price series given" in text
    write_json(unpriced, tmp_path / "u.json")
    doc = json.loads((tmp_path / "u.json").read_text())
    assert doc["priced"] is False and doc["anomalies"][0]["reason"]
