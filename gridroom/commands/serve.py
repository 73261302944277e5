"""gridroom serve: the runtime without a GUI, until SIGINT or SIGTERM."""

from __future__ import annotations

import socket
import sys
from argparse import Namespace, _SubParsersAction

from core.auth.principal import SYSTEM
from core.runtime.heap import settle_heap
from gridroom.commands.common import StopSignals, open_services
from gridroom.composition import build_fleet, build_market, build_runtime
from gridroom.fleet_runtime import FleetSettings
from gridroom.market_runtime import market_settings


def register(sub: _SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the runtime headless (site server, field box) until SIGINT/SIGTERM")
    p.add_argument("--broker", metavar="HOST:PORT", help="MQTT broker the devices publish to")
    p.add_argument("--demo-fleet", action="store_true", help="also run the simulated demo fleet (embedded broker)")
    p.add_argument("--ingest-workers", type=int, default=0, metavar="N",
                   help="decode telemetry in N worker processes (needs a broker with shared subscriptions, "
                        "e.g. Mosquitto; not with --demo-fleet's embedded broker)")
    p.add_argument("--ack-reader-in-process", action="store_true",
                   help="read and decode schedule acks in the runtime's own process (default: a reader process, "
                        "so a fleet-wide distribution's acks do not compete with storing them)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: Namespace) -> int:
    from gridroom.commands.sim import parse_broker

    if args.ingest_workers < 0:
        print("gridroom serve: --ingest-workers must be 0 or more", file=sys.stderr)
        return 2
    if args.ingest_workers and not args.broker:
        print("gridroom serve: --ingest-workers needs --broker HOST:PORT of a broker with shared subscriptions "
              "(the embedded demo broker has none)", file=sys.stderr)
        return 2
    services = open_services(args)
    broker = parse_broker(args.broker) if args.broker else None
    demo = None
    if args.demo_fleet:
        from core.demo import seed_demo
        from gridroom.demo_fleet import start_demo_fleet

        seed_demo(services)
        demo = start_demo_fleet(services, broker)
        broker = demo.broker
    # The headless runtime owns schedule acks: a persistent MQTT session keeps the acks devices send while it is
    # down (one session per host; the desktop keeps a clean session), read in a process of their own.
    fleet = build_fleet(services, FleetSettings(broker=broker, ack_session_id=f"gridroom-serve-{socket.gethostname()}",
                                                ingest_workers=args.ingest_workers,
                                                ack_reader_process=not args.ack_reader_in_process))
    runtime = build_runtime(services, fleet, build_market(services, market_settings()))
    with StopSignals() as stop_signals:
        try:
            return _serve(services, runtime, fleet, stop_signals)
        finally:
            if demo is not None:
                demo.stop()
            services.close()


def _serve(services, runtime, fleet, stop_signals: StopSignals) -> int:
    runtime.start()
    settle_heap()  # once per process, after start-up: see core/runtime/heap.py
    with services.db.session() as s:
        services.audit.append(s, SYSTEM, "runtime.start", "serve")
    print(f"gridroom serve: runtime running with {len(fleet.devices)} devices; stop with Ctrl+C or SIGTERM", flush=True)
    _report_acks(fleet)
    name = stop_signals.wait()
    print(f"gridroom serve: {name} received, stopping", flush=True)
    runtime.stop()
    with services.db.session() as s:
        services.audit.append(s, SYSTEM, "runtime.stop", "serve", detail={"signal": name})
    print("gridroom serve: stopped cleanly", flush=True)
    return 0


ACK_READY_WAIT_S = 10.0


def _report_acks(fleet) -> None:
    """Say whether schedule acks are being received: the operator starting a site server sees at once when the
    broker is not reachable (the listener keeps trying in the background)."""
    acks = fleet.schedules.acks
    if acks is None:
        return
    where = "in a reader process" if acks.reader_process else "in this process"
    if acks.wait_ready(ACK_READY_WAIT_S):
        print(f"gridroom serve: schedule acks: listening ({where})", flush=True)
    else:
        print(f"gridroom serve: schedule acks: broker not reachable within {ACK_READY_WAIT_S:g} s; "
              "listening once it is", flush=True)
