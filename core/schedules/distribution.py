"""Distributing one approved schedule version to every device of its target (one device, or each member of
a group), whatever carries it: the runtime passes a `send` that publishes over MQTT or hands the device to
GridRoom's Modbus executor. Permission and state are the ScheduleService's; this only fans out and records.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from core.auth.principal import Principal
from core.schedules.records import ScheduleRecord
from core.schedules.service import ScheduleService

# (device ids, the version to send) -> device id -> None when sent, else why it could not be sent
Send = Callable[[Sequence[str], ScheduleRecord], Awaitable[dict[str, str | None]]]


async def distribute(service: ScheduleService, actor: Principal, row_id: int, send: Send) -> ScheduleRecord:
    """Authorize, send to every target device, record deliveries (sent or failed) and return the version.

    A device whose limits the entries break now (a member that joined the group after the check, a re-rated
    device) is not sent to; its delivery fails with the rule. Devices that were sent to are recorded first, so
    a partly failed group schedule is DISTRIBUTED with the failed members' deliveries FAILED. When no device
    could be sent to, nothing went out: the version stays APPROVED, its failed deliveries say why, and it can be
    distributed again once the cause is fixed."""
    rec = await asyncio.to_thread(service.authorize_distribution, actor, row_id)
    device_ids = await asyncio.to_thread(service.target_devices, rec.schedule.target)
    refused = await asyncio.to_thread(service.limit_refusals, rec, device_ids)
    outcome = dict(refused)
    to_send = [d for d in device_ids if d not in refused]
    if to_send:
        outcome.update(await send(to_send, rec))
    sent = [d for d in device_ids if outcome.get(d, "not sent") is None]
    failed = {d: outcome.get(d) or "not sent" for d in device_ids if d not in sent}
    if sent:
        await asyncio.to_thread(service.mark_distributed, actor, rec.id, sent)
    for device_id, error in failed.items():
        await asyncio.to_thread(service.mark_send_failed, actor, rec.id, device_id, error)
    return await asyncio.to_thread(service.get, rec.id)
