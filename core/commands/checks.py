"""The checks a command passes before it leaves GridRoom."""

from __future__ import annotations

import math

from core.commands.model import CommandKind, CommandLimits, DeviceCommand


def refusal_reason(command: DeviceCommand, limits: CommandLimits) -> str | None:
    """Why GridRoom must not send this command, in operator terms; None when it may go out."""
    rate = command.rate_kw
    device = command.device_id
    if command.kind.needs_rate:
        if not math.isfinite(rate) or rate <= 0:
            return f"rate must be a positive number of kW (got {rate:g}); the command ({command.kind.value}) gives the direction"
        limit = limits.max_charge_kw if command.kind is CommandKind.CHARGE else limits.max_discharge_kw
        if rate > limit:
            return f"{rate:g} kW exceeds {device}'s {command.kind.value} limit of {limit:g} kW"
        if limits.in_maintenance:
            return f"{device} is in maintenance; take it out of maintenance (idle) before commanding power"
    elif rate not in (0, 0.0):
        return f"{command.kind.value} takes no rate (got {rate:g} kW)"
    return None


def offline_reason(limits: CommandLimits) -> str:
    seen = limits.last_seen.strftime("%Y-%m-%d %H:%M UTC") if limits.last_seen else "never"
    return f"{limits.device_id} is offline (last seen {seen})"
