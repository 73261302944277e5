"""`gridroom report NAME` headless for every report on the seeded history (tests/support/analytics_seed.py):
the PDF's text names the devices and totals, CSV and JSON hold the same figures, and an empty range gives an
empty report that says so. Plus `gridroom report schedule add/list/remove`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from core.audit.trail import AuditFilter
from core.demo import DEMO_USERS
from core.services import CoreServices
from core.storage.database import Database
from gridroom.cli import main
from tests.reports.pdf_checks import csv_rows, pdf_text
from tests.support.analytics_seed import seed_fleet_history

ADMIN, VIEWER = DEMO_USERS[0], DEMO_USERS[3]
TWO_DAYS = ["--from", "2026-03-02", "--to", "2026-03-04"]


@pytest.fixture
def seeded_db(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    assert main(["--database", url, "demo", "--seed-only"]) == 0
    db = Database.open(url)
    seed_fleet_history(db)
    db.dispose()
    return url


@pytest.fixture
def gridroom(seeded_db, monkeypatch, capsys, tmp_path):
    """Run `gridroom --database DB ARGS` in this process as a signed-in user; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("GRIDROOM_DATA_DIR", str(tmp_path / "data"))  # this test's own settings file

    def run(*args: str, user=ADMIN) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(user.password + "\n"))
        code = main(["--database", seeded_db, *args, "--admin", user.username, "--password-stdin"])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def _audit(url: str, action: str):
    services = CoreServices.build(Database.open(url))
    try:
        with services.db.session() as s:
            return services.audit.query(s, AuditFilter(action=action))
    finally:
        services.close()


def test_analytics_report_pdf_csv_json(gridroom, seeded_db, tmp_path):
    code, out, err = gridroom("report", "analytics", *TWO_DAYS, "--price", "0.1", "--out", str(tmp_path / "a.pdf"))
    assert code == 0, err
    assert "(2 rows)" in out
    text = pdf_text(tmp_path / "a.pdf")
    for expected in ("Energy and availability", "bess-a", "bess-b", "North", "South", "150.0 kWh", "100.0 kWh",
                     "Cost of charging", "15.00 EUR", "10.00 EUR"):
        assert expected in text, expected
    code, _, err = gridroom("report", "analytics", *TWO_DAYS, "--group", "South", "--out", str(tmp_path / "a.csv"))
    assert code == 0, err
    (row,) = csv_rows(tmp_path / "a.csv")
    assert (row["device_id"], float(row["charged_kwh"]), float(row["availability_pct"])) == ("bess-b", 30.0, 50.0)
    code, _, err = gridroom("report", "analytics", "--period", "day:2026-03-02", "--out", str(tmp_path / "a.json"))
    assert code == 0, err
    doc = json.loads((tmp_path / "a.json").read_text())
    assert doc["totals"]["charged_kwh"] == pytest.approx(90.0) and doc["priced"] is False
    assert "no price series" in doc["notes"][0]
    exports = _audit(seeded_db, "report.export")
    assert {e.detail["format"] for e in exports} == {"pdf", "csv", "json"}
    assert all(e.username == ADMIN.username for e in exports)


def test_fleet_health_report_shows_state_at_the_period_end(gridroom, tmp_path):
    code, _, err = gridroom("report", "fleet_health", "--period", "day:2026-03-03", "--out", str(tmp_path / "f.pdf"))
    assert code == 0, err
    text = pdf_text(tmp_path / "f.pdf")
    assert "Fleet health" in text and "bess-a" in text and "bess-b" in text
    code, _, err = gridroom("report", "fleet_health", "--period", "day:2026-03-03", "--out", str(tmp_path / "f.csv"))
    rows = {r["device_id"]: r for r in csv_rows(tmp_path / "f.csv")}
    assert (rows["bess-a"]["status"], float(rows["bess-a"]["soc_pct"]), float(rows["bess-a"]["soh_pct"])) == ("online", 60.0, 94.5)
    assert rows["bess-a"]["active_alarms"] == "2"  # two alarms raised and never cleared by the end of 3 March
    assert (rows["bess-b"]["status"], float(rows["bess-b"]["soc_pct"])) == ("offline", 80.0)


def test_schedule_execution_report_flags_the_failed_entry(gridroom, tmp_path):
    code, _, err = gridroom("report", "schedule_execution", *TWO_DAYS, "--out", str(tmp_path / "s.pdf"))
    assert code == 0, err
    text = pdf_text(tmp_path / "s.pdf")
    assert "Schedule execution" in text and "bess-a" in text and "ERROR" in text.upper()
    gridroom("report", "schedule_execution", *TWO_DAYS, "--out", str(tmp_path / "s.csv"))
    rows = csv_rows(tmp_path / "s.csv")
    assert [(r["ack_status"], float(r["planned_kw"]), r["flagged"]) for r in rows] == [
        ("acked", 100.0, "False"), ("error", 100.0, "True")]


def test_alarm_load_report_counts_the_activations(gridroom, tmp_path):
    code, _, err = gridroom("report", "alarm_load", *TWO_DAYS, "--operators", "2", "--out", str(tmp_path / "l.json"))
    assert code == 0, err
    doc = json.loads((tmp_path / "l.json").read_text())
    assert (doc["new_alarms"], doc["operators"]) == (3, 2)
    assert {a["source_id"]: a["activations"] for a in doc["bad_actors"]} == {"bess-a": 2, "bess-a/pack3": 1}
    code, _, err = gridroom("report", "alarm_load", *TWO_DAYS, "--out", str(tmp_path / "l.pdf"))
    assert code == 0, err
    assert "cell_temp_high" in pdf_text(tmp_path / "l.pdf")


def test_audit_report_over_a_period(gridroom, tmp_path):
    code, _, err = gridroom("report", "audit", "--from", "2020-01-01", "--to", "2099-01-01", "--out", str(tmp_path / "x.pdf"))
    assert code == 0, err
    assert "demo-admin" in pdf_text(tmp_path / "x.pdf")


@pytest.mark.parametrize("name", ["analytics", "fleet_health", "schedule_execution", "alarm_load", "audit"])
def test_an_empty_range_is_an_empty_report_that_says_so(gridroom, tmp_path, name):
    out = tmp_path / f"{name}.pdf"
    code, stdout, err = gridroom("report", name, "--period", "day:2019-06-01", "--out", str(out))
    assert code == 0, err
    assert "no data in this period" in stdout
    assert "No data in this period" in pdf_text(out)


def test_bad_requests_fail_clearly(gridroom, tmp_path):
    code, _, err = gridroom("report", "analytics", "--out", str(tmp_path / "x.pdf"))
    assert code == 2 and "needs a period" in err
    code, _, err = gridroom("report", "analytics", "--period", "week:2026-99", "--out", str(tmp_path / "x.pdf"))
    assert code == 2 and "use YYYY-Www" in err
    code, _, err = gridroom("report", "analytics", *TWO_DAYS, "--out", str(tmp_path / "x.docx"))
    assert code == 2 and "cannot write '.docx'" in err
    code, _, err = gridroom("report", "analytics", *TWO_DAYS, "--device", "bess-q", "--out", str(tmp_path / "x.pdf"))
    assert code == 2 and "unknown device(s): bess-q" in err
    assert not (tmp_path / "x.pdf").exists()


FIXTURES = Path(__file__).parents[1] / "fixtures" / "timeseries"


def test_analytics_without_price_uses_the_stored_day_ahead_prices(gridroom, seeded_db, tmp_path):
    """2 March at 80 EUR/MWh at 00:00 and 250 at 12:00; 3 March from 06:00 only (its 00:00 charge is unpriced)."""
    for name in ("analytics_prices_2026-03-02.csv", "analytics_prices_2026-03-03_from_06h_ct.csv"):
        code, _, err = gridroom("market", "import", str(FIXTURES / name))
        assert code == 0, err
    code, out, err = gridroom("report", "analytics", *TWO_DAYS, "--out", str(tmp_path / "p.pdf"))
    assert code == 0, err
    text = " ".join(pdf_text(tmp_path / "p.pdf").split())
    # cost: bess-a 60 kWh x 0.08 + bess-b 30 kWh x 0.08 = 7.20; revenue: 50 x 0.25 + 50 x 0.20 = 22.50
    for expected in ("Cost of charging", "7.20 EUR", "22.50 EUR", "15.30 EUR",
                     "stored day-ahead price series 'price'", "2026-03-03 00:00-06:00 (UTC)", "60.0 kWh"):
        assert expected in text, expected
    code, _, err = gridroom("report", "analytics", *TWO_DAYS, "--out", str(tmp_path / "p.json"))
    doc = json.loads((tmp_path / "p.json").read_text())
    assert doc["priced"] is True and doc["totals"]["cost"] == pytest.approx(7.2)
    code, _, err = gridroom("report", "analytics", *TWO_DAYS, "--price", "0.1", "--out", str(tmp_path / "f.json"))
    assert json.loads((tmp_path / "f.json").read_text())["totals"]["cost"] == pytest.approx(15.0)  # --price wins
    code, _, err = gridroom("report", "analytics", *TWO_DAYS, "--price-series", "price:NL",
                            "--out", str(tmp_path / "nl.pdf"))
    assert code == 2 and "'price:NL' is not stored" in err and not (tmp_path / "nl.pdf").exists()


def test_viewers_may_export_but_not_see_prices(gridroom, tmp_path):
    code, _, err = gridroom("report", "analytics", *TWO_DAYS, "--out", str(tmp_path / "v.csv"), user=VIEWER)
    assert code == 0, err
    code, _, err = gridroom("report", "analytics", *TWO_DAYS, "--price", "0.2", "--out", str(tmp_path / "v.pdf"),
                            user=VIEWER)
    assert code == 2 and "view financials" in err


def test_schedule_add_list_remove(gridroom, seeded_db, tmp_path):
    folder = tmp_path / "daily"
    code, out, err = gridroom("report", "schedule", "add", "ops-daily", "--report", "analytics", "--every", "daily",
                              "--folder", str(folder), "--format", "pdf", "--format", "csv", "--email", "ops@example.org",
                              "--zone", "Europe/Berlin")
    assert code == 0, err
    code, out, _ = gridroom("report", "schedule", "list")
    line = out.splitlines()[1]
    assert line.split()[:6] == ["ops-daily", "analytics", "daily", "pdf,csv", "Europe/Berlin", "demo-admin"]
    assert "ops@example.org" in line
    code, _, err = gridroom("report", "schedule", "add", "ops-daily", "--report", "audit", "--every", "weekly",
                            "--folder", str(folder))
    assert code == 2 and "exists" in err
    code, _, err = gridroom("report", "schedule", "add", "Bad Name", "--report", "audit", "--every", "weekly",
                            "--folder", str(folder))
    assert code == 2 and "name 'Bad Name'" in err
    code, _, err = gridroom("report", "schedule", "add", "x", "--report", "audit", "--every", "weekly",
                            "--folder", str(folder), "--email", "not-an-address")
    assert code == 2 and "not an e-mail address" in err
    code, _, err = gridroom("report", "schedule", "remove", "ops-daily", user=VIEWER)
    assert code == 2 and "manage settings" in err
    assert gridroom("report", "schedule", "remove", "ops-daily")[0] == 0
    assert gridroom("report", "schedule", "list")[1].splitlines()[1:] == []
    assert [e.action for e in _audit(seeded_db, "report_schedule.")] == ["report_schedule.remove", "report_schedule.add"]


def test_fleet_health_lists_battery_systems_from_stored_cells(seeded_db, gridroom, tmp_path):
    from datetime import timedelta

    from tests.support.analytics_seed import DAY2, END
    from tests.support.cell_seed import LOW_VOLTAGE, WEAK_SOH, seed_cells

    db = Database.open(seeded_db)
    seed_cells(db, "bess-a", DAY2 + timedelta(hours=23, minutes=50), END + timedelta(hours=1))
    db.dispose()
    for suffix in ("pdf", "csv", "json"):
        code, _, err = gridroom("report", "fleet_health", "--period", "day:2026-03-03",
                                "--out", str(tmp_path / f"f.{suffix}"))
        assert code == 0, err
    text = pdf_text(tmp_path / "f.pdf")
    for expected in ("Battery system bess-a", "Weakest cells", "Lowest cell voltages", WEAK_SOH[0], LOW_VOLTAGE[0],
                     "81.0", "3.050", "bess-a/pack3", "cell_voltage_high", "pack03"):
        assert expected in text, expected
    assert "2.500" not in text  # pack01/cell04's collapse came after the period
    rows = {r["device_id"]: r for r in csv_rows(tmp_path / "f.csv")}
    assert rows["bess-a"]["weakest_cells"].split()[0] == WEAK_SOH[0]
    assert rows["bess-a"]["lowest_voltage_cells"].split()[0] == LOW_VOLTAGE[0]
    assert float(rows["bess-a"]["imbalance_mv"]) == pytest.approx(3327.0 - 3050.0)  # pack03/cell08 - pack03/cell01
    assert rows["bess-b"]["weakest_cells"] == ""  # not a battery system
    (system,) = json.loads((tmp_path / "f.json").read_text())["battery_systems"]
    assert [c["cell_id"] for c in system["weakest_cells"]] == rows["bess-a"]["weakest_cells"].split()
    assert [c["cell_id"] for c in system["lowest_voltage_cells"]] == rows["bess-a"]["lowest_voltage_cells"].split()
    assert system["weakest_cells"][0] | {"capacity_ah": None} == {
        "cell_id": WEAK_SOH[0], "pack": 1, "cell": 5, "soh_pct": pytest.approx(81.0), "capacity_ah": None,
        "temp_c": pytest.approx(26.5), "voltage_v": pytest.approx(3.315)}
    assert [(p["pack_id"], p["soc_pct"], p["soh_pct"]) for p in system["packs"]] == [
        ("pack01", pytest.approx(60.0), pytest.approx(98.0)), ("pack02", pytest.approx(61.0), pytest.approx(81.0)),
        ("pack03", pytest.approx(62.0), pytest.approx(99.0))]
    assert sorted((a["source_id"], a["rule_id"]) for a in system["alarms"]) == [
        ("bess-a", "cell_temp_high"), ("bess-a/pack3", "cell_voltage_high")]
    assert system["reading_at"] == "2026-03-03T23:50:10+00:00"
