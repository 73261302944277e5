"""Periodic import from an http(s) URL, with the same retry policy and reporting as the watched folder.

Every `interval_s` the URL is fetched with urllib (a timeout and a size cap on every fetch). A failure (no
answer, an HTTP error status, a refused file) is retried with the watcher's exponential backoff on the
injected clock; after the last attempt it waits for the next regular fetch. Content identical to the last
imported one is not imported again (no import run, no audit entry every hour for the same day-ahead file).
Each fetched body is kept in `download_dir` under a time-stamped name, so an import run names the exact
bytes it read. Stored data is never touched by a bad download (MarketDataService stores all or nothing).
"""

from __future__ import annotations

import hashlib
import logging
import re
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from core.auth.principal import Principal
from core.clock import Clock
from core.errors import GridRoomError
from core.market.service import ImportTrigger, MarketDataService
from core.market.watcher import SUFFIXES, FileFailure, PollReport, RetryPolicy

log = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024  # a year of 15-min prices is ~1.5 MB: anything far bigger is not a price file


class FetchFailed(GridRoomError):
    """The URL gave no usable file; the message says why (status, network error, size)."""


class UrlImportWatcher:
    def __init__(self, market: MarketDataService, actor: Principal, url: str, clock: Clock, download_dir: Path | str,
                 policy: RetryPolicy = RetryPolicy(), *, interval_s: float = 3600.0, timeout_s: float = 30.0,
                 max_bytes: int = MAX_BYTES, zone: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"import URL {url!r} must be http:// or https:// with a host name")
        self.market = market
        self.actor = actor
        self.url = url
        self.clock = clock
        self.download_dir = Path(download_dir)
        self.policy = policy
        self.interval = timedelta(seconds=interval_s)
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.zone = zone
        self.failures = 0
        self.next_at: datetime | None = None  # None: fetch at the next poll
        self._last_digest: str | None = None

    def poll(self) -> PollReport:
        """Fetch and import when due (first poll, regular interval, or a retry whose time has come)."""
        now = self.clock.now()
        if self.next_at is not None and now < self.next_at:
            return PollReport(waiting=(self.url,) if self.failures else ())
        try:
            body, suffix = self._fetch()
        except (FetchFailed, OSError, ValueError) as exc:  # URLError/HTTPError/timeouts are OSErrors
            return self._failed(now, str(exc) if isinstance(exc, FetchFailed) else f"{type(exc).__name__}: {exc}")
        digest = hashlib.sha256(body).hexdigest()
        if digest == self._last_digest:
            self._succeeded(now)
            return PollReport()
        path = self._keep(body, suffix, now)
        try:
            result = self.market.import_file(self.actor, path, zone=self.zone, trigger=ImportTrigger.URL)
        except (GridRoomError, OSError) as exc:  # database down, permission revoked: retried like a bad file
            return self._failed(now, f"{type(exc).__name__}: {exc}")
        if not result.ok:
            return self._failed(now, result.error, result.error_line)
        self._last_digest = digest
        self._succeeded(now)
        return PollReport(imported=(result,))

    def _fetch(self) -> tuple[bytes, str]:
        request = urllib.request.Request(self.url, headers={"User-Agent": "GridRoom market import"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                body = response.read(self.max_bytes + 1)
                content_type = response.headers.get_content_type()
        except urllib.error.HTTPError as exc:
            exc.close()
            raise FetchFailed(f"HTTP {exc.code} {exc.reason} from {self.url}") from exc
        except urllib.error.URLError as exc:
            raise FetchFailed(f"no answer from {self.url}: {exc.reason}") from exc
        if len(body) > self.max_bytes:
            raise FetchFailed(f"{self.url} sent more than {self.max_bytes} bytes; not a price file")
        if not body:
            raise FetchFailed(f"{self.url} sent an empty file")
        suffix = Path(urlsplit(self.url).path).suffix.lower()
        if suffix not in SUFFIXES:
            suffix = ".xml" if content_type.endswith("xml") else ".csv"
        return body, suffix

    def _keep(self, body: bytes, suffix: str, now: datetime) -> Path:
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(urlsplit(self.url).path).stem) or "download"
        self.download_dir.mkdir(parents=True, exist_ok=True)
        path = self.download_dir / f"{stem}.{now:%Y%m%dT%H%M%SZ}{suffix}"
        path.write_bytes(body)
        return path

    def _succeeded(self, now: datetime) -> None:
        self.failures = 0
        self.next_at = now + self.interval

    def _failed(self, now: datetime, reason: str, line: int | None = None) -> PollReport:
        self.failures += 1
        attempt = self.failures
        if attempt >= self.policy.max_attempts:
            log.warning("import URL %s: given up after %d attempts until the next regular fetch: %s",
                        self.url, attempt, reason)
            self.failures = 0
            self.next_at = now + self.interval
            return PollReport(failures=(FileFailure(self.url, attempt, reason, line, None),))
        self.next_at = now + self.policy.delay(attempt)
        return PollReport(failures=(FileFailure(self.url, attempt, reason, line, self.next_at),))
