"""Control side of schedules over MQTT: publish a version retained (QoS 1) on each device's ``schedule`` topic
(the acks come back through drivers/mqtt/ack_listener.py).

Publishing is idempotent: the payload of a version never changes, devices ignore the version they already
hold, and a device that was offline gets the retained message when it subscribes again. A publish counts as
sent when the broker confirms it (PUBACK).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

import paho.mqtt.client as mqtt

from core.schedules.model import ScheduleEntry as CoreEntry
from drivers.mqtt.broker_config import BrokerConfig
from drivers.mqtt.broker_session import BrokerSession
from drivers.mqtt.codec import encode
from drivers.mqtt.payloads import ScheduleEntry, SchedulePayload
from drivers.mqtt.topics import TopicKind, topic_for


def schedule_payload(schedule_id: str, version: int, entries: Sequence[CoreEntry]) -> SchedulePayload:
    """The contract payload of one schedule version."""
    return SchedulePayload(v=1, schedule_id=schedule_id, version=version, entries=[
        ScheduleEntry(start=e.start, end=e.end, mode=int(e.mode), rate_kw=float(e.rate_kw)) for e in entries])


# Unlimited: with a cap, paho rescans the messages in flight on every PUBACK (quadratic for a fleet).
PUBLISH_INFLIGHT = 0


class SchedulePublisher:
    """Publishes schedule versions, retained QoS 1, one message per device."""

    def __init__(self, config: BrokerConfig, timeout_s: float = 10.0) -> None:
        self._conn = BrokerSession(config, "gridroom-schedules", [])
        # paho confirms 20 publishes at a time by default: a fleet-wide distribution would wait on round trips.
        self._conn.client.max_inflight_messages_set(PUBLISH_INFLIGHT)
        self.timeout_s = timeout_s
        self.confirmed: dict[str, tuple[str, int]] = {}  # device_id -> (schedule_id, version) the broker holds

    def start(self, wait: bool = True) -> None:
        """Connect; without wait, publishes queue in paho until the broker is reachable."""
        self._conn.start(self.timeout_s, wait)

    def stop(self) -> None:
        self._conn.stop()

    async def publish(self, device_ids: Iterable[str], payload: SchedulePayload) -> dict[str, str | None]:
        """Publish one version to every device and wait for the broker: device_id -> None (sent) or why not."""
        return await self.publish_many([(device_id, payload) for device_id in device_ids])

    async def publish_many(self, items: Iterable[tuple[str, SchedulePayload]]) -> dict[str, str | None]:
        """Publish each (device_id, payload), all in flight at once, then wait for every broker confirmation."""
        infos: dict[str, mqtt.MQTTMessageInfo] = {}
        versions: dict[str, tuple[str, int]] = {}
        result: dict[str, str | None] = {}
        for device_id, payload in items:
            versions[device_id] = (payload.schedule_id, payload.version)
            if self.confirmed.get(device_id) == versions[device_id]:
                result[device_id] = None  # the broker already holds exactly this version
                continue
            infos[device_id] = self._conn.client.publish(topic_for(device_id, TopicKind.SCHEDULE), encode(payload),
                                                         qos=1, retain=True)

        def wait() -> None:
            for device_id, info in infos.items():
                try:
                    info.wait_for_publish(self.timeout_s)
                except (RuntimeError, ValueError) as exc:  # not queued (no connection) or rejected by paho
                    result[device_id] = f"not sent: {exc}"
                    continue
                if info.is_published():
                    result[device_id] = None
                    self.confirmed[device_id] = versions[device_id]
                else:
                    result[device_id] = f"the broker did not confirm within {self.timeout_s:g} s"

        await asyncio.to_thread(wait)
        return result
