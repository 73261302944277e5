"""gridroom forecast: retrain the price model on the stored prices (a trader or admin, signed in)."""

from __future__ import annotations

from argparse import Namespace, _SubParsersAction

from core.auth.roles import Permission
from core.forecasting.retrain import PriceModelRetrainer, RetrainSettings
from core.market.service import MarketDataService
from gridroom.commands.common import open_services, sign_in_admin
from gridroom.market_runtime import model_registry


def register(sub: _SubParsersAction) -> None:
    forecast = sub.add_parser("forecast", help="forecast models: retrain")
    fs = forecast.add_subparsers(dest="forecast_command", required=True)
    p = fs.add_parser("retrain", help="train a new price model on the stored prices and register it")
    p.add_argument("--admin", required=True, metavar="USER", help="the trader or admin acting (signed in)")
    p.add_argument("--password-stdin", action="store_true")
    p.add_argument("--training-days", type=int, default=56)
    p.add_argument("--backtest-days", type=int, default=7)
    p.set_defaults(func=cmd_retrain)


def cmd_retrain(args: Namespace) -> int:
    services = open_services(args)
    actor = sign_in_admin(services, args, Permission.MANAGE_MARKET_DATA)
    market = MarketDataService(services.db, services.audit, services.authorizer, services.clock)
    retrainer = PriceModelRetrainer(services.db, services.audit, services.authorizer, market.read_series,
                                    market.last_start, model_registry(services), services.clock,
                                    RetrainSettings(args.training_days, args.backtest_days))
    record = retrainer.retrain(actor)
    print(f"registered {record.version}: trained {record.training_start:%Y-%m-%d}..{record.training_end:%Y-%m-%d}, "
          f"backtest MAE {record.backtest_mae:.2f} EUR/MWh, MAPE {record.backtest_mape_pct:.1f} %")
    return 0
