"""Test helpers for the fleet simulator: a small fleet definition and a recorder of MQTT traffic.

The recorder is an independent paho client (not GridRoom's ingest), so tests check the wire as any
other peer sees it. Waiting is on a condition variable with a timeout: no sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from drivers.mqtt.broker_config import BrokerConfig
from drivers.sim.fleet_definition import FleetDefinition, parse_fleet_definition

SITE = {"name": "Antwerp North", "lat": 51.289, "lon": 4.301, "timezone": "Europe/Brussels"}


def small_fleet_data(prefix: str, mqtt_devices: int = 10, modbus_devices: int = 2, packs: int = 10,
                     cells: int = 10) -> dict[str, Any]:
    """A fleet small enough for fast tests: MQTT BESS of 200 kWh / 100 kW, Modbus BESS, one system."""
    def bess(device_id: str, protocol: str, **extra: Any) -> dict[str, Any]:
        return {"id": device_id, "protocol": protocol, "site": SITE["name"], "lat": 51.29, "lon": 4.30,
                "capacity_kwh": 200.0, "max_charge_kw": 100.0, "max_discharge_kw": 100.0,
                "initial_soc_pct": 50.0, **extra}

    devices = [bess(f"{prefix}-b{i:02d}", "mqtt") for i in range(mqtt_devices)]
    devices += [bess(f"{prefix}-m{i}", "modbus", unit_id=i) for i in range(1, modbus_devices + 1)]
    systems = [{"id": f"{prefix}-bs", "site": SITE["name"], "lat": 51.29, "lon": 4.30, "packs": packs,
                "cells_per_pack": cells, "max_power_kw": 15.0, "initial_soc_pct": 50.0}]
    return {"version": 1, "sites": [SITE], "devices": devices, "battery_systems": systems}


def small_fleet(prefix: str, **kwargs: Any) -> FleetDefinition:
    return parse_fleet_definition(small_fleet_data(prefix, **kwargs))


class MqttRecorder:
    """Subscribes to topic filters and keeps every message; wait_for() blocks until one matches."""

    def __init__(self, config: BrokerConfig, filters: list[str], timeout_s: float = 10.0) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []  # (topic, payload, retain)
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        self._filters = filters
        self.client = config.make_client(role="test-recorder")
        self.client.on_connect = lambda c, *a: c.subscribe([(f, 1) for f in filters])
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(config.host, config.port)
        self.client.loop_start()
        if not self._subscribed.wait(timeout_s):
            raise TimeoutError("recorder could not subscribe")

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append((message.topic, message.payload, bool(message.retain)))
            self._cond.notify_all()

    def wait_for(self, match: Callable[[str, bytes], bool], timeout_s: float = 10.0, start: int = 0
                 ) -> tuple[str, bytes]:
        """The first message from index start on for which match(topic, payload) is true."""
        def found() -> tuple[str, bytes] | None:
            for topic, payload, _retain in self.messages[start:]:
                if match(topic, payload):
                    return topic, payload
            return None

        with self._cond:
            hit = self._cond.wait_for(found, timeout_s)
        if hit is None:
            raise AssertionError(f"no matching message within {timeout_s} s ({len(self.messages)} seen)")
        return hit

    def mark(self) -> int:
        """Index of the next message, to wait only for messages that arrive after now."""
        with self._cond:
            return len(self.messages)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
