"""What a simulated device's firmware does with a ``cmd`` message: validate, decide, apply, answer once.

The agent is protocol logic only (bytes in, a CommandResultPayload out); sim_mqtt_control carries it
over MQTT. Rules, as a real device would apply them:
- a payload that breaks the contract is rejected with the codec's reason, if it names a command_id to
  answer to (otherwise nothing can be answered and it is dropped);
- charge/discharge above the device's limit is rejected, naming the limit;
- charge/discharge while in maintenance is rejected (idle or maintenance bring it out / keep it in);
- a command_id is executed at most once: a re-delivered one (QoS 1 duplicates, a retried publish) gets
  the first answer again and changes nothing.
"""

from __future__ import annotations

import json
import logging
import re
from collections import OrderedDict
from typing import Callable

from core.clock import Clock
from drivers.mqtt.codec import PayloadRejected, decode_parsed
from drivers.mqtt.payloads import CommandPayload, CommandResultPayload
from drivers.mqtt.topics import ParsedTopic, TopicKind, topic_for
from drivers.sim.fleet_physics import FleetPhysics

log = logging.getLogger("gridroom.sim.commands")

REMEMBERED_COMMANDS_PER_DEVICE = 256
_COMMAND_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}\Z")


class CommandAgent:
    """Decides and applies commands for every device of one simulated fleet."""

    def __init__(self, physics: FleetPhysics, clock: Clock, is_listening: Callable[[str], bool]) -> None:
        self._physics = physics
        self._clock = clock
        self._is_listening = is_listening  # False while a device is offline: it hears nothing
        self._answered: dict[str, OrderedDict[str, CommandResultPayload]] = {}
        self.executed: dict[str, int] = {}  # device_id -> commands applied to the physics

    def handle(self, device_id: str, payload: bytes) -> CommandResultPayload | None:
        """The result to publish for one cmd message, or None when the device does not answer."""
        if not self._physics.knows(device_id) or not self._is_listening(device_id):
            return None
        topic = topic_for(device_id, TopicKind.CMD)
        try:
            command = decode_parsed(ParsedTopic(device_id, TopicKind.CMD), topic, payload)
        except PayloadRejected as exc:
            command_id = _command_id_of(payload)
            if command_id is None:
                log.warning("%s: dropped a cmd with no usable command_id (%s)", device_id, exc)
                return None
            return self._remember(device_id, self._result(command_id, "rejected", f"{exc.reason}: {exc.detail}"))
        assert isinstance(command, CommandPayload)
        answered = self._answered.setdefault(device_id, OrderedDict())
        previous = answered.get(command.command_id)
        if previous is not None:
            log.info("%s: command %s re-delivered; answering again, not executing", device_id, command.command_id)
            return previous
        return self._remember(device_id, self._decide(device_id, command))

    def _decide(self, device_id: str, command: CommandPayload) -> CommandResultPayload:
        limits = self._physics.limits(device_id)
        if command.kind in ("charge", "discharge"):
            limit_name = "max_charge_kw" if command.kind == "charge" else "max_discharge_kw"
            limit = limits.max_charge_kw if command.kind == "charge" else limits.max_discharge_kw
            if command.rate_kw > limit:
                return self._result(
                    command.command_id, "rejected",
                    f"rate_kw {command.rate_kw:g} exceeds {limit_name} {limit:g} of {device_id}",
                )  # fmt: skip
            if self._physics.in_maintenance(device_id):
                return self._result(
                    command.command_id, "rejected",
                    f"{device_id} is in maintenance; send idle to return it to service first",
                )  # fmt: skip
        try:
            self._physics.command(device_id, command.kind, command.rate_kw)
        except Exception as exc:  # the firmware tried and failed: that is an "error" result, not a crash
            log.exception("%s: command %s failed", device_id, command.command_id)
            return self._result(command.command_id, "error", f"{type(exc).__name__}: {exc}"[:500])
        self.executed[device_id] = self.executed.get(device_id, 0) + 1
        return self._result(command.command_id, "ok")

    def _result(self, command_id: str, result: str, reason: str | None = None) -> CommandResultPayload:
        return CommandResultPayload(v=1, command_id=command_id, result=result, reason=reason, ts=self._clock.now())

    def _remember(self, device_id: str, result: CommandResultPayload) -> CommandResultPayload:
        answered = self._answered.setdefault(device_id, OrderedDict())
        answered[result.command_id] = result
        while len(answered) > REMEMBERED_COMMANDS_PER_DEVICE:
            answered.popitem(last=False)  # a bounded memory, like firmware: the oldest ids go first
        return result


def _command_id_of(payload: bytes) -> str | None:
    """The command_id of an invalid command, when it has a usable one to answer to."""
    try:
        value = json.loads(payload).get("command_id")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return None
    return value if isinstance(value, str) and _COMMAND_ID.match(value) else None
