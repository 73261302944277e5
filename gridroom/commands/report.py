"""gridroom report NAME --from --to --out: reports rendered headless (PDF, CSV or JSON by the file suffix), and
gridroom report schedule add/list/remove: daily or weekly reports written to a folder and optionally e-mailed."""

from __future__ import annotations

from argparse import ArgumentParser, Namespace, _SubParsersAction
from pathlib import Path

from core.auth.roles import Permission
from gridroom.commands.common import CommandError, open_services, sign_in_admin
from gridroom.commands.users import _when

REPORT_HELP = {
    "audit": "audit trail: who did what, when, from where",
    "fleet_health": "every device's SoC, SoH, status and active alarms at the period's end, and each "
                    "battery system's packs, weakest cells and alarms",
    "alarm_load": "EEMUA 191 alarm load: alarms per operator per 10 min, floods, standing, chattering",
    "schedule_execution": "planned against acknowledged schedule entries, deviations flagged",
    "analytics": "energy charged and discharged, cost and revenue, availability, anomalies",
}


def _signed_in(p: ArgumentParser) -> None:
    p.add_argument("--admin", required=True, help="the user the command runs as (permissions and audit)")
    p.add_argument("--password-stdin", action="store_true")


def _scope(p: ArgumentParser) -> None:
    p.add_argument("--zone", default="UTC", help="IANA time zone of the period's days and of times on the page")
    p.add_argument("--device", dest="devices", action="append", default=[], help="only this device (repeatable)")
    p.add_argument("--group", dest="groups", action="append", default=[], help="only this group/site (repeatable)")


def register(sub: _SubParsersAction) -> None:
    from reports.registry import report_names

    p = sub.add_parser("report", help="render a report headless (PDF, CSV or JSON by --out's suffix), or schedule one")
    names = p.add_subparsers(dest="report_name", required=True, metavar="NAME")
    for name in report_names():
        r = names.add_parser(name, help=REPORT_HELP.get(name, name))
        r.add_argument("--period", help="day:YYYY-MM-DD, week:YYYY-Www, month:YYYY-MM or custom:START/END (local to --zone)")
        r.add_argument("--from", dest="since", type=_when, help="period start (ISO 8601; UTC when no offset)")
        r.add_argument("--to", dest="until", type=_when, help="period end, exclusive")
        r.add_argument("--out", type=Path, required=True)
        r.add_argument("--operators", type=int, default=1, help="operator positions sharing the alarm load")
        r.add_argument("--price", type=float, help="flat energy price per kWh for cost and revenue (analytics)")
        r.add_argument("--sell-price", type=float, help="flat price per kWh discharged (default: --price)")
        r.add_argument("--currency", default="EUR")
        r.add_argument("--price-series", help="without --price: which stored day-ahead price series prices the "
                                              "period (e.g. price:BE) when several bidding zones are stored")
        _scope(r)
        _signed_in(r)
        r.set_defaults(func=cmd_report)

    s = names.add_parser("schedule", help="scheduled reports: add, list, remove")
    ss = s.add_subparsers(dest="schedule_command", required=True)
    a = ss.add_parser("add", help="make a report every day or week, into a folder, optionally e-mailed")
    a.add_argument("name", help="the schedule's name (lower case, digits, - and _)")
    a.add_argument("--report", required=True, choices=report_names())
    a.add_argument("--every", required=True, choices=("daily", "weekly"))
    a.add_argument("--folder", type=Path, required=True)
    a.add_argument("--format", dest="formats", action="append", choices=("pdf", "csv", "json"),
                   help="file format (repeatable; default pdf)")
    a.add_argument("--email", dest="recipients", action="append", default=[], help="recipient address (repeatable)")
    _scope(a)
    _signed_in(a)
    a.set_defaults(func=cmd_schedule_add)
    ls = ss.add_parser("list", help="the scheduled reports")
    _signed_in(ls)
    ls.set_defaults(func=cmd_schedule_list)
    rm = ss.add_parser("remove", help="stop a scheduled report")
    rm.add_argument("name")
    _signed_in(rm)
    rm.set_defaults(func=cmd_schedule_remove)


def _period(args: Namespace):
    from core.analytics import Period, parse_period

    if args.period and (args.since or args.until):
        raise CommandError("give --period or --from/--to, not both")
    if args.period:
        return parse_period(args.period, args.zone)
    if args.since and args.until:
        if args.since >= args.until:
            raise CommandError("--from must be before --to")
        return Period.custom(args.since, args.until, args.zone)
    if args.since or args.until:
        raise CommandError("give both --from and --to (or --period)")
    return None


def cmd_report(args: Namespace) -> int:
    from core.analytics import PriceSeries
    from core.audit.trail import AuditFilter
    from reports.audit_report import export_audit
    from reports.loaders import ReportRequest, export_report
    from reports.meta import ReportError

    period = _period(args)
    name = args.report_name
    services = open_services(args)
    if name == "audit" and period is None:  # the whole trail, as before periods existed
        actor = sign_in_admin(services, args, Permission.VIEW_AUDIT)
        try:
            data = export_audit(services, actor, AuditFilter(), args.out, local_zone=args.zone)
        except ReportError as exc:
            raise CommandError(str(exc)) from exc
        print(f"wrote audit report ({len(data.rows)} rows) to {args.out}")
        return 0
    if period is None:
        raise CommandError(f"report {name} needs a period: --period day:2026-03-01, or --from and --to")
    actor = sign_in_admin(services, args, Permission.VIEW_AUDIT if name == "audit" else Permission.EXPORT_REPORTS)
    buy = sell = None
    if args.price is not None:
        buy = PriceSeries.flat(period, args.price, args.currency)
        sell = PriceSeries.flat(period, args.sell_price, args.currency) if args.sell_price is not None else None
    if buy is not None and args.price_series:
        raise CommandError("give --price or --price-series, not both")
    request = ReportRequest(period, tuple(args.devices), tuple(args.groups), args.operators, buy, sell,
                            args.price_series)
    try:
        exported = export_report(services, actor, name, request, args.out)
    except ReportError as exc:
        raise CommandError(str(exc)) from exc
    what = "empty: no data in this period" if exported.rows == 0 else f"{exported.rows} rows"
    print(f"wrote {name} report for {period.label()} ({what}) to {args.out}")
    return 0


def _store(services):
    from core.reporting import ReportScheduleStore
    from reports.registry import report_names

    return ReportScheduleStore(services.db, services.audit, services.authorizer, report_names())


def cmd_schedule_add(args: Namespace) -> int:
    from core.reporting import ReportSchedule

    services = open_services(args)
    actor = sign_in_admin(services, args, Permission.MANAGE_SETTINGS)
    schedule = ReportSchedule(args.name, args.report, args.every, str(args.folder.resolve()), actor.username,
                              tuple(args.formats or ("pdf",)), tuple(args.recipients), args.zone,
                              tuple(args.devices), tuple(args.groups))
    _store(services).add(actor, schedule)
    print(f"scheduled {schedule.report} {schedule.cadence.value} as {schedule.name!r} into {schedule.folder}")
    return 0


def cmd_schedule_list(args: Namespace) -> int:
    services = open_services(args)
    actor = sign_in_admin(services, args, Permission.VIEW_REPORTS)
    print(f"{'NAME':<20} {'REPORT':<20} {'EVERY':<7} {'FORMATS':<13} {'ZONE':<16} {'RUNS AS':<12} FOLDER / E-MAIL")
    for s in _store(services).list(actor):
        mail = f"  -> {', '.join(s.recipients)}" if s.recipients else ""
        print(f"{s.name:<20} {s.report:<20} {s.cadence.value:<7} {','.join(s.formats):<13} {s.zone:<16} "
              f"{s.run_as:<12} {s.folder}{mail}")
    return 0


def cmd_schedule_remove(args: Namespace) -> int:
    services = open_services(args)
    actor = sign_in_admin(services, args, Permission.MANAGE_SETTINGS)
    _store(services).remove(actor, args.name)
    print(f"removed report schedule {args.name!r}")
    return 0
