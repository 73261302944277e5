"""The name -> report registry the CLI uses, and run_report's choice of format by suffix."""

from __future__ import annotations

import json

import pytest

from reports.meta import ReportError
from reports.registry import get_report, report_names, run_report
from tests.reports.pdf_checks import pdf_text


def test_every_report_is_registered():
    assert report_names() == ["alarm_load", "analytics", "audit", "fleet_health", "schedule_execution"]


@pytest.mark.parametrize("name", ["alarm_load", "analytics", "audit", "schedule_execution"])
def test_run_report_writes_pdf_csv_and_json_by_suffix(name, tmp_path):
    spec = get_report(name)
    data = spec.demo()
    pdf = run_report(name, data, tmp_path / f"{name}.PDF")
    assert pdf.read_bytes().startswith(b"%PDF") and spec.title in pdf_text(pdf)
    csv_path = run_report(name, data, tmp_path / f"{name}.csv")
    assert csv_path.read_text(encoding="utf-8").count("\n") >= 2
    doc = json.loads(run_report(name, data, tmp_path / f"{name}.json").read_text())
    assert doc["report"] == name and doc["meta"]["generated_by"] == "admin"


def test_unknown_names_wrong_data_and_unknown_suffixes_are_refused(tmp_path):
    with pytest.raises(ReportError, match="known reports: alarm_load, analytics"):
        get_report("fleet")
    with pytest.raises(ReportError, match="needs AnalyticsReportData"):
        run_report("analytics", get_report("audit").demo(), tmp_path / "x.pdf")
    with pytest.raises(ReportError, match="cannot write '.xlsx'"):
        run_report("audit", get_report("audit").demo(), tmp_path / "x.xlsx")
    assert not list(tmp_path.iterdir())
