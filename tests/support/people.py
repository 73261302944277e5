"""Signed-in principals of every human role, for core service tests."""

from __future__ import annotations

STRONG = "Correct-Horse-42"


def make_people(services) -> dict:
    """chief (admin), olga (operator), tom (trader), vic (viewer): each signed in with a permanent password."""
    users = services.users
    users.create_first_admin("chief", STRONG)
    chief = users.authenticate("chief", STRONG)
    people = {"chief": chief}
    for name, role in (("olga", "operator"), ("tom", "trader"), ("vic", "viewer")):
        users.create_user(chief, name, role, STRONG)
        users.change_password(users.authenticate(name, STRONG), STRONG, STRONG + "x")
        people[name] = users.authenticate(name, STRONG + "x")
    return people
