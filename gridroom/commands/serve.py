"""gridroom serve: the runtime without a GUI, until SIGINT or SIGTERM."""

from __future__ import annotations

import signal
import threading
from argparse import Namespace, _SubParsersAction

from core.auth.principal import SYSTEM
from gridroom.commands.common import open_services
from gridroom.composition import build_runtime


def register(sub: _SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the runtime headless (site server, field box) until SIGINT/SIGTERM")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: Namespace) -> int:
    services = open_services(args)
    runtime = build_runtime(services)
    stop = threading.Event()
    received: list[str] = []

    def on_signal(signum, _frame):
        received.append(signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        runtime.start()
        with services.db.session() as s:
            services.audit.append(s, SYSTEM, "runtime.start", "serve")
        print("gridroom serve: runtime running; stop with Ctrl+C or SIGTERM", flush=True)
        stop.wait()
        print(f"gridroom serve: {received[0]} received, stopping", flush=True)
        runtime.stop()
        with services.db.session() as s:
            services.audit.append(s, SYSTEM, "runtime.stop", "serve", detail={"signal": received[0]})
        print("gridroom serve: stopped cleanly", flush=True)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        services.close()
