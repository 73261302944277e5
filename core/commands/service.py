"""CommandService: the one path every manual command takes, whoever sends it.

permission (in core) -> checks against the device's limits and availability -> gateway (the device's
driver) -> outcome. Every step's result, including refusals, is audited and kept in the command history.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Awaitable, Callable, Mapping, Protocol, Any

from core.audit.trail import AuditResult, AuditTrail
from core.auth.authorizer import Authorizer
from core.auth.principal import Principal
from core.auth.roles import Permission
from core.clock import Clock, SystemClock
from core.commands.checks import offline_reason, refusal_reason
from core.commands.history import CommandHistory
from core.commands.model import (
    CommandDeliveryError,
    CommandLimits,
    CommandOutcome,
    CommandRefused,
    CommandStatus,
    DeviceCommand,
)
from core.storage.database import Database


class CommandGateway(Protocol):
    async def send(self, command: DeviceCommand, command_id: str, timeout_s: float) -> Mapping[str, Any]:
        """Deliver and wait for the device's confirmation; raise CommandDeliveryError otherwise."""
        ...


class CommandService:
    def __init__(
        self,
        db: Database,
        audit: AuditTrail,
        authorizer: Authorizer,
        limits_of: Callable[[str], CommandLimits],
        gateway: CommandGateway,
        history: CommandHistory,
        clock: Clock | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        self.db = db
        self.audit = audit
        self.authorizer = authorizer
        self.limits_of = limits_of
        self.gateway = gateway
        self.history = history
        self.clock = clock or SystemClock()
        self.timeout_s = timeout_s
        self.queued: dict[str, tuple[Principal, DeviceCommand, str]] = {}

    async def execute(self, actor: Principal, command: DeviceCommand) -> CommandOutcome:
        """Send one command. Raises PermissionDenied (audited) or CommandRefused; otherwise returns the
        outcome of the attempt (acked, rejected, timeout, failed or queued)."""
        resource = f"device:{command.device_id}"
        await asyncio.to_thread(self.authorizer.require, actor, Permission.COMMAND_DEVICE, resource)
        command_id = uuid.uuid4().hex
        requested_at = self.clock.now()
        limits = self.limits_of(command.device_id)
        reason = refusal_reason(command, limits)
        if reason is None and not limits.online:
            if limits.queues_when_offline:
                self.queued[command.device_id] = (actor, command, command_id)
                outcome = self._outcome(command_id, command, CommandStatus.QUEUED,
                                        f"{offline_reason(limits)}: queued, sent when it returns", actor, requested_at)
                await self._record(actor, outcome)
                return outcome
            reason = f"{offline_reason(limits)}; command not sent"
        if reason is not None:
            outcome = self._outcome(command_id, command, CommandStatus.REFUSED, reason, actor, requested_at)
            await self._record(actor, outcome)
            raise CommandRefused(reason, outcome)
        return await self._deliver(actor, command, command_id, requested_at)

    async def _deliver(self, actor: Principal, command: DeviceCommand, command_id: str, requested_at) -> CommandOutcome:
        try:
            readback = await asyncio.wait_for(self.gateway.send(command, command_id, self.timeout_s), self.timeout_s + 1)
            status, message = CommandStatus.ACKED, f"{command.device_id} confirmed: {command.describe()}"
        except CommandDeliveryError as exc:
            readback, status, message = {}, exc.status, str(exc)
        except asyncio.TimeoutError:
            readback, status = {}, CommandStatus.TIMEOUT
            message = f"{command.device_id} did not answer within {self.timeout_s:g} s"
        outcome = self._outcome(command_id, command, status, message, actor, requested_at, readback)
        await self._record(actor, outcome)
        return outcome

    async def flush_queued(self, device_id: str) -> CommandOutcome | None:
        """Send the command queued for a device that has come back online (called by the runtime)."""
        queued = self.queued.pop(device_id, None)
        if queued is None:
            return None
        actor, command, command_id = queued
        return await self._deliver(actor, command, command_id, self.clock.now())

    def _outcome(self, command_id, command, status, message, actor, requested_at, readback=None) -> CommandOutcome:
        return CommandOutcome(command_id, command, status, message, actor.username, requested_at, self.clock.now(), dict(readback or {}))

    async def _record(self, actor: Principal, outcome: CommandOutcome) -> None:
        def write() -> None:
            ok = outcome.status in (CommandStatus.ACKED, CommandStatus.QUEUED)
            with self.db.session() as s:
                self.audit.append(
                    s, actor, "device.command", f"device:{outcome.command.device_id}",
                    AuditResult.SUCCESS if ok else AuditResult.FAILURE,
                    {"command_id": outcome.command_id, "kind": outcome.command.kind.value,
                     "rate_kw": outcome.command.rate_kw, "status": outcome.status.value, "message": outcome.message},
                )
                self.history.append(s, outcome)

        await asyncio.to_thread(write)
