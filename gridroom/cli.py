"""The `gridroom` command: the desktop app by default, plus headless administration commands."""

from __future__ import annotations

import argparse
import logging
import sys

from core.errors import GridRoomError
from gridroom.commands import app, audit, ca, db, devices, forecast, market, report, serve, sim, users
from gridroom.commands.common import CommandError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridroom",
        description="GridRoom: a control room for fleets of grid batteries. Without a command it opens the desktop app.",
    )
    parser.add_argument("--database", metavar="URL", help="database URL (default: settings, then the per-user SQLite file)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (app, serve, sim, db, users, devices, ca, audit, report, forecast, market):
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        args.func = app.cmd_gui
    try:
        return int(args.func(args) or 0)
    except (GridRoomError, CommandError) as exc:
        print(f"gridroom: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
