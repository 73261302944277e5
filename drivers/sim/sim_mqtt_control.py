"""The fleet simulator's one MQTT client for what flows *to* the devices: commands and fault requests.

With 200+ simulated devices, one connection per device just to receive commands would be 200 sockets
and 200 subscriptions; a real gateway does what this client does instead: one connection, one wildcard
subscription ``gridroom/v1/+/cmd`` (QoS 1), and commands for devices this simulator does not own are
ignored (several simulators, and tests, may share a broker). Results go back on each device's
``cmd/result`` (QoS 1). The same client listens on the simulator control topic ``gridroom/sim/fault``.

Callbacks run on paho's network thread; the agent and the fault handler are safe to call from it.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Callable

import paho.mqtt.client as mqtt

from drivers.mqtt.broker_config import BrokerConfig
from drivers.mqtt.codec import encode
from drivers.mqtt.topics import PREFIX, TopicError, TopicKind, fleet_filter, parse_topic, topic_for
from drivers.sim.command_agent import CommandAgent
from drivers.sim.faults import (
    CONTROL_RESULT_TOPIC,
    CONTROL_TOPIC,
    FaultMessage,
    FaultMessageError,
    FaultResultMessage,
    decode_fault_message,
    encode_message,
)

log = logging.getLogger("gridroom.sim.control")

# Returns None when the fault is not for this simulator (no answer), "" when applied, else why not.
FaultHandler = Callable[[FaultMessage], "str | None"]


class SimControlClient:
    """Receives commands and fault requests for one simulated fleet and publishes the answers."""

    def __init__(
        self, config: BrokerConfig, agent: CommandAgent, on_fault: FaultHandler, owns: Callable[[str], bool]
    ) -> None:
        self._agent = agent
        self._owns = owns
        self._on_fault = on_fault
        self._config = config
        self.connected = threading.Event()
        self.client = config.make_client(role="gridroom-sim-control")
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *args: self.connected.clear()
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def start(self, timeout_s: float = 10.0) -> None:
        """Connect and subscribe; raises TimeoutError when the broker does not accept us in time."""
        self.client.connect_async(self._config.host, self._config.port, keepalive=self._config.keepalive_s)
        self.client.loop_start()
        if not self.connected.wait(timeout_s):
            raise TimeoutError(f"simulator control client could not connect to {self._config.host}:{self._config.port}")

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("simulator control client refused: %s", reason_code)
            return
        # Clean session: subscribe again on every (re)connect. The SUBACK sets `connected`, so a caller
        # that waited for it knows commands published from now on reach us.
        client.subscribe([(fleet_filter(TopicKind.CMD), 1), (CONTROL_TOPIC, 1)])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        if any(code.is_failure for code in reason_codes):
            log.error("simulator control: subscription refused: %s", reason_codes)
            return
        self.connected.set()

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        try:
            if message.topic == CONTROL_TOPIC:
                self._handle_fault(message.payload)
            elif message.topic.startswith(PREFIX + "/"):
                self._handle_command(message.topic, message.payload)
        except Exception:  # a bug must not kill paho's network thread: log it and keep serving
            log.exception("simulator control: failed to handle a message on %s", message.topic)

    def _handle_command(self, topic: str, payload: bytes) -> None:
        try:
            parsed = parse_topic(topic)
        except TopicError:
            return
        if parsed.kind is not TopicKind.CMD:
            return
        result = self._agent.handle(parsed.device_id, payload)
        if result is not None:
            self.client.publish(topic_for(parsed.device_id, TopicKind.CMD_RESULT), encode(result), qos=1)

    def _handle_fault(self, payload: bytes) -> None:
        try:
            request = decode_fault_message(payload)
        except FaultMessageError as exc:
            log.warning("simulator control: %s", exc)
            request_id, device_id = _ids_of(payload)
            if device_id is not None and self._owns(device_id):  # answer only for our own devices
                self._answer(request_id, device_id, exc.reason)
            return
        outcome = self._on_fault(request)
        if outcome is not None:
            self._answer(request.request_id, request.device_id, outcome)

    def _answer(self, request_id: str | None, device_id: str, reason: str) -> None:
        answer = FaultResultMessage(v=1, request_id=request_id, device_id=device_id, ok=not reason, reason=reason or None)
        self.client.publish(CONTROL_RESULT_TOPIC, encode_message(answer), qos=1)


def _ids_of(payload: bytes) -> tuple[str | None, str | None]:
    """request_id and device_id of an invalid fault request, so its sender still hears why."""
    try:
        data = json.loads(payload)
        request_id, device_id = data.get("request_id"), data.get("device_id")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return None, None
    return (request_id if isinstance(request_id, str) else None,
            device_id if isinstance(device_id, str) else None)  # fmt: skip
