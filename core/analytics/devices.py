"""Which devices an analytics request covers, and the group (site name) each belongs to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from core.analytics.model import UNREGISTERED_GROUP, AnalyticsError, AnalyticsRequest
from core.devices.tables import DeviceRow
from core.fleet.tables import SiteRow
from core.telemetry.tables import telemetry_15m
from core.telemetry.timecodes import to_epoch_ms


def device_groups(conn: Connection, request: AnalyticsRequest) -> dict[str, str]:
    """device_id -> group for every device in scope, sorted by id.

    In scope: registered devices that were in service during the period (not decommissioned before it
    started), plus devices with rollups in the period that the registry does not know (telemetry may arrive
    before registration). A request naming a device or group that matches nothing is an error, so a typo is
    not mistaken for an idle fleet.
    """
    start, end = request.period.start, request.period.end
    registered = conn.execute(
        select(DeviceRow.device_id, SiteRow.name)
        .join(SiteRow, SiteRow.id == DeviceRow.site_id)
        .where(DeviceRow.created_at < end,
               or_(DeviceRow.decommissioned_at.is_(None), DeviceRow.decommissioned_at >= start))
    ).all()
    groups = {device_id: site for device_id, site in registered}
    reporting = conn.execute(
        select(telemetry_15m.c.device_id).distinct()
        .where(telemetry_15m.c.bucket_start_ms >= to_epoch_ms(start), telemetry_15m.c.bucket_start_ms < to_epoch_ms(end))
    ).scalars().all()
    for device_id in reporting:
        groups.setdefault(device_id, UNREGISTERED_GROUP)
    if request.device_ids or request.groups:
        wanted_ids, wanted_groups = set(request.device_ids), set(request.groups)
        unknown_groups = wanted_groups - set(groups.values()) - _all_site_names(conn)
        if unknown_groups:
            raise AnalyticsError(f"unknown group(s): {', '.join(sorted(unknown_groups))}")
        unknown_ids = wanted_ids - set(groups) - _all_device_ids(conn)
        if unknown_ids:
            raise AnalyticsError(f"unknown device(s): {', '.join(sorted(unknown_ids))}")
        groups = {d: g for d, g in groups.items() if d in wanted_ids or g in wanted_groups}
    return dict(sorted(groups.items()))


def _all_site_names(conn: Connection) -> set[str]:
    return set(conn.execute(select(SiteRow.name)).scalars())


def _all_device_ids(conn: Connection) -> set[str]:
    return set(conn.execute(select(DeviceRow.device_id)).scalars())


def in_scope(column, device_ids: list[str]):
    """`column IN (...)` for the devices in scope (bound parameters, never string-built SQL)."""
    return column.in_(device_ids)


def epoch_bounds(start: datetime, end: datetime) -> tuple[int, int]:
    return to_epoch_ms(start), to_epoch_ms(end)
