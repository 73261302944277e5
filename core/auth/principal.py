"""Who is acting: the identity every core service call carries."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from core.auth.roles import Role


def this_host() -> str:
    return socket.gethostname()


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated user (or the local system). The role here is informational: services re-read the
    stored role and status on every check, so a role change or deactivation takes effect at once."""

    user_id: int | None
    username: str
    role: Role
    must_change_password: bool = False
    host: str = field(default_factory=this_host)


# The process itself, acting on behalf of nobody: CLI bootstrap, migrations, the simulator.
SYSTEM = Principal(user_id=None, username="system", role=Role.ADMIN)
