"""Periodic import from a URL against a real local HTTP server: a 500 on the first attempt is retried with the
watched folder's backoff on a ManualClock and then imported; an unchanged file is not imported again; a bad file
is reported with line and reason and stores nothing; the last failed attempt waits for the next regular fetch."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.market.service import PRICE_SERIES, MarketDataService
from core.market.url_source import UrlImportWatcher
from core.market.watcher import RetryPolicy
from tests.support.http_server import GOOD, PriceServer
from tests.support.people import make_people

UTC = timezone.utc
BAD = b"timestamp_utc,price_eur_per_mwh\n2024-03-01T00:00:00Z,99\n2024-03-01T01:00:00Z,abc\n"


@pytest.fixture
def server():
    s = PriceServer()
    yield s
    s.close()


@pytest.fixture
def setup(sqlite_services, clock, tmp_path, server):
    people = make_people(sqlite_services)
    market = MarketDataService(sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer, clock)
    watcher = UrlImportWatcher(market, people["tom"], server.url, clock, tmp_path / "downloads",
                               RetryPolicy(first_delay_s=60, factor=2, max_attempts=3), interval_s=3600)
    return watcher, market, people


def stored(market):
    start = datetime(2024, 3, 1, tzinfo=UTC)
    return list(market.read_series(PRICE_SERIES, start, start + timedelta(hours=2)).values)


def test_a_500_is_retried_with_backoff_and_the_next_attempt_imports(setup, server, clock):
    watcher, market, people = setup
    server.answers = [(500, b"busy"), (200, GOOD)]
    first = watcher.poll().failures[0]
    assert first.file_name == server.url and first.attempt == 1 and "HTTP 500" in first.reason
    assert first.retry_at == clock.now() + timedelta(seconds=60)
    clock.advance(59)
    assert watcher.poll().waiting == (server.url,) and len(server.requests) == 1  # not fetched before its time
    clock.advance(1)
    report = watcher.poll()
    assert [r.counts.inserted for r in report.imported] == [2] and report.failures == ()
    assert stored(market) == [61.42, 58.14]
    run = market.import_runs(people["tom"])[0]
    assert (run.trigger, run.status, run.inserted) == ("url", "imported", 2)
    # The same file an hour later: fetched, recognised, not imported again.
    clock.advance(3599)
    assert watcher.poll() == type(report)() and len(server.requests) == 2
    clock.advance(1)
    assert watcher.poll().imported == () and len(server.requests) == 3
    assert len(market.import_runs(people["tom"])) == 1


def test_a_bad_file_is_reported_with_its_line_and_after_the_last_attempt_waits_for_the_next_fetch(
        setup, server, clock):
    watcher, market, people = setup
    server.answers = [(200, BAD)]
    failures = []
    for delay in (60, 120):
        failure = watcher.poll().failures[0]
        assert failure.line == 3 and "abc" in failure.reason and failure.retry_at is not None
        failures.append(failure)
        clock.advance(delay)
    last = watcher.poll().failures[0]
    assert (last.attempt, last.retry_at) == (3, None)  # given up for this period
    assert [f.attempt for f in failures] == [1, 2]
    assert all(v != v for v in stored(market))  # nothing stored
    clock.advance(3599)
    assert watcher.poll().failures == () and len(server.requests) == 3
    server.answers = [(200, GOOD)]
    clock.advance(1)
    assert [r.counts.inserted for r in watcher.poll().imported] == [2]
    assert [r.status for r in market.import_runs(people["tom"])] == ["imported", "failed", "failed", "failed"]


def test_no_server_is_a_failure_with_the_reason_and_only_http_urls_are_taken(setup, clock, tmp_path):
    watcher, market, people = setup
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed = UrlImportWatcher(market, people["tom"], f"http://127.0.0.1:{port}/p.csv", clock, tmp_path,
                              timeout_s=5)
    failure = closed.poll().failures[0]
    assert failure.attempt == 1 and "no answer from" in failure.reason
    with pytest.raises(ValueError, match="http:// or https://"):
        UrlImportWatcher(market, people["tom"], "file:///etc/passwd", clock, tmp_path)
