"""Retraining the price model on stored prices: manually (CLI `gridroom forecast retrain`, or a service call)
or on a trigger (a ForecastDriftDetected event from the drift watch).

The newest stored prices are split into a training window and a held-out backtest window just before
`now`; the model is registered (with its training window and backtest MAE/MAPE) only when training
succeeds, and becomes the newest version, which the optimizer and the drift watch use from then on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from core.audit.trail import AuditResult, AuditTrail
from core.auth.authorizer import Authorizer
from core.auth.principal import SYSTEM, Principal
from core.auth.roles import Permission
from core.clock import Clock
from core.errors import GridRoomError
from core.forecasting.features import make_schema
from core.forecasting.registry import ModelRecord, ModelRegistry
from core.storage.database import Database

PRICE_SERIES = "price"


@dataclass(frozen=True)
class RetrainSettings:
    training_days: int = 56
    backtest_days: int = 7
    zone: str = "Europe/Brussels"
    max_iter: int = 150


class RetrainRefused(GridRoomError, ValueError):
    """Not enough stored prices (or none) to train and backtest; the message says what is missing."""


class PriceModelRetrainer:
    def __init__(self, db: Database, audit: AuditTrail, authorizer: Authorizer, read_series, last_start,
                 models: ModelRegistry, clock: Clock, settings: RetrainSettings = RetrainSettings()) -> None:
        self.db = db
        self.audit = audit
        self.authorizer = authorizer
        self.read_series = read_series  # MarketDataService.read_series
        self.last_start = last_start  # MarketDataService.last_start
        self.models = models
        self.clock = clock
        self.settings = settings

    def retrain(self, actor: Principal, reason: str = "manual") -> ModelRecord:
        """Train P10/P50/P90 on the stored prices and register the result (MANAGE_MARKET_DATA)."""
        self.authorizer.require(actor, Permission.MANAGE_MARKET_DATA, "forecast:retrain")
        # Training pulls in scikit-learn: imported here so that forecasting at run time never does.
        from core.forecasting.training import TrainingConfig, train_and_backtest

        last = self.last_start(PRICE_SERIES)
        if last is None:
            raise RetrainRefused("no stored prices: import prices before retraining")
        day = 86400
        test_end = datetime.fromtimestamp((int(last.timestamp()) + 3600) // day * day, timezone.utc)
        test_start = test_end - timedelta(days=self.settings.backtest_days)
        train_start = test_start - timedelta(days=self.settings.training_days)
        history = self.read_series(PRICE_SERIES, train_start - timedelta(days=8), test_end, timedelta(hours=1))
        try:
            trained = train_and_backtest(history, make_schema(zone=self.settings.zone), kind="price",
                                         train_start=train_start, test_start=test_start, test_end=test_end,
                                         config=TrainingConfig(max_iter=self.settings.max_iter))
        except ValueError as exc:
            raise RetrainRefused(f"cannot train on the stored prices {train_start:%Y-%m-%d}..{test_end:%Y-%m-%d}: "
                                 f"{exc}") from exc
        version = f"price-{test_start:%Y%m%d}-{self.clock.now():%Y%m%dT%H%M%S}"
        record = self.models.register(trained.onnx_bytes, version=version, kind="price", training_start=train_start,
                                      training_end=test_start, backtest_mae=trained.backtest.mae,
                                      backtest_mape_pct=trained.backtest.mape_pct)
        with self.db.session() as s:
            self.audit.append(s, actor, "forecast.retrain", f"forecast:{version}", AuditResult.SUCCESS, {
                "reason": reason, "training": [train_start.isoformat(), test_start.isoformat()],
                "backtest_mae": round(trained.backtest.mae, 3), "backtest_mape_pct": round(trained.backtest.mape_pct, 2),
                "beats_naive": trained.backtest.beats_naive})
        return record

    def on_drift(self, event) -> ModelRecord:
        """Trigger: a drift event retrains as the installation itself (recorded with the event's model)."""
        return self.retrain(SYSTEM, reason=f"drift of {event.model_id} (score {event.drift_score:.2f})")
