"""The watched import folder switched on: `gridroom market watch` stores it (permission + audit), and a runtime
built the way the desktop app and `gridroom serve` build it imports a file dropped there."""

from __future__ import annotations

import io
import threading

import pytest

from core.audit.trail import AuditFilter
from core.market.service import PRICE_SERIES
from core.settings import MarketImportSource
from gridroom.cli import main
from gridroom.composition import build_fleet, build_market, build_runtime
from gridroom.fleet_runtime import FleetSettings
from gridroom.market_runtime import MarketImportsPolled, market_settings
from tests.support.people import STRONG, make_people

GOOD = "timestamp_utc,price_eur_per_mwh\n2024-03-01T00:00:00Z,61.42\n2024-03-01T01:00:00Z,58.14\n"


@pytest.fixture(autouse=True)
def own_settings_file(monkeypatch, tmp_path):
    """A settings file of this test's own: the suite's data folder is shared by every test."""
    monkeypatch.setenv("GRIDROOM_DATA_DIR", str(tmp_path / "data"))


def cli(monkeypatch, url: str, password: str, *argv: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["--database", url, *argv, "--password-stdin"])


def test_market_watch_sets_the_folder_and_the_runtime_built_like_the_app_imports_a_dropped_file(
        sqlite_services, sqlite_database_url, tmp_path, monkeypatch, capsys):
    people = make_people(sqlite_services)
    folder = tmp_path / "drop"
    folder.mkdir()
    assert cli(monkeypatch, sqlite_database_url, STRONG + "x", "market", "watch", str(folder), "--as", "tom") == 0
    assert f"import folder: {folder}" in capsys.readouterr().out
    assert MarketImportSource.load().folder == str(folder)

    # As gridroom/commands/app.py and serve.py do.
    fleet = build_fleet(sqlite_services, FleetSettings())
    market = build_market(sqlite_services, market_settings())
    runtime = build_runtime(sqlite_services, fleet, market)
    (folder / "prices.csv").write_text(GOOD)
    polled = threading.Event()
    market.poll_listeners.append(lambda report: report.imported and polled.set())
    runtime.start()
    try:
        assert polled.wait(30), "the runtime did not import the dropped file"
    finally:
        runtime.stop()
    assert (folder / "processed" / "prices.csv").exists()
    reports = [e.report for e in runtime.drain_events() if isinstance(e, MarketImportsPolled)]
    assert [r.counts.inserted for r in reports[0].imported] == [2]
    runs = market.market.import_runs(people["tom"])
    assert [(r.trigger, r.actor, r.status) for r in runs] == [("watched_folder", "system", "imported")]
    audit = sqlite_services.audit_log.query(people["chief"], AuditFilter(action="settings.market_import"))
    assert audit[0].username == "tom" and audit[0].detail["folder"] == ["", str(folder)]


def test_only_traders_and_admins_change_the_source_and_bad_values_are_named(
        sqlite_services, sqlite_database_url, tmp_path, monkeypatch, capsys):
    make_people(sqlite_services)
    folder = tmp_path / "drop"
    folder.mkdir()
    assert cli(monkeypatch, sqlite_database_url, STRONG + "x", "market", "watch", str(folder), "--as", "olga") == 2
    assert "not allowed" in capsys.readouterr().err
    assert cli(monkeypatch, sqlite_database_url, STRONG + "x", "market", "watch", str(tmp_path / "nope"),
               "--as", "tom") == 2
    assert "is not an existing directory" in capsys.readouterr().err
    assert cli(monkeypatch, sqlite_database_url, STRONG, "market", "url", "file:///etc/passwd", "--as", "chief") == 2
    assert "must be http:// or https://" in capsys.readouterr().err
    assert MarketImportSource.load() == MarketImportSource()  # nothing was stored by a refusal
    assert cli(monkeypatch, sqlite_database_url, STRONG, "market", "url", "https://example.org/p.csv",
               "--as", "chief") == 0
    assert cli(monkeypatch, sqlite_database_url, STRONG + "x", "market", "watch", str(folder), "--as", "tom") == 0
    assert MarketImportSource.load() == MarketImportSource(str(folder), "https://example.org/p.csv")


def test_market_import_cli_stores_a_file_and_names_the_line_of_a_bad_one(
        sqlite_services, sqlite_database_url, tmp_path, monkeypatch, capsys):
    make_people(sqlite_services)
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(GOOD)
    bad.write_text(GOOD + "2024-03-01T02:00:00Z,abc\n")
    assert cli(monkeypatch, sqlite_database_url, STRONG + "x", "market", "import", str(good), "--as", "tom") == 0
    assert "2 new" in capsys.readouterr().out
    assert cli(monkeypatch, sqlite_database_url, STRONG + "x", "market", "import", str(bad), "--as", "tom") == 2
    err = capsys.readouterr().err
    assert "line 4" in err and "nothing stored" in err
    from datetime import datetime, timezone

    from core.market.service import MarketDataService
    market = MarketDataService(sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer)
    start = datetime(2024, 3, 1, tzinfo=timezone.utc)
    assert list(market.read_series(PRICE_SERIES, start, start.replace(hour=3)).values[:2]) == [61.42, 58.14]


def test_the_url_from_the_settings_is_fetched_by_the_market_runtime(
        sqlite_services, sqlite_database_url, monkeypatch, capsys):
    from tests.support.http_server import PriceServer

    people = make_people(sqlite_services)
    server = PriceServer()
    try:
        assert cli(monkeypatch, sqlite_database_url, STRONG + "x", "market", "url", server.url, "--as", "tom") == 0
        market = build_market(sqlite_services, market_settings())
        assert market.watcher is None and market.url_watcher.url == server.url
        report = market.poll_sources()
    finally:
        server.close()
    assert [r.counts.inserted for r in report.imported] == [2]
    assert [(r.trigger, r.actor) for r in market.market.import_runs(people["tom"])] == [("url", "system")]
