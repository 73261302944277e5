"""Schedule execution report: deviations beyond tolerance and bad acknowledgements are flagged."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

from reports.demo_data import demo_meta, demo_schedule_execution
from reports.schedule_execution import (
    ExecutionRow, ScheduleExecutionReportData, build_pdf, device_records, entry_records, write_csv, write_json,
)
from tests.reports.pdf_checks import assert_pages_look_rendered, csv_rows, pdf_text, render_pages

T = datetime(2026, 3, 1, 10, tzinfo=timezone.utc)


def _row(planned, actual, status="acked", device="d1"):
    return ExecutionRow(device, T, T + timedelta(minutes=30), planned, actual, status)


def test_flags_follow_the_tolerance_and_the_ack_status():
    data = ScheduleExecutionReportData(demo_meta(), (
        _row(100.0, 104.9), _row(100.0, 94.0), _row(0.0, 0.8), _row(0.0, 1.5), _row(-200.0, -200.0, "error"),
        _row(50.0, None, "missing"),
    ), tolerance_pct=5.0, tolerance_kw=1.0)
    records = entry_records(data)
    assert [r["flagged"] for r in records] == [False, True, False, True, True, True]
    assert records[1]["deviation_kw"] == -6.0 and records[1]["deviation_pct"] == -6.0
    assert records[2]["deviation_pct"] is None  # no percentage of a zero setpoint
    per_device = device_records(data)
    assert per_device[0]["planned_kwh"] == (100 + 100 + 0 + 0 - 200 + 50) * 0.5
    assert per_device[0]["missing_acks"] == 2


def test_pdf_csv_and_json_show_the_same_entries(tmp_path):
    data = demo_schedule_execution(20)
    records = entry_records(data)
    pdf = build_pdf(data, tmp_path / "s.pdf")
    text = pdf_text(pdf)
    assert text.count("FLAG") == sum(r["flagged"] for r in records)
    assert "Entries without a good acknowledgement" in text
    assert re.search(rf"Schedule entries\s+{len(records)}\b", text)
    assert "2026-03-01 07:00 +01:00" in text  # first entry 06:00 UTC, shown in Berlin time
    assert_pages_look_rendered(render_pages(pdf, tmp_path / "png"))
    assert write_csv(data, tmp_path / "s.csv") == len(records)
    rows = csv_rows(tmp_path / "s.csv")
    assert [r["device_id"] for r in rows] == [r["device_id"] for r in records]
    assert sum(r["flagged"] == "True" for r in rows) == text.count("FLAG")
    doc = json.loads(write_json(data, tmp_path / "s.json").read_text())
    assert len(doc["entries"]) == len(records) and doc["entries"][0]["entry_start"] == "2026-03-01T06:00:00+00:00"


def test_no_entries_gives_a_report_that_says_so(tmp_path):
    text = pdf_text(build_pdf(ScheduleExecutionReportData(demo_meta(), ()), tmp_path / "e.pdf"))
    assert "No data in this period" in text
