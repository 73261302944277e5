"""gridroom serve: the runtime without a GUI, until SIGINT or SIGTERM."""

from __future__ import annotations

import signal
import threading
from argparse import Namespace, _SubParsersAction

from core.auth.principal import SYSTEM
from gridroom.commands.common import open_services
from gridroom.composition import build_fleet, build_runtime
from gridroom.fleet_runtime import FleetSettings


def register(sub: _SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the runtime headless (site server, field box) until SIGINT/SIGTERM")
    p.add_argument("--broker", metavar="HOST:PORT", help="MQTT broker the devices publish to")
    p.add_argument("--demo-fleet", action="store_true", help="also run the simulated demo fleet (embedded broker)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: Namespace) -> int:
    from gridroom.commands.sim import parse_broker

    services = open_services(args)
    broker = parse_broker(args.broker) if args.broker else None
    demo = None
    if args.demo_fleet:
        from core.demo import seed_demo
        from gridroom.demo_fleet import start_demo_fleet

        seed_demo(services)
        demo = start_demo_fleet(services, broker)
        broker = demo.broker
    fleet = build_fleet(services, FleetSettings(broker=broker))
    runtime = build_runtime(services, fleet)
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
        print(f"gridroom serve: runtime running with {len(fleet.devices)} devices; stop with Ctrl+C or SIGTERM", flush=True)
        stop.wait()
        print(f"gridroom serve: {received[0]} received, stopping", flush=True)
        runtime.stop()
        with services.db.session() as s:
            services.audit.append(s, SYSTEM, "runtime.stop", "serve", detail={"signal": received[0]})
        print("gridroom serve: stopped cleanly", flush=True)
        return 0
    finally:
        if demo is not None:
            demo.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        services.close()
