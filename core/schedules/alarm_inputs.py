"""What the schedule service's events mean to the alarm engine (core.schedules.events -> alarm inputs).

A failed or deviating delivery is a schedule-entry failure (a missed grid commitment); a late entry ack is
"ack latency high". Rejected acks are counted and audited by the schedule service and shown in its views;
they are not alarms of the device they name, because the sender may not be that device.
"""

from __future__ import annotations

from core.alarms.inputs import AckLatencyHigh, AlarmInputEvent, ScheduleEntryFailed
from core.schedules.events import ScheduleAckLate, ScheduleDeliveryChanged


def alarm_input_of(event: object) -> AlarmInputEvent | None:
    """The alarm input for a schedule event, or None when the event is not an alarm condition."""
    if isinstance(event, ScheduleDeliveryChanged):
        return ScheduleEntryFailed(event.device_id, f"{event.schedule_id} v{event.version}",
                                   -1 if event.entry is None else event.entry, f"{event.state}: {event.reason}",
                                   event.at)
    if isinstance(event, ScheduleAckLate):
        return AckLatencyHigh(event.device_id, event.latency_s, event.at)
    return None
