"""Market data inside the runtime: polls the watched import folder and the import URL, and feeds forecast drift
to the alarms.

The folder (and the URL, when due) is polled in a worker thread every `period_s` on the runtime loop; each
poll's report is published for the GUI (MarketImportsPolled). Drift events raised by the runtime's imports go
to the alarm engine through AlarmRuntimeService.submit_event, and start a retrain of the price model (at most
once per cool-down, audited as system; PriceModelRetrained is published when the new model is registered).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from core.auth.principal import SYSTEM
from core.forecasting.db_registry import DbRecordStore, seed_from
from core.forecasting.default_model import shipped_registry
from core.forecasting.drift_watch import PriceDriftWatch
from core.forecasting.registry import ModelRecord, ModelRegistry
from core.forecasting.retrain import PriceModelRetrainer, RetrainSettings
from core.forecasting.retrain_trigger import RetrainOnDrift
from core.market.service import MarketDataService
from core.market.url_source import UrlImportWatcher
from core.market.watcher import FolderImportWatcher, PollReport, RetryPolicy
from core.services import CoreServices
from core.settings import MarketImportSource, data_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MarketImportsPolled:
    """Event for the GUI: what one poll of the watched folder did."""

    report: PollReport


@dataclass(frozen=True)
class PriceModelRetrained:
    """Event for the GUI: drift made the runtime train and register a new price model (the newest version)."""

    record: ModelRecord


def model_registry(services: CoreServices, directory: Path | None = None) -> ModelRegistry:
    """The installation's model registry: files under the data folder, records in the database, seeded
    with the shipped default model on first use."""
    registry = ModelRegistry(directory or data_dir() / "models", services.clock, DbRecordStore(services.db))
    if not registry.list("price"):
        with shipped_registry() as shipped:
            seed_from(registry, shipped)
    return registry


@dataclass(frozen=True)
class MarketSettings:
    """How the runtime imports market data on its own (built like FleetSettings, from the settings file)."""

    watched_folder: Path | None = None  # None: no folder is watched
    url: str | None = None  # None: nothing is fetched
    period_s: float = 60.0  # how often the folder is looked at (and the URL checked for being due)
    url_interval_s: float = 3600.0  # how often the URL is fetched when all goes well
    retry: RetryPolicy = RetryPolicy()
    retrain_cooldown: timedelta | None = timedelta(hours=24)  # None: drift raises the alarm only

    @classmethod
    def from_source(cls, source: MarketImportSource, **overrides) -> "MarketSettings":
        return cls(watched_folder=Path(source.folder) if source.folder else None, url=source.url or None,
                   **overrides)


def market_settings() -> MarketSettings:
    """The settings file's market-import source, as the desktop app and `gridroom serve` use it."""
    return MarketSettings.from_source(MarketImportSource.load())


class MarketRuntimeService:
    name = "market"

    def __init__(self, services: CoreServices, market: MarketDataService, models: ModelRegistry, *,
                 watched_folder: Path | None = None, period_s: float = 60.0,
                 retry: RetryPolicy = RetryPolicy(), url: str | None = None, url_interval_s: float = 3600.0,
                 download_dir: Path | None = None, retrain_cooldown: timedelta | None = timedelta(hours=24),
                 retrain: RetrainSettings = RetrainSettings()) -> None:
        self.services = services
        self.market = market
        self.models = models
        self.period_s = period_s
        # The watcher acts for the installation itself (there is no user at a folder drop); the audit
        # trail records "system" with trigger watched_folder.
        self.watcher = (FolderImportWatcher(market, SYSTEM, watched_folder, services.clock, retry)
                        if watched_folder is not None else None)
        self.url_watcher = (UrlImportWatcher(market, SYSTEM, url, services.clock,
                                             download_dir or data_dir() / "downloads", retry,
                                             interval_s=url_interval_s) if url else None)
        self.drift = PriceDriftWatch(models, market.read_series, services.clock, self._drift_detected)
        market.import_listeners.append(self.drift.on_import)
        self.drift_sinks: list = []  # e.g. AlarmRuntimeService.submit_event
        # Drift also retrains the model (at most once per cool-down, in its own worker thread, never the GUI's).
        self.retrain = None
        if retrain_cooldown is not None:
            retrainer = PriceModelRetrainer(services.db, services.audit, services.authorizer, market.read_series,
                                            market.last_start, models, services.clock, retrain)
            self.retrain = RetrainOnDrift(retrainer, services.clock, retrain_cooldown)
            self.retrain.listeners.append(self._retrained)
        self.poll_listeners: list = []  # called with each PollReport, after it is published (any thread)
        self._runtime = None
        self._task: asyncio.Task | None = None

    @classmethod
    def from_settings(cls, services: CoreServices, settings: MarketSettings,
                      models: ModelRegistry | None = None) -> "MarketRuntimeService":
        market = MarketDataService(services.db, services.audit, services.authorizer, services.clock)
        return cls(services, market, models or model_registry(services), watched_folder=settings.watched_folder,
                   period_s=settings.period_s, retry=settings.retry, url=settings.url,
                   url_interval_s=settings.url_interval_s, retrain_cooldown=settings.retrain_cooldown)

    async def start(self, runtime) -> None:
        self._runtime = runtime
        if self.watcher is not None or self.url_watcher is not None:
            self._task = asyncio.create_task(self._poll_every(), name="market-folder-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.retrain is not None:
            await asyncio.to_thread(self.retrain.close)

    def poll_sources(self) -> PollReport:
        """Poll the watched folder and the URL (each when configured) and report both together. Blocking."""
        reports = [w.poll() for w in (self.watcher, self.url_watcher) if w is not None]
        return PollReport(*(tuple(x for r in reports for x in getattr(r, name))
                            for name in ("imported", "failures", "waiting")))

    async def poll_once(self) -> PollReport:
        """One poll of the watched folder and URL, off the loop; the report is published."""
        report = await asyncio.to_thread(self.poll_sources)
        if self._runtime is not None:
            self._runtime.publish(MarketImportsPolled(report))
        for listener in list(self.poll_listeners):
            listener(report)
        return report

    async def _poll_every(self) -> None:
        while True:
            try:
                await self.poll_once()
            except Exception:
                log.exception("watched-folder poll failed; it runs again next period")
            await asyncio.sleep(self.period_s)

    def _drift_detected(self, event) -> None:
        for sink in list(self.drift_sinks):
            sink(event)
        if self.retrain is not None:
            self.retrain.on_drift(event)

    def _retrained(self, record: ModelRecord) -> None:
        if self._runtime is not None:
            self._runtime.publish(PriceModelRetrained(record))
