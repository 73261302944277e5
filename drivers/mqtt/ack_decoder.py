"""Acks and receipts off the wire: topic + payload -> (device_id, ScheduleAck | ScheduleReceipt), collected per
network turn; anything else is counted by reject reason, never raised."""

from __future__ import annotations

from collections import Counter

from core.schedules.records import ScheduleAck, ScheduleReceipt
from drivers.mqtt.codec import PayloadRejected, decode
from drivers.mqtt.payloads import AckPayload, ReceiptPayload

DeviceAck = tuple[str, ScheduleAck | ScheduleReceipt]
NOT_AN_ACK = "not an ack"


def core_ack(ack: AckPayload | ReceiptPayload) -> ScheduleAck | ScheduleReceipt:
    """The protocol-free form the schedule service checks."""
    if isinstance(ack, ReceiptPayload):
        return ScheduleReceipt(ack.schedule_id, ack.version, ack.received_at)
    return ScheduleAck(ack.schedule_id, ack.version, ack.entry, ack.actual_rate_kw, ack.started_at, ack.ended_at,
                       ack.ok, ack.error)


class AckDecoder:
    """Collects what arrives between two `take`s, in arrival order."""

    def __init__(self) -> None:
        self.items: list[DeviceAck] = []
        self.rejects: Counter[str] = Counter()

    def add(self, topic: str, payload: bytes) -> None:
        try:
            device_id, ack = decode(topic, payload)
        except PayloadRejected as exc:
            self.rejects[exc.reason] += 1
            return
        if not isinstance(ack, (AckPayload, ReceiptPayload)):
            # Only acks belong here; a broker that delivers another topic to this subscription (seen with the
            # embedded amqtt broker) must not poison a batch of real acks.
            self.rejects[NOT_AN_ACK] += 1
            return
        self.items.append((device_id, core_ack(ack)))

    def take(self) -> tuple[list[DeviceAck], Counter[str]]:
        """What was collected since the last take (and forget it)."""
        items, rejects = self.items, self.rejects
        self.items, self.rejects = [], Counter()
        return items, rejects
