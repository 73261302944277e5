"""gridroom db: upgrade, status, backup, set-url."""

from __future__ import annotations

from argparse import Namespace, _SubParsersAction
from pathlib import Path

from core.auth.principal import SYSTEM
from core.secrets import SecretStore
from core.settings import resolve_database_url, set_database_url
from core.storage.database import Database, safe_url
from gridroom.commands.common import open_services


def register(sub: _SubParsersAction) -> None:
    db = sub.add_parser("db", help="database: upgrade, status, backup, set-url")
    dbs = db.add_subparsers(dest="db_command", required=True)
    p = dbs.add_parser("upgrade", help="apply migrations up to this version's schema (never downgrades)")
    p.set_defaults(func=cmd_upgrade)
    p = dbs.add_parser("status", help="show the database URL and schema state")
    p.set_defaults(func=cmd_status)
    p = dbs.add_parser("backup", help="copy the database while GridRoom keeps running")
    p.add_argument("path", type=Path)
    p.set_defaults(func=cmd_backup)
    p = dbs.add_parser("set-url", help="use another database (password goes to the keyring)")
    p.add_argument("url")
    p.set_defaults(func=cmd_set_url)


def cmd_upgrade(args: Namespace) -> int:
    services = open_services(args, upgrade=True)
    status = services.db.check()
    with services.db.session() as s:
        services.audit.append(s, SYSTEM, "db.upgrade", safe_url(services.db.url), detail={"schema": status.current})
    print(f"{safe_url(services.db.url)}: schema {status.current} ({status.state.value})")
    services.close()
    return 0


def cmd_status(args: Namespace) -> int:
    url = resolve_database_url(args.database, SecretStore())
    db = Database(url)
    status = db.check()
    print(f"database: {safe_url(url)}\nschema:   {status.current or 'none'} (this version: {status.head}) -> {status.state.value}")
    db.dispose()
    return 0


def cmd_backup(args: Namespace) -> int:
    services = open_services(args)
    target = services.db.backup(args.path)
    with services.db.session() as s:
        services.audit.append(s, SYSTEM, "db.backup", str(target))
    print(f"backed up {safe_url(services.db.url)} to {target}")
    services.close()
    return 0


def cmd_set_url(args: Namespace) -> int:
    Database.open(args.url).dispose()  # refuse a URL we cannot use before saving it
    settings = set_database_url(args.url, SecretStore())
    print(f"GridRoom will use {safe_url(settings.database_url)}")
    return 0
