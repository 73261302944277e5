"""Plain-text summaries of the database and runtime, shared by the status bar and the overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.errors import StorageError
from core.runtime.messages import RuntimeState
from core.storage.database import Database, safe_url


@dataclass(frozen=True)
class DatabaseSummary:
    backend: str  # "sqlite" / "postgresql"
    url: str  # password masked
    schema: str  # "current", "behind", ... or the reason it could not be read
    revision: str

    @property
    def healthy(self) -> bool:
        return self.schema == "current"

    def one_line(self) -> str:
        return f"{self.backend} · {self.url} · schema {self.schema}"


def database_summary(db: Database) -> DatabaseSummary:
    """Blocking (connects once): call through desktop.tasks.call_core."""
    try:
        status = db.check()
    except StorageError as exc:
        return DatabaseSummary(db.backend, safe_url(db.url), f"unreadable ({exc})", "")
    return DatabaseSummary(db.backend, safe_url(db.url), status.state.value, status.current or "none")


def local_time(at: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """Core keeps aware UTC; the screen shows the workstation's local time."""
    return at.astimezone().strftime(fmt) if at is not None else "—"


RUNTIME_WORDS = {
    RuntimeState.CREATED: "not started",
    RuntimeState.STARTING: "starting",
    RuntimeState.RUNNING: "running",
    RuntimeState.STOPPING: "stopping",
    RuntimeState.STOPPED: "stopped",
    RuntimeState.FAILED: "failed",
}
