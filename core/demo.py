"""The demo site and demo users `gridroom demo` starts with. Credentials are public: demo only."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core.auth.principal import SYSTEM
from core.auth.roles import Role
from core.auth.tables import UserRow
from core.fleet.tables import SiteRow
from core.services import CoreServices


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: Role
    display_name: str


DEMO_USERS = (
    DemoUser("demo-admin", "North-Sea-Admin-26", Role.ADMIN, "Demo Administrator"),
    DemoUser("demo-operator", "North-Sea-Operator-26", Role.OPERATOR, "Demo Grid Operator"),
    DemoUser("demo-trader", "North-Sea-Trader-26", Role.TRADER, "Demo Energy Trader"),
    DemoUser("demo-viewer", "North-Sea-Viewer-26", Role.VIEWER, "Demo Viewer"),
)
DEMO_OPERATOR = DEMO_USERS[1]

# (name, location, lat, lon, IANA zone) — real places, so maps and local time look right.
DEMO_SITES = (
    ("Rotterdam Harbour", "Maasvlakte, Rotterdam, NL", 51.955, 4.022, "Europe/Amsterdam"),
    ("Antwerp North", "Port of Antwerp, BE", 51.289, 4.301, "Europe/Brussels"),
    ("Lille Depot", "Lesquin, Lille, FR", 50.589, 3.111, "Europe/Paris"),
)


def seed_demo(services: CoreServices) -> None:
    """Create the demo sites and users when missing; idempotent, so every `gridroom demo` can call it."""
    now = services.clock.now()
    with services.db.session() as s:
        existing_sites = set(s.execute(select(SiteRow.name)).scalars())
        for name, location, lat, lon, tz in DEMO_SITES:
            if name not in existing_sites:
                s.add(SiteRow(name=name, location=location, latitude=lat, longitude=lon, timezone=tz, created_at=now))
                services.audit.append(s, SYSTEM, "site.create", f"site:{name}", detail={"demo": True})
        existing_users = set(s.execute(select(UserRow.username)).scalars())
    admin = DEMO_USERS[0]
    if admin.username not in existing_users and not services.users.has_admin():
        services.users.create_first_admin(admin.username, admin.password, admin.display_name)
        existing_users.add(admin.username)
    for user in DEMO_USERS[1:]:
        if user.username not in existing_users:
            # Created by the system as permanent demo passwords (not temporary) so the demo signs straight in.
            services.users._create(SYSTEM, user.username, user.role, user.password, user.display_name, temporary=False)
