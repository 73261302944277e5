"""gridroom report NAME --from --to --out: reports rendered headless (PDF, CSV or JSON by the file suffix)."""

from __future__ import annotations

from argparse import Namespace, _SubParsersAction
from pathlib import Path

from core.audit.trail import AuditFilter
from core.auth.roles import Permission
from gridroom.commands.common import CommandError, open_services, sign_in_admin
from gridroom.commands.users import _when

# Reports whose data GridRoom can load from its database today; the others in reports.registry have
# builders but their core queries arrive with the telemetry, schedule and alarm storage.
LOADED_REPORTS = ("audit",)


def register(sub: _SubParsersAction) -> None:
    p = sub.add_parser("report", help="render a report headless: PDF, CSV or JSON by --out's suffix")
    p.add_argument("name", choices=LOADED_REPORTS)
    p.add_argument("--from", dest="since", type=_when, help="period start (ISO 8601; UTC when no offset)")
    p.add_argument("--to", dest="until", type=_when, help="period end, exclusive")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--zone", default="UTC", help="IANA time zone for times on the page (e.g. Europe/Brussels)")
    p.add_argument("--admin", required=True, help="the user the report runs as (permissions and audit)")
    p.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=cmd_report)


def cmd_report(args: Namespace) -> int:
    from reports.audit_report import export_audit
    from reports.meta import ReportError

    if args.since and args.until and args.since >= args.until:
        raise CommandError("--from must be before --to")
    services = open_services(args)
    actor = sign_in_admin(services, args, Permission.VIEW_AUDIT)
    try:
        data = export_audit(services, actor, AuditFilter(since=args.since, until=args.until), args.out, local_zone=args.zone)
    except ReportError as exc:
        raise CommandError(str(exc)) from exc
    print(f"wrote {args.name} report ({len(data.rows)} rows) to {args.out}")
    return 0
