"""gridroom users: first admin, and the admin's user management from a terminal."""

from __future__ import annotations

from argparse import Namespace, _SubParsersAction
from datetime import datetime, timezone

from core.auth.roles import Permission, Role
from core.auth.users import UserFilter, UserInfo
from gridroom.commands.common import CommandError, open_services, read_password, sign_in_admin


def _when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not an ISO 8601 date or time (e.g. 2026-11-01 or 2026-11-01T08:00+01:00)") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def register(sub: _SubParsersAction) -> None:
    users = sub.add_parser("users", help="user accounts: create-admin, list, create, set-role, deactivate, ...")
    us = users.add_subparsers(dest="users_command", required=True)

    p = us.add_parser("create-admin", help="create the first administrator (only when none exists)")
    p.add_argument("username")
    p.add_argument("--display-name", default="")
    p.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=cmd_create_admin)

    def admin_cmd(name: str, help_: str, func, *extra: tuple[tuple, dict]):
        p = us.add_parser(name, help=help_)
        p.add_argument("--admin", required=True, help="the administrator performing the change")
        p.add_argument("--password-stdin", action="store_true", help="read passwords from stdin, one per line")
        for a, kw in extra:
            p.add_argument(*a, **kw)
        p.set_defaults(func=func)

    admin_cmd(
        "list", "list users", cmd_list,
        (("--role",), {}), (("--status",), {"choices": ["active", "inactive"]}),
        (("--logged-in-since",), {"type": _when}), (("--not-logged-in-since",), {"type": _when}),
    )
    admin_cmd(
        "create", "create a user with a temporary password", cmd_create,
        (("username",), {}), (("--role",), {"required": True}), (("--display-name",), {"default": ""}),
    )
    admin_cmd("set-role", "change a user's role", cmd_set_role, (("username",), {}), (("role",), {}))
    admin_cmd("deactivate", "revoke a user's access at once (data is kept)", cmd_deactivate, (("username",), {}))
    admin_cmd("reactivate", "restore a deactivated user", cmd_reactivate, (("username",), {}))
    admin_cmd("reset-password", "set a temporary password", cmd_reset_password, (("username",), {}))
    admin_cmd("unlock", "clear a lockout after failed sign-ins", cmd_unlock, (("username",), {}))


def _row(u: UserInfo) -> str:
    last = u.last_login_at.isoformat(timespec="minutes") if u.last_login_at else "never"
    status = "active" if u.active else "inactive"
    flags = (" locked" if u.locked_until else "") + (" temp-password" if u.must_change_password else "")
    return f"{u.username:<20} {u.role.value:<9} {status:<9} {last:<26}{flags}"


def cmd_create_admin(args: Namespace) -> int:
    services = open_services(args)
    password = read_password(args, f"New password for {args.username}: ", confirm=True)
    info = services.users.create_first_admin(args.username, password, args.display_name)
    print(f"created administrator {info.username}")
    return 0


def cmd_list(args: Namespace) -> int:
    services = open_services(args)
    actor = sign_in_admin(services, args, Permission.MANAGE_USERS)
    flt = UserFilter(
        role=Role.parse(args.role) if args.role else None,
        active=None if args.status is None else args.status == "active",
        logged_in_since=args.logged_in_since,
        not_logged_in_since=args.not_logged_in_since,
    )
    print(f"{'USER':<20} {'ROLE':<9} {'STATUS':<9} {'LAST LOGIN':<26}")
    for u in services.users.list_users(actor, flt):
        print(_row(u))
    return 0


def cmd_create(args: Namespace) -> int:
    services = open_services(args)
    role = Role.parse(args.role)  # refuse an unknown role before asking for any password
    actor = sign_in_admin(services, args, Permission.MANAGE_USERS)
    temp = read_password(args, f"Temporary password for {args.username}: ", confirm=True)
    info = services.users.create_user(actor, args.username, role, temp, args.display_name)
    print(f"created {info.username} ({info.role.value}); they must change the password at first sign-in")
    return 0


def cmd_set_role(args: Namespace) -> int:
    services = open_services(args)
    role = Role.parse(args.role)
    actor = sign_in_admin(services, args, Permission.MANAGE_USERS)
    info = services.users.set_role(actor, args.username, role)
    print(f"{info.username} is now {info.role.value}")
    return 0


def cmd_deactivate(args: Namespace) -> int:
    services = open_services(args)
    actor = sign_in_admin(services, args, Permission.MANAGE_USERS)
    info = services.users.deactivate(actor, args.username)
    print(f"{info.username} deactivated; their data and history are kept")
    return 0


def cmd_reactivate(args: Namespace) -> int:
    services = open_services(args)
    actor = sign_in_admin(services, args, Permission.MANAGE_USERS)
    print(f"{services.users.reactivate(actor, args.username).username} reactivated")
    return 0


def cmd_reset_password(args: Namespace) -> int:
    services = open_services(args)
    actor = sign_in_admin(services, args, Permission.MANAGE_USERS)
    temp = read_password(args, f"Temporary password for {args.username}: ", confirm=True)
    info = services.users.reset_password(actor, args.username, temp)
    print(f"{info.username} has a temporary password and must change it at next sign-in")
    return 0


def cmd_unlock(args: Namespace) -> int:
    services = open_services(args)
    actor = sign_in_admin(services, args, Permission.MANAGE_USERS)
    print(f"{services.users.unlock(actor, args.username).username} unlocked")
    return 0
