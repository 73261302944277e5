"""Periodic import from one watched folder, with a retry policy.

Only regular files directly inside the folder the user configured are read ("file imports are confined to
what the user picked"): no sub-folders, no hidden files, no symbolic links (they could point anywhere).
A good file moves to `processed/`. A failing file is retried with exponential backoff, because a file that
is still being copied in looks broken; each failure is reported with line and reason, and after the last
attempt the file moves to `failed/` next to a `.error.txt` saying why. Stored data is never touched by a
failing file (MarketDataService stores a file all or nothing). Time comes from the injected clock, so
tests call poll() and advance a ManualClock instead of sleeping.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from core.auth.principal import Principal
from core.clock import Clock
from core.errors import GridRoomError
from core.market.service import ImportResult, ImportTrigger, MarketDataService

log = logging.getLogger(__name__)

SUFFIXES = (".csv", ".xml")
PROCESSED = "processed"
FAILED = "failed"


@dataclass(frozen=True)
class RetryPolicy:
    """Wait first_delay_s after the first failure, times `factor` after each next one, at most max_delay_s;
    give up after max_attempts attempts."""

    first_delay_s: float = 60.0
    factor: float = 2.0
    max_delay_s: float = 3600.0
    max_attempts: int = 4

    def __post_init__(self) -> None:
        if self.first_delay_s <= 0 or self.factor < 1 or self.max_attempts < 1:
            raise ValueError("need first_delay_s > 0, factor >= 1 and max_attempts >= 1")

    def delay(self, failures: int) -> timedelta:
        """Wait after the `failures`-th failure (1-based)."""
        return timedelta(seconds=min(self.max_delay_s, self.first_delay_s * self.factor ** (failures - 1)))


@dataclass(frozen=True)
class FileFailure:
    file_name: str
    attempt: int
    reason: str
    line: int | None
    retry_at: datetime | None  # None: given up, moved to failed/


@dataclass(frozen=True)
class PollReport:
    imported: tuple[ImportResult, ...] = ()
    failures: tuple[FileFailure, ...] = ()
    waiting: tuple[str, ...] = ()  # files waiting for their retry time


@dataclass
class _Pending:
    failures: int = 0
    retry_at: datetime | None = None
    signature: tuple = field(default=())


class FolderImportWatcher:
    def __init__(self, market: MarketDataService, actor: Principal, folder: Path | str, clock: Clock,
                 policy: RetryPolicy = RetryPolicy(), *, zone: str | None = None) -> None:
        self.market = market
        self.actor = actor
        self.folder = Path(folder).resolve()
        self.clock = clock
        self.policy = policy
        self.zone = zone
        self._pending: dict[str, _Pending] = {}

    def candidates(self) -> list[Path]:
        """Files the watcher may import now: regular, visible, .csv/.xml, directly in the folder."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in sorted(self.folder.iterdir()):
            if path.name.startswith(".") or path.suffix.lower() not in SUFFIXES:
                continue
            if path.is_symlink() or not path.is_file() or path.resolve().parent != self.folder:
                continue
            found.append(path)
        return found

    def poll(self) -> PollReport:
        """Import every new file, and every failed one whose retry time has come (or that changed since)."""
        now = self.clock.now()
        imported, failures, waiting = [], [], []
        present = set()
        for path in self.candidates():
            present.add(path.name)
            pending = self._pending.get(path.name)
            signature = _signature(path)
            if pending and pending.retry_at and now < pending.retry_at and signature == pending.signature:
                waiting.append(path.name)
                continue
            try:
                result = self.market.import_file(self.actor, path, zone=self.zone, trigger=ImportTrigger.WATCHED_FOLDER)
                reason, line = (None, None) if result.ok else (result.error, result.error_line)
            except (GridRoomError, OSError) as exc:  # database down, permission revoked: retry like a bad file
                result, reason, line = None, f"{type(exc).__name__}: {exc}", None
            if result is not None and result.ok:
                self._pending.pop(path.name, None)
                self._move(path, PROCESSED)
                imported.append(result)
                continue
            pending = pending or _Pending()
            pending.failures += 1
            pending.signature = signature
            if pending.failures >= self.policy.max_attempts:
                self._pending.pop(path.name, None)
                target = self._move(path, FAILED)
                target.with_name(target.name + ".error.txt").write_text(
                    f"{path.name}: not imported after {pending.failures} attempt(s)\n"
                    f"line: {line if line is not None else '-'}\nreason: {reason}\n", encoding="utf-8")
                failures.append(FileFailure(path.name, pending.failures, reason, line, None))
                log.warning("watched folder: %s moved to failed/ after %d attempts: %s", path.name, pending.failures, reason)
            else:
                pending.retry_at = now + self.policy.delay(pending.failures)
                self._pending[path.name] = pending
                failures.append(FileFailure(path.name, pending.failures, reason, line, pending.retry_at))
        for gone in set(self._pending) - present:  # removed by the user: forget it
            del self._pending[gone]
        return PollReport(tuple(imported), tuple(failures), tuple(waiting))

    def _move(self, path: Path, sub: str) -> Path:
        target_dir = self.folder / sub
        target_dir.mkdir(exist_ok=True)
        target = target_dir / path.name
        if target.exists():  # the same name imported before: keep both
            target = target_dir / f"{path.stem}.{self.clock.now():%Y%m%dT%H%M%SZ}{path.suffix}"
        path.rename(target)
        return target


def _signature(path: Path) -> tuple:
    try:
        stat = path.stat()
        return (stat.st_size, stat.st_mtime_ns)
    except OSError:
        return ()
