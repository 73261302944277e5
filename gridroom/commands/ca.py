"""gridroom ca: GridRoom's own device CA — init, issue (provisioning bundle), revoke, broker-config."""

from __future__ import annotations

from argparse import Namespace, _SubParsersAction
from pathlib import Path

from core.auth.principal import SYSTEM
from core.auth.roles import Permission
from core.devices.registry import DeviceRegistry
from core.pki.revocation import RevocationReason
from core.pki.service import DeviceCertificates
from core.services import CoreServices
from core.settings import data_dir
from drivers.mqtt.broker_security import acl_file, mosquitto_conf
from gridroom.commands.common import open_services, sign_in_admin


def register(sub: _SubParsersAction) -> None:
    ca = sub.add_parser("ca", help="device certificates: init, issue, revoke, broker-config")
    cs = ca.add_subparsers(dest="ca_command", required=True)

    def admin_cmd(name: str, help_: str, func):
        p = cs.add_parser(name, help=help_)
        p.add_argument("--admin", required=True)
        p.add_argument("--password-stdin", action="store_true")
        p.add_argument("--ca-dir", type=Path, help="CA folder (default: pki/ in the data folder)")
        p.set_defaults(func=func)
        return p

    admin_cmd("init", "create the device CA (key passphrase kept in the keyring)", cmd_init)
    p = admin_cmd("issue", "issue a device certificate and write its provisioning bundle (zip)", cmd_issue)
    p.add_argument("device_id")
    p.add_argument("--broker", required=True, metavar="HOST:PORT", help="the broker address the device will use")
    p.add_argument("--out", type=Path, required=True)
    p = admin_cmd("revoke", "revoke a device's certificates and rewrite the CRL", cmd_revoke)
    p.add_argument("device_id")
    p.add_argument("--reason", default="unspecified", choices=[r.value for r in RevocationReason])
    p = admin_cmd("broker-config", "write a Mosquitto config, ACL and certificates for a TLS listener", cmd_broker_config)
    p.add_argument("--out", type=Path, required=True, help="folder for mosquitto.conf, acl, certificates")
    p.add_argument("--port", type=int, default=8883)
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--run-as", metavar="USER", help="the user Mosquitto runs as (it must be able to read --out)")


def _certificates(services: CoreServices, args: Namespace) -> DeviceCertificates:
    registry = DeviceRegistry(services.db, services.audit, services.authorizer, services.clock)
    return DeviceCertificates(args.ca_dir or data_dir() / "pki", services.db, services.audit, services.authorizer,
                              services.secrets, registry, services.clock)


def cmd_init(args: Namespace) -> int:
    services = open_services(args)
    actor = sign_in_admin(services, args, Permission.MANAGE_DEVICES)
    ca = _certificates(services, args).init_ca(actor)
    print(f"device CA created in {ca.folder} (valid until {ca.not_after:%Y-%m-%d}); key passphrase is in the keyring")
    return 0


def cmd_issue(args: Namespace) -> int:
    from gridroom.commands.sim import parse_broker

    services = open_services(args)
    actor = sign_in_admin(services, args, Permission.MANAGE_DEVICES)
    broker = parse_broker(args.broker)
    path = _certificates(services, args).issue_bundle(actor, args.device_id, broker.host, broker.port, args.out)
    print(f"provisioning bundle for {args.device_id} written to {path} (keep it secret: it holds the device key)")
    return 0


def cmd_revoke(args: Namespace) -> int:
    services = open_services(args)
    actor = sign_in_admin(services, args, Permission.MANAGE_DEVICES)
    serials = _certificates(services, args).revoke(actor, args.device_id, args.reason)
    print(f"revoked {len(serials)} certificate(s) of {args.device_id}; restart the broker so it reloads the CRL")
    return 0


def cmd_broker_config(args: Namespace) -> int:
    services = open_services(args)
    actor = sign_in_admin(services, args, Permission.MANAGE_DEVICES)
    certs = _certificates(services, args)
    ca = certs.open_ca()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    ca.issue_server_certificate().write_files(out / "server.crt", out / "server.key")
    ca.issue_control_certificate().write_files(out / "control.crt", out / "control.key")
    (out / "ca.crt").write_bytes(ca.cert_pem)
    (out / "crl.pem").write_bytes(ca.crl_pem())
    devices = [d.device_id for d in certs.registry.list(SYSTEM, include_decommissioned=False)]
    (out / "acl").write_text(acl_file(devices), encoding="utf-8")
    conf = mosquitto_conf(args.port, out / "ca.crt", out / "server.crt", out / "server.key", out / "crl.pem",
                          out / "acl", bind=args.bind,
                          extra_global=[f"user {args.run_as}"] if args.run_as else ())
    (out / "mosquitto.conf").write_text(conf, encoding="utf-8")
    with services.db.session() as s:
        services.audit.append(s, actor, "pki.broker_config", str(out), detail={"port": args.port, "devices": len(devices)})
    print(f"wrote {out / 'mosquitto.conf'} for {len(devices)} devices; start it with: mosquitto -c {out / 'mosquitto.conf'}")
    return 0
