"""Watched-folder import: new files imported and moved, failures retried with backoff on a ManualClock, bad files
reported with line and reason and finally moved to failed/, stored data untouched, only the picked folder read."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.market.service import PRICE_SERIES, MarketDataService
from core.market.watcher import FolderImportWatcher, RetryPolicy
from tests.support.people import make_people

UTC = timezone.utc
GOOD = "timestamp_utc,price_eur_per_mwh\n2024-03-01T00:00:00Z,61.42\n2024-03-01T01:00:00Z,58.14\n"
BAD = "timestamp_utc,price_eur_per_mwh\n2024-03-01T00:00:00Z,99\n2024-03-01T01:00:00Z,abc\n"


@pytest.fixture
def watch(sqlite_services, clock, tmp_path):
    people = make_people(sqlite_services)
    market = MarketDataService(sqlite_services.db, sqlite_services.audit, sqlite_services.authorizer, clock)
    folder = tmp_path / "drop"
    folder.mkdir()
    policy = RetryPolicy(first_delay_s=60, factor=2, max_attempts=3)
    return FolderImportWatcher(market, people["tom"], folder, clock, policy), market, folder


def stored(market):
    return list(market.read_series(PRICE_SERIES, datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 1, 2, tzinfo=UTC)).values)


def test_new_file_is_imported_once_and_moved_to_processed(watch, fixtures):
    watcher, market, folder = watch
    (folder / "prices.csv").write_text(GOOD)
    report = watcher.poll()
    assert [r.counts.inserted for r in report.imported] == [2]
    assert (folder / "processed" / "prices.csv").exists() and not (folder / "prices.csv").exists()
    assert watcher.poll().imported == ()  # nothing new
    assert stored(market) == [61.42, 58.14]


def test_failing_file_is_retried_with_backoff_and_imports_once_fixed(watch, clock):
    watcher, market, folder = watch
    (folder / "prices.csv").write_text(GOOD)
    watcher.poll()
    path = folder / "late.csv"
    path.write_text(BAD)
    first = watcher.poll().failures[0]
    assert (first.attempt, first.line) == (1, 3) and "abc" in first.reason
    assert first.retry_at == clock.now() + timedelta(seconds=60)
    clock.advance(59)
    assert watcher.poll().waiting == ("late.csv",)  # not before its time
    clock.advance(1)
    second = watcher.poll().failures[0]
    assert second.attempt == 2 and second.retry_at == clock.now() + timedelta(seconds=120)  # backoff doubles
    assert stored(market) == [61.42, 58.14]  # the bad file changed nothing
    path.write_text(GOOD.replace("58.14", "60.00"))  # the copy finished / the user fixed it: retried at once
    report = watcher.poll()
    assert [r.counts.replaced for r in report.imported] == [1]
    assert stored(market) == [61.42, 60.0]


def test_file_still_bad_after_the_last_attempt_moves_to_failed_with_its_reason(watch, clock):
    watcher, market, folder = watch
    (folder / "bad.csv").write_text(BAD)
    for _ in range(2):
        assert watcher.poll().failures[0].retry_at is not None
        clock.advance(3600)
    last = watcher.poll().failures[0]
    assert last.attempt == 3 and last.retry_at is None
    report = (folder / "failed" / "bad.csv.error.txt").read_text()
    assert "line: 3" in report and "abc" in report
    assert not (folder / "bad.csv").exists() and (folder / "failed" / "bad.csv").exists()
    assert all(v != v for v in stored(market))  # nothing stored (NaN = no point)
    runs = market.import_runs(watcher.actor)
    assert [(r.status, r.trigger, r.error_line) for r in runs] == [("failed", "watched_folder", 3)] * 3


def test_only_regular_files_directly_in_the_picked_folder_are_read(watch, tmp_path):
    watcher, _, folder = watch
    outside = tmp_path / "secret.csv"
    outside.write_text(GOOD)
    (folder / "link.csv").symlink_to(outside)
    (folder / "sub").mkdir()
    (folder / "sub" / "deep.csv").write_text(GOOD)
    (folder / ".hidden.csv").write_text(GOOD)
    (folder / "notes.txt").write_text("hello")
    assert watcher.candidates() == []
    assert watcher.poll().imported == ()
    assert outside.exists()
