"""gridroom devices: onboarding devices from a terminal (add, list, decommission), as a signed-in admin."""

from __future__ import annotations

from argparse import Namespace, _SubParsersAction

from core.auth.roles import Permission
from core.devices import KINDS, DeviceInfo, DeviceRegistry, DeviceSpec
from core.services import CoreServices
from gridroom.commands.common import open_services, sign_in_admin


def register(sub: _SubParsersAction) -> None:
    devices = sub.add_parser("devices", help="device registry: add, list, decommission")
    ds = devices.add_subparsers(dest="devices_command", required=True)

    def admin_cmd(name: str, help_: str, func):
        p = ds.add_parser(name, help=help_)
        p.add_argument("--admin", required=True, help="the administrator performing the change")
        p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
        p.set_defaults(func=func)
        return p

    p = admin_cmd("add", "register a device", cmd_add)
    p.add_argument("device_id", help="letters, digits, '_', '-', '.'; used in MQTT topics and certificates")
    p.add_argument("--name", required=True)
    p.add_argument("--site", required=True, help="site name or id")
    p.add_argument("--kind", required=True, choices=KINDS)
    p.add_argument("--capacity-kwh", type=float, required=True)
    p.add_argument("--max-charge-kw", type=float, required=True)
    p.add_argument("--max-discharge-kw", type=float, required=True)
    p.add_argument("--address", required=True, help="mqtt://broker:1883/<device_id>, modbus+tcp://host:502/<unit> or sim://<profile>")
    p.add_argument("--location", default="")
    p.add_argument("--latitude", type=float)
    p.add_argument("--longitude", type=float)
    p.add_argument("--packs", type=int, help="battery systems: number of packs")
    p.add_argument("--cells-per-pack", type=int, help="battery systems: cells in each pack")

    p = admin_cmd("list", "list devices", cmd_list)
    p.add_argument("--site", help="site name or id")
    p.add_argument("--text", help="part of the id, name or location")
    p.add_argument("--active-only", action="store_true")

    p = admin_cmd("decommission", "take a device out of service (its record and history are kept)", cmd_decommission)
    p.add_argument("device_id")


def _registry(services: CoreServices) -> DeviceRegistry:
    return DeviceRegistry(services.db, services.audit, services.authorizer, services.clock)


def _site(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _row(d: DeviceInfo) -> str:
    spec = d.spec
    status = "active" if d.active else "decommissioned"
    return (
        f"{spec.device_id:<20} {spec.kind:<15} {d.site_name:<16} {spec.capacity_kwh:>10g} "
        f"{spec.max_charge_kw:>8g}/{spec.max_discharge_kw:<8g} {status:<15} {spec.address}"
    )


def cmd_add(args: Namespace) -> int:
    services = open_services(args)
    actor = sign_in_admin(services, args, Permission.MANAGE_DEVICES)
    registry = _registry(services)
    spec = DeviceSpec(
        device_id=args.device_id, name=args.name, site_id=registry.site_id(_site(args.site)), kind=args.kind,
        capacity_kwh=args.capacity_kwh, max_charge_kw=args.max_charge_kw, max_discharge_kw=args.max_discharge_kw,
        address=args.address, location=args.location, latitude=args.latitude, longitude=args.longitude,
        packs=args.packs, cells_per_pack=args.cells_per_pack,
    )
    info = registry.register(actor, spec)
    print(f"registered {info.device_id} at {info.site_name} ({info.spec.address})")
    return 0


def cmd_list(args: Namespace) -> int:
    services = open_services(args)
    actor = sign_in_admin(services, args, Permission.VIEW_FLEET)
    registry = _registry(services)
    found = registry.list(
        actor, site=_site(args.site) if args.site else None, text=args.text, include_decommissioned=not args.active_only
    )
    print(f"{'DEVICE':<20} {'KIND':<15} {'SITE':<16} {'KWH':>10} {'CHG/DIS KW':<17} {'STATUS':<15} ADDRESS")
    for d in found:
        print(_row(d))
    return 0


def cmd_decommission(args: Namespace) -> int:
    services = open_services(args)
    actor = sign_in_admin(services, args, Permission.MANAGE_DEVICES)
    info = _registry(services).decommission(actor, args.device_id)
    print(f"{info.device_id} decommissioned at {info.decommissioned_at:%Y-%m-%d %H:%M} UTC; its record and history are kept")
    return 0
