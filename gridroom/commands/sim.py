"""gridroom sim: run the simulated fleet (MQTT + Modbus devices), and inject faults into a running one.

    gridroom sim [--broker HOST:PORT|embedded] [--fleet FILE] [--modbus-port N] [--seed N]
    gridroom sim inject KIND --device ID [--pack P --cell C] [--code N] [--metric M] [--clear]

`inject` publishes a request on the simulator control topic (gridroom/sim/fault) and waits for the
running simulator's answer, so a typo or a wrong device kind is reported, not silently lost.
"""

from __future__ import annotations

import threading
import uuid
from argparse import Namespace, _SubParsersAction

from drivers.mqtt.broker_config import BrokerConfig
from drivers.sim.faults import (
    CONTROL_RESULT_TOPIC,
    CONTROL_TOPIC,
    FAULT_KINDS,
    FaultMessage,
    FaultMessageError,
    FaultResultMessage,
    encode_message,
)
from drivers.sim.fleet_definition import FleetDefinitionError, load_fleet_definition
from gridroom.commands.common import CommandError, StopSignals

DEFAULT_BROKER = "127.0.0.1:1883"


def register(sub: _SubParsersAction) -> None:
    p = sub.add_parser("sim", help="run the simulated device fleet (MQTT + Modbus) until SIGINT/SIGTERM")
    p.add_argument("--broker", default=DEFAULT_BROKER, metavar="HOST:PORT",
                   help=f"MQTT broker (default {DEFAULT_BROKER}); 'embedded' starts a loopback broker")
    p.add_argument("--fleet", metavar="FILE", help="fleet definition JSON (default: the shipped demo fleet)")
    p.add_argument("--modbus-port", type=int, default=0, metavar="N", help="Modbus TCP port (default: a free one)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the physics and patterns")
    p.set_defaults(func=cmd_sim)
    actions = p.add_subparsers(dest="sim_action", metavar="ACTION")
    inject = actions.add_parser("inject", help="inject (or --clear) a fault in a running simulator")
    inject.add_argument("kind", choices=sorted(FAULT_KINDS), metavar="KIND", help=", ".join(sorted(FAULT_KINDS)))
    inject.add_argument("--device", required=True, metavar="ID", help="device id, e.g. bess-0001, mbs-01, bs-01")
    inject.add_argument("--pack", type=int, help="pack index (cell faults)")
    inject.add_argument("--cell", type=int, help="cell index within the pack (cell faults)")
    inject.add_argument("--code", type=int, help="Modbus exception code (modbus_exception, default 4)")
    inject.add_argument("--metric", help="stuck sensor metric: voltage_v, temp_c, soc_pct, soh_pct")
    inject.add_argument("--clear", action="store_true", help="clear the fault instead of injecting it")
    inject.add_argument("--broker", dest="inject_broker", metavar="HOST:PORT", help=f"MQTT broker (default {DEFAULT_BROKER})")
    inject.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the simulator's answer")
    inject.set_defaults(func=cmd_inject)


def parse_broker(text: str) -> BrokerConfig:
    """HOST:PORT (or HOST, port 1883) as a BrokerConfig."""
    host, _, port_text = text.rpartition(":") if ":" in text else (text, "", "1883")
    try:
        port = int(port_text)
    except ValueError:
        raise CommandError(f"--broker {text!r}: the port must be a number") from None
    if not host or not 0 < port < 65536:
        raise CommandError(f"--broker {text!r}: expected HOST:PORT")
    return BrokerConfig(host=host, port=port)


def cmd_sim(args: Namespace) -> int:
    """Run the fleet simulator in the foreground until SIGINT or SIGTERM."""
    from drivers.sim.fleet_sim import FleetSimulator  # late: `inject` does not need the physics

    try:
        definition = load_fleet_definition(args.fleet)
    except FleetDefinitionError as exc:
        raise CommandError(str(exc)) from None
    embedded = None
    if args.broker == "embedded":
        from drivers.mqtt.embedded_broker import EmbeddedBroker

        embedded = EmbeddedBroker()
        broker = BrokerConfig(host=embedded.host, port=embedded.start(), mqtt5=False)  # amqtt: MQTT 3.1.1 only
    else:
        broker = parse_broker(args.broker)
    sim = FleetSimulator(definition, broker, seed=args.seed, modbus_port=args.modbus_port)
    with StopSignals() as stop_signals:
        return _run_sim(sim, definition, broker, embedded, stop_signals)


def _run_sim(sim, definition, broker, embedded, stop_signals: StopSignals) -> int:
    try:
        try:
            sim.start()
        except (TimeoutError, OSError) as exc:
            raise CommandError(f"cannot start the simulator: {exc}") from None
        sim.run()
        systems = len(definition.battery_systems)
        print(f"gridroom sim: {len(definition.mqtt_devices)} MQTT BESS + {systems} battery system(s) on broker "
              f"{broker.host}:{broker.port}", flush=True)
        if sim.modbus is not None:
            print(f"gridroom sim: {len(definition.modbus_devices)} Modbus SunSpec devices on "
                  f"modbus+tcp://{sim.modbus.host}:{sim.modbus_port} (units "
                  f"{', '.join(str(d.unit_id) for d in definition.modbus_devices)})", flush=True)
        print("gridroom sim: running; stop with Ctrl+C or SIGTERM", flush=True)
        name = stop_signals.wait()
        print(f"gridroom sim: {name} received, stopping", flush=True)
    finally:
        sim.stop()
        if embedded is not None:
            embedded.stop()
    print("gridroom sim: stopped", flush=True)
    return 0


def fault_request(args: Namespace, request_id: str) -> FaultMessage:
    """The control message the inject arguments describe (validated like the simulator validates it)."""
    body = {"v": 1, "request_id": request_id, "kind": args.kind, "device_id": args.device, "clear": args.clear}
    for name in ("pack", "cell", "code", "metric"):
        value = getattr(args, name)
        if value is not None:
            body[name] = value
    try:
        return FaultMessage.model_validate(body)
    except Exception as exc:  # pydantic's ValidationError, reduced to its first message
        errors = getattr(exc, "errors", None)
        reason = errors(include_url=False, include_input=False)[0]["msg"] if errors else str(exc)
        raise CommandError(f"invalid fault: {reason.removeprefix('Value error, ')}") from None


def cmd_inject(args: Namespace) -> int:
    """Publish a fault request and report the simulator's answer."""
    request_id = f"inject-{uuid.uuid4().hex[:12]}"
    request = fault_request(args, request_id)
    broker = parse_broker(args.inject_broker or DEFAULT_BROKER)
    answer: list[FaultResultMessage] = []
    answered, subscribed = threading.Event(), threading.Event()

    def on_message(client, userdata, message) -> None:
        try:
            result = FaultResultMessage.model_validate_json(message.payload)
        except (ValueError, FaultMessageError):
            return
        if result.request_id == request_id:
            answer.append(result)
            answered.set()

    client = broker.make_client(role="gridroom-sim-inject")
    client.on_connect = lambda c, *a: c.subscribe(CONTROL_RESULT_TOPIC, 1)
    client.on_subscribe = lambda *a: subscribed.set()
    client.on_message = on_message
    try:
        client.connect(broker.host, broker.port)
    except OSError as exc:
        raise CommandError(f"cannot reach the MQTT broker {broker.host}:{broker.port}: {exc}") from None
    client.loop_start()
    try:
        if not subscribed.wait(args.timeout):
            raise CommandError(f"the broker {broker.host}:{broker.port} did not accept the subscription")
        client.publish(CONTROL_TOPIC, encode_message(request), qos=1)
        if not answered.wait(args.timeout):
            raise CommandError(f"no simulator owning {args.device} answered within {args.timeout:g} s "
                               f"(is `gridroom sim` running on {broker.host}:{broker.port}?)")
    finally:
        client.disconnect()
        client.loop_stop()
    result = answer[0]
    verb = "cleared" if args.clear else "injected"
    if not result.ok:
        raise CommandError(f"the simulator refused: {result.reason}")
    print(f"gridroom sim: {verb} {args.kind} on {args.device}", flush=True)
    return 0
