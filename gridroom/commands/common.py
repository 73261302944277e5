"""What every command needs: opening the database, asking for passwords, signing in an admin."""

from __future__ import annotations

import getpass
import signal
import sys
import threading
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


class StopSignals:
    """SIGINT and SIGTERM handlers for a foreground service, installed for the whole `with` block (so a
    signal during start-up is not lost) and restored afterwards; `wait()` returns the signal's name."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._received: list[str] = []
        self._previous: dict = {}

    def __enter__(self) -> "StopSignals":
        self._previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _on_signal(self, signum, _frame) -> None:
        self._received.append(signal.Signals(signum).name)
        self._stop.set()

    def wait(self) -> str:
        self._stop.wait()
        return self._received[0]
