"""gridroom market: where the runtime imports market data from (watched folder, URL), and one-off imports."""

from __future__ import annotations

from argparse import Namespace, _SubParsersAction

from core.auth.roles import Permission
from core.market.import_source import ImportSourceSettings
from core.market.service import MarketDataService
from core.settings import MarketImportSource
from gridroom.commands.common import CommandError, open_services, sign_in_admin


def _acting(p) -> None:
    p.add_argument("--as", "--admin", dest="admin", required=True, metavar="USER",
                   help="the trader or admin acting (signed in)")
    p.add_argument("--password-stdin", action="store_true")


def register(sub: _SubParsersAction) -> None:
    market = sub.add_parser("market", help="market data: the watched import folder or URL, imports")
    ms = market.add_subparsers(dest="market_command", required=True)
    p = ms.add_parser("show", help="print the configured import folder and URL")
    p.set_defaults(func=cmd_show)
    p = ms.add_parser("watch", help="set the folder the runtime imports dropped price/load files from ('' clears it)")
    p.add_argument("folder")
    _acting(p)
    p.set_defaults(func=cmd_watch)
    p = ms.add_parser("url", help="set an http(s) URL the runtime imports prices from periodically ('' clears it)")
    p.add_argument("url")
    _acting(p)
    p.set_defaults(func=cmd_url)
    p = ms.add_parser("import", help="import one price / ENTSO-E / load-PV file now")
    p.add_argument("file")
    _acting(p)
    p.set_defaults(func=cmd_import)


def _describe(source: MarketImportSource) -> str:
    return (f"import folder: {source.folder or '(none)'}\n"
            f"import URL: {source.url or '(none)'}\n"
            "(the desktop app and `gridroom serve` use these when they start)")


def cmd_show(args: Namespace) -> int:
    print(_describe(MarketImportSource.load()))
    return 0


def _change(args: Namespace, **change) -> int:
    services = open_services(args)
    try:
        actor = sign_in_admin(services, args, Permission.MANAGE_MARKET_DATA)
        source = ImportSourceSettings(services.db, services.audit, services.authorizer).change(actor, **change)
    finally:
        services.close()
    print(_describe(source))
    return 0


def cmd_watch(args: Namespace) -> int:
    return _change(args, folder=args.folder)


def cmd_url(args: Namespace) -> int:
    return _change(args, url=args.url)


def cmd_import(args: Namespace) -> int:
    services = open_services(args)
    try:
        actor = sign_in_admin(services, args, Permission.MANAGE_MARKET_DATA)
        market = MarketDataService(services.db, services.audit, services.authorizer, services.clock)
        result = market.import_file(actor, args.file)
    finally:
        services.close()
    if not result.ok:
        where = f"line {result.error_line}: " if result.error_line else ""
        raise CommandError(f"{args.file} not imported, nothing stored. {where}{result.error}")
    print(result.summary())
    return 0
