"""What every command needs: opening the database, asking for passwords, signing in an admin."""

from __future__ import annotations

import getpass
import sys
from argparse import Namespace

from core.auth.principal import Principal
from core.auth.roles import Permission
from core.secrets import SecretStore
from core.services import CoreServices
from core.settings import resolve_database_url
from core.storage.database import Database


class CommandError(Exception):
    """A command failed for a reason the user can act on; printed without a traceback."""


def open_services(args: Namespace, upgrade: bool = True) -> CoreServices:
    secrets = SecretStore()
    url = resolve_database_url(getattr(args, "database", None), secrets)
    return CoreServices.build(Database.open(url, upgrade=upgrade), secrets=secrets)


def read_password(args: Namespace, prompt: str, confirm: bool = False) -> str:
    """From stdin with --password-stdin (scripts), else from the terminal without echo."""
    if getattr(args, "password_stdin", False):
        line = sys.stdin.readline()
        if not line:
            raise CommandError("--password-stdin given but standard input is empty")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for a password: pipe it in with --password-stdin")
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("Repeat: ") != first:
        raise CommandError("the two passwords differ")
    return first


def sign_in_admin(services: CoreServices, args: Namespace, permission: Permission) -> Principal:
    """CLI administration acts as a named admin, signed in like in the GUI, so it is audited under their name."""
    if not args.admin:
        raise CommandError("name the administrator acting: --admin USER")
    password = read_password(args, f"Password for {args.admin}: ")
    actor = services.users.authenticate(args.admin, password)
    services.authorizer.require(actor, permission, "cli")
    return actor
