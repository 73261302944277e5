"""gridroom (the desktop app) and gridroom demo."""

from __future__ import annotations

import os
import sys
from argparse import Namespace, _SubParsersAction

from core.demo import DEMO_OPERATOR, DEMO_USERS, seed_demo
from core.errors import GridRoomError
from core.secrets import SecretStore
from core.services import CoreServices
from core.settings import data_dir, resolve_database_url
from core.storage.database import Database
from core.runtime.heap import settle_heap
from gridroom.composition import build_fleet, build_market, build_runtime
from gridroom.fleet_runtime import FleetSettings
from gridroom.market_runtime import market_settings


def register(sub: _SubParsersAction) -> None:
    p = sub.add_parser("gui", help="the desktop app with the sign-in dialog (the default)")
    p.set_defaults(func=cmd_gui)
    p = sub.add_parser("demo", help="the desktop app on a demo database, signed in as the demo operator")
    p.add_argument("--as", dest="demo_user", default=DEMO_OPERATOR.username,
                   choices=[u.username for u in DEMO_USERS], help="which demo user to sign in as")
    p.add_argument("--seed-only", action="store_true", help="create the demo data and exit (no window)")
    p.add_argument("--broker", metavar="HOST:PORT", help="use this MQTT broker instead of the embedded one")
    p.set_defaults(func=cmd_demo)


def demo_database_url() -> str:
    # A file of its own, so demo users and sites never mix into a real control room's database.
    return os.environ.get("GRIDROOM_DEMO_DATABASE_URL") or f"sqlite:///{data_dir() / 'demo.sqlite3'}"


def _fatal(message: str) -> int:
    print(f"gridroom: {message}", file=sys.stderr)
    try:
        from PySide6.QtWidgets import QApplication, QMessageBox

        app = QApplication.instance() or QApplication(sys.argv)
        QMessageBox.critical(None, "GridRoom cannot start", message)
        del app
    except Exception:  # no display: the message on stderr is all we can do
        pass
    return 2


def _launch(url: str, demo_login: tuple[str, str] | None, broker_text: str | None = None) -> int:
    from desktop.app import run_desktop
    from gridroom.commands.sim import parse_broker

    secrets = SecretStore()
    try:
        services = CoreServices.build(Database.open(url), secrets=secrets)
    except GridRoomError as exc:
        return _fatal(str(exc))
    broker = parse_broker(broker_text) if broker_text else None
    demo = None
    if demo_login:
        from gridroom.demo_fleet import start_demo_fleet

        seed_demo(services)
        demo = start_demo_fleet(services, broker)
        broker = demo.broker
    try:
        fleet = build_fleet(services, FleetSettings(broker=broker))
        market = build_market(services, market_settings())  # the watched import folder, when one is set
        settle_heap()  # once per process, after the imports and the composition: see core/runtime/heap.py
        return run_desktop(lambda: services, lambda: build_runtime(services, fleet, market), demo_login=demo_login,
                           fleet=fleet.context, gui_thread_gc=True)
    finally:
        if demo is not None:
            demo.stop()


def cmd_gui(args: Namespace) -> int:
    try:
        url = resolve_database_url(args.database, SecretStore())
    except GridRoomError as exc:
        return _fatal(str(exc))
    return _launch(url, None)


def cmd_demo(args: Namespace) -> int:
    url = args.database or demo_database_url()
    user = next(u for u in DEMO_USERS if u.username == args.demo_user)
    if args.seed_only:
        services = CoreServices.build(Database.open(url))
        seed_demo(services)
        services.close()
        print(f"demo data ready in {url}")
        return 0
    print(f"GridRoom demo: signed in as {user.username} (password {user.password}); database {url}", flush=True)
    return _launch(url, (user.username, user.password), args.broker)
