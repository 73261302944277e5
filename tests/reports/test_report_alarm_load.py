"""Alarm load report from a generated day of alarm journal run through core's compute_alarm_load."""

from __future__ import annotations

import json
from datetime import timedelta

from core.alarms.alarm_load import compute_alarm_load
from reports.alarm_load import alarm_load_report_data, bad_actor_records, build_pdf, write_csv, write_json
from reports.demo_data import DEMO_START, demo_alarm_load, demo_alarm_transitions
from tests.reports.pdf_checks import assert_pages_look_rendered, csv_rows, pdf_text, render_pages


def test_figures_bad_actors_floods_standing_and_chattering_are_in_the_pdf(tmp_path):
    data = demo_alarm_load(operators=2)
    load = data.load
    assert load.flood_windows and load.chattering_alarms and load.standing_alarms  # the demo covers each case
    pdf = build_pdf(data, tmp_path / "load.pdf")
    text = pdf_text(pdf)
    for expected in ("EEMUA 191 figures", "Average per operator per 10 min", f"{load.average_per_operator_per_10min:.2f}",
                     f"{load.new_alarms:,}", "Top 10 bad actors", "Flood windows (1)", "imbalance_high:bess-0777",
                     "Chattering alarms (1)", "2026-03-01 10:20 +01:00"):
        assert expected in text, expected
    for alarm_id, count in load.top_alarms:
        assert alarm_id in text
    assert_pages_look_rendered(render_pages(pdf, tmp_path / "png"))


def test_csv_and_json_match_the_bad_actor_table(tmp_path):
    data = demo_alarm_load()
    assert write_csv(data, tmp_path / "b.csv") == len(data.load.top_alarms) == 10
    rows = csv_rows(tmp_path / "b.csv")
    assert [(r["alarm_id"], int(r["activations"])) for r in rows] == list(data.load.top_alarms)
    assert rows[0]["rule_id"] + ":" + rows[0]["source_id"] == rows[0]["alarm_id"]
    doc = json.loads(write_json(data, tmp_path / "b.json").read_text())
    assert doc["bad_actors"] == bad_actor_records(data)
    assert doc["flood_windows"][0]["alarms"] == data.load.flood_windows[0][1]


def test_a_quiet_period_reports_zero_load_and_no_data(tmp_path):
    start = DEMO_START + timedelta(days=5)  # after the journal: only the standing alarm exists before it
    load = compute_alarm_load(demo_alarm_transitions(), start, start + timedelta(hours=8), operators=1)
    assert load.new_alarms == 0
    data = alarm_load_report_data(load, "admin", start + timedelta(hours=9), "Europe/Berlin")
    text = pdf_text(build_pdf(data, tmp_path / "quiet.pdf"))
    assert "No data in this period" in text and "very likely acceptable" in text
    assert write_csv(data, tmp_path / "q.csv") == 0
