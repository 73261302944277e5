"""MarketDataService: importing price, load and PV files into storage, with permission checks and audit.

A file is parsed completely before anything is written, and its points are stored in one transaction with
the import-run record and the audit entry: a bad file (reported with line and reason) changes no stored
point. Every attempt, good or bad, leaves an import-run row, so the history of imports is complete.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from core.audit.trail import AuditResult, AuditTrail
from core.auth.authorizer import Authorizer
from core.auth.principal import Principal
from core.auth.roles import Permission
from core.clock import Clock, SystemClock
from core.market.assembly import GapPolicy
from core.market.entsoe_xml import import_entsoe_prices
from core.market.errors import TimeSeriesImportError
from core.market.load_pv_csv import import_load_pv_csv
from core.market.price_csv import import_price_csv
from core.market.series import TimeSeries
from core.market.store import DUPLICATE_RULE, StoreCounts, last_stored_start, load_series, save_series
from core.market.tables import MarketImportRunRow
from core.storage.database import Database

PRICE_SERIES = "price"
LOAD_SERIES = "load"
PV_SERIES = "pv"
SERIES_UNITS = {PRICE_SERIES: "EUR/MWh", LOAD_SERIES: "kW", PV_SERIES: "kW"}


class ImportKind(enum.Enum):
    """What a file holds. AUTO decides from the file: .xml is ENTSO-E, a CSV naming load or PV is a site file."""

    AUTO = "auto"
    PRICE_CSV = "price"
    ENTSOE_XML = "entsoe"
    LOAD_PV_CSV = "load_pv"


class ImportTrigger(enum.Enum):
    MANUAL = "manual"
    WATCHED_FOLDER = "watched_folder"
    URL = "url"


@dataclass(frozen=True)
class ImportResult:
    """What one import did. `error` is set (and nothing was stored) when the file was refused."""

    run_id: int
    file_name: str
    kind: ImportKind
    ok: bool
    rows: int
    counts: StoreCounts
    repairs: tuple[str, ...]
    series: tuple[str, ...]
    error: str | None = None
    error_line: int | None = None
    duplicate_rule: str = DUPLICATE_RULE

    def summary(self) -> str:
        if not self.ok:
            return f"{Path(self.file_name).name}: refused, nothing stored: {self.error}"
        c = self.counts
        return (f"{Path(self.file_name).name}: {self.rows} interval(s) of {', '.join(self.series)}: "
                f"{c.inserted} new, {c.replaced} replaced, {c.unchanged} already stored; "
                f"{len(self.repairs)} repair(s) reported")


@dataclass(frozen=True)
class ImportRun:
    id: int
    file_name: str
    kind: str
    trigger: str
    status: str
    actor: str
    started_at: datetime
    rows: int
    inserted: int
    replaced: int
    unchanged: int
    repairs: tuple[str, ...]
    error: str | None
    error_line: int | None


def detect_kind(path: Path) -> ImportKind:
    """ENTSO-E for .xml; for CSV, a site file when the header names load or PV, else prices."""
    if path.suffix.lower() == ".xml":
        return ImportKind.ENTSOE_XML
    try:
        with path.open("r", encoding="utf-8-sig", errors="replace") as handle:
            head = " ".join(handle.readline() for _ in range(5)).lower()
    except OSError:
        return ImportKind.PRICE_CSV  # the importer reports the unreadable file with its reason
    if any(word in head for word in ("load", "consumption", "pv", "solar")) and "price" not in head:
        return ImportKind.LOAD_PV_CSV
    return ImportKind.PRICE_CSV


def parse_file(path: Path, kind: ImportKind, *, zone: str | None = None,
               gaps: GapPolicy = GapPolicy()) -> dict[str, TimeSeries]:
    """Parse exactly `path` into the series it holds (keyed by stored series name); raise TimeSeriesImportError."""
    if kind is ImportKind.ENTSOE_XML:
        return {PRICE_SERIES: import_entsoe_prices(path, gaps=gaps)}
    if kind is ImportKind.LOAD_PV_CSV:
        history = import_load_pv_csv(path, zone=zone, gaps=gaps)
        return {name: s for name, s in ((LOAD_SERIES, history.load), (PV_SERIES, history.pv)) if s is not None}
    return {PRICE_SERIES: import_price_csv(path, zone=zone, gaps=gaps)}


class MarketDataService:
    """Imports (MANAGE_MARKET_DATA: traders, admins) and reads (VIEW_FINANCIALS) of stored market series."""

    def __init__(self, db: Database, audit: AuditTrail, authorizer: Authorizer, clock: Clock | None = None) -> None:
        self.db = db
        self.audit = audit
        self.authorizer = authorizer
        self.clock = clock or SystemClock()
        self.import_listeners: list = []  # called with (ImportResult, {series: TimeSeries}) after a good import

    def import_file(self, actor: Principal, path: Path | str, kind: ImportKind = ImportKind.AUTO, *,
                    zone: str | None = None, gaps: GapPolicy = GapPolicy(),
                    trigger: ImportTrigger = ImportTrigger.MANUAL, price_series: str = PRICE_SERIES) -> ImportResult:
        """Import exactly the file at `path`. A bad file returns ok=False with line and reason; nothing is stored.

        Prices are stored under `price_series`: "price", or "price:<zone>" to keep a further bidding zone apart
        (analytics lets its caller choose among them)."""
        path = Path(path)
        if price_series != PRICE_SERIES and not price_series.startswith(PRICE_SERIES + ":"):
            raise ValueError(f"price series key {price_series!r} must be {PRICE_SERIES!r} or {PRICE_SERIES!r}:<zone>")
        self.authorizer.require(actor, Permission.MANAGE_MARKET_DATA, f"market:{path.name}")
        kind = detect_kind(path) if kind is ImportKind.AUTO else kind
        started = self.clock.now()
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            digest = None
        try:
            parsed = parse_file(path, kind, zone=zone, gaps=gaps)
        except TimeSeriesImportError as error:
            return self._record_failure(actor, path, kind, trigger, started, digest, error)
        with self.db.session() as s:
            run = MarketImportRunRow(file_name=str(path), file_sha256=digest, kind=kind.value, trigger=trigger.value,
                                     status="imported", actor=actor.username, started_at=started)
            s.add(run)
            s.flush()
            totals = StoreCounts()
            repairs: list[str] = []
            rows = 0
            for name, series in parsed.items():
                key = price_series if name == PRICE_SERIES else name
                counts = save_series(s, key, series.to_unit(SERIES_UNITS[name]), str(path), run.id)
                totals = StoreCounts(*(a + b for a, b in zip(_counts(totals), _counts(counts))))
                repairs.extend(f"{name}: {n}" for n in series.notes)
                rows = max(rows, len(series))
            run.rows, run.inserted, run.replaced, run.unchanged = rows, totals.inserted, totals.replaced, totals.unchanged
            run.repairs_json = json.dumps(repairs)
            self.audit.append(s, actor, "market.import", f"market:{path.name}", AuditResult.SUCCESS, {
                "run_id": run.id, "kind": kind.value, "trigger": trigger.value, "series": sorted(parsed),
                "inserted": totals.inserted, "replaced": totals.replaced, "unchanged": totals.unchanged,
                "repairs": len(repairs)})
            result = ImportResult(run.id, str(path), kind, True, rows, totals, tuple(repairs), tuple(sorted(parsed)))
        for listener in list(self.import_listeners):
            listener(result, parsed)
        return result

    def _record_failure(self, actor: Principal, path: Path, kind: ImportKind, trigger: ImportTrigger,
                        started: datetime, digest: str | None, error: TimeSeriesImportError) -> ImportResult:
        reason = f"{error.message} (rule: {error.rule})"
        with self.db.session() as s:
            run = MarketImportRunRow(file_name=str(path), file_sha256=digest, kind=kind.value, trigger=trigger.value,
                                     status="failed", actor=actor.username, started_at=started, rows=0, inserted=0,
                                     replaced=0, unchanged=0, repairs_json="[]", error=reason, error_line=error.line)
            s.add(run)
            s.flush()
            self.audit.append(s, actor, "market.import", f"market:{path.name}", AuditResult.FAILURE,
                              {"run_id": run.id, "kind": kind.value, "trigger": trigger.value, "line": error.line,
                               "reason": reason})
            return ImportResult(run.id, str(path), kind, False, 0, StoreCounts(), (), (), str(error), error.line)

    # -- reading ---------------------------------------------------------------------------------
    def import_runs(self, actor: Principal, limit: int = 100) -> list[ImportRun]:
        self.authorizer.require(actor, Permission.VIEW_FINANCIALS, "market:import_runs")
        with self.db.session() as s:
            rows = s.execute(select(MarketImportRunRow).order_by(MarketImportRunRow.id.desc()).limit(limit)).scalars()
            return [ImportRun(r.id, r.file_name, r.kind, r.trigger, r.status, r.actor, r.started_at, r.rows,
                              r.inserted, r.replaced, r.unchanged, tuple(json.loads(r.repairs_json)), r.error,
                              r.error_line) for r in rows]

    def series(self, actor: Principal, series_key: str, start: datetime, end: datetime,
               step: timedelta = timedelta(hours=1)) -> TimeSeries:
        """Stored series in [start, end) at `step`; missing intervals are NaN."""
        self.authorizer.require(actor, Permission.VIEW_FINANCIALS, f"market:{series_key}")
        return self.read_series(series_key, start, end, step)

    def read_series(self, series_key: str, start: datetime, end: datetime,
                    step: timedelta = timedelta(hours=1)) -> TimeSeries:
        """As series(), for other core services that have checked their caller's permission themselves."""
        with self.db.session() as s:
            return load_series(s, series_key, start, end, step=step, unit=SERIES_UNITS.get(series_key, "EUR/MWh"))

    def last_start(self, series_key: str) -> datetime | None:
        with self.db.session() as s:
            return last_stored_start(s, series_key)


def _counts(c: StoreCounts) -> tuple[int, int, int, int]:
    return (c.inserted, c.replaced, c.unchanged, c.skipped_missing)
