"""Alarm load (EEMUA 191) report data from the alarm journal."""

from __future__ import annotations

from core.auth.principal import Principal
from core.services import CoreServices
from reports.alarm_load import AlarmLoadReportData, alarm_load_report_data
from reports.loaders.request import ReportRequest, analytics_service


def load_alarm_load(services: CoreServices, actor: Principal, request: ReportRequest) -> AlarmLoadReportData:
    load = analytics_service(services).alarm_load(actor, request.period, request.operators)
    position = f"{request.operators} operator position{'s' if request.operators != 1 else ''}"
    return alarm_load_report_data(load, actor.username, services.clock.now(), request.local_zone, position)
