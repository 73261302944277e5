"""The MQTT topic tree of the GridRoom device contract, built and parsed in this one place.

Every topic is ``gridroom/v1/<device_id>/<kind>[/<pack>]``. The ``v1`` segment versions the tree;
payloads carry their own schema version (``"v": 1``) on top of it (see docs/mqtt-contract.md).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

ROOT = "gridroom"
TREE_VERSION = "v1"
PREFIX = f"{ROOT}/{TREE_VERSION}"

# Letters, digits, '_', '-', '.'; starts with a letter or digit; at most 64 characters. This keeps MQTT
# wildcards ('+', '#'), separators ('/') and control characters out of topic segments and ACL patterns.
DEVICE_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}"
_DEVICE_ID_RE = re.compile(rf"^{DEVICE_ID_PATTERN}\Z")
MAX_PACK_INDEX = 1023


class TopicKind(enum.Enum):
    """What a topic carries; the value is the topic suffix after the device id."""

    STATUS = "status"
    TELEMETRY = "telemetry"
    CELLS = "cells"
    SCHEDULE = "schedule"
    ACK = "ack"
    CMD = "cmd"
    CMD_RESULT = "cmd/result"


class TopicError(ValueError):
    """A topic is outside the contract; ``reason`` is the stable category it is counted under."""

    def __init__(self, reason: str, topic: str, device_id: str | None = None) -> None:
        super().__init__(f"{reason}: {topic!r}")
        self.reason = reason
        self.topic = topic
        self.device_id = device_id


@dataclass(frozen=True, slots=True)
class ParsedTopic:
    """A topic split into its parts. ``pack`` is set only for ``cells/<pack>``."""

    device_id: str
    kind: TopicKind
    pack: int | None = None


def is_valid_device_id(device_id: str) -> bool:
    """True when device_id may appear as a topic segment and in broker ACLs."""
    return isinstance(device_id, str) and _DEVICE_ID_RE.match(device_id) is not None


def _checked(device_id: str) -> str:
    if not is_valid_device_id(device_id):
        raise ValueError(f"invalid device id {device_id!r}: must match {DEVICE_ID_PATTERN}")
    return device_id


def topic_for(device_id: str, kind: TopicKind, pack: int | None = None) -> str:
    """Build the topic on which device_id sends or receives messages of this kind."""
    base = f"{PREFIX}/{_checked(device_id)}/{kind.value}"
    if kind is TopicKind.CELLS:
        if pack is None or not 0 <= pack <= MAX_PACK_INDEX:
            raise ValueError(f"cells topic needs a pack index 0..{MAX_PACK_INDEX}, got {pack!r}")
        return f"{base}/{pack}"
    if pack is not None:
        raise ValueError(f"only cells topics carry a pack index, not {kind.value}")
    return base


def status_topic(device_id: str) -> str:
    return topic_for(device_id, TopicKind.STATUS)


def telemetry_topic(device_id: str) -> str:
    return topic_for(device_id, TopicKind.TELEMETRY)


def cells_topic(device_id: str, pack: int) -> str:
    return topic_for(device_id, TopicKind.CELLS, pack)


def device_filter(device_id: str) -> str:
    """Subscription filter for everything one device sends and receives."""
    return f"{PREFIX}/{_checked(device_id)}/#"


def fleet_filter(kind: TopicKind) -> str:
    """Subscription filter for one kind of message from every device (``+`` for the device id)."""
    if kind is TopicKind.CELLS:
        return f"{PREFIX}/+/cells/+"
    return f"{PREFIX}/+/{kind.value}"


# The filters the control side's telemetry ingest subscribes to.
INGEST_FILTERS: tuple[str, ...] = (
    fleet_filter(TopicKind.TELEMETRY),
    fleet_filter(TopicKind.STATUS),
    fleet_filter(TopicKind.CELLS),
)

_SUFFIXES = {kind.value: kind for kind in TopicKind}


def parse_topic(topic: str) -> ParsedTopic:
    """Split a contract topic into device id, kind and pack; raise TopicError otherwise."""
    parts = topic.split("/")
    if len(parts) < 4 or parts[0] != ROOT or parts[1] != TREE_VERSION:
        raise TopicError("unknown topic", topic)
    device_id = parts[2]
    if not is_valid_device_id(device_id):
        raise TopicError("invalid device id", topic)
    rest = parts[3:]
    if rest[0] == "cells":
        if len(rest) != 2 or not rest[1].isdigit() or not rest[1].isascii():
            raise TopicError("unknown topic", topic, device_id)
        pack = int(rest[1])
        if pack > MAX_PACK_INDEX or (len(rest[1]) > 1 and rest[1][0] == "0"):
            raise TopicError("unknown topic", topic, device_id)
        return ParsedTopic(device_id, TopicKind.CELLS, pack)
    kind = _SUFFIXES.get("/".join(rest))
    if kind is None or kind is TopicKind.CELLS:
        raise TopicError("unknown topic", topic, device_id)
    return ParsedTopic(device_id, kind)


class TopicCache:
    """parse_topic with memory: a fleet sends the same few thousand topics all day, so each is split and checked
    once. Bounded, so a flood of junk topics cannot grow memory. Not thread-safe: one ingest thread owns it."""

    LIMIT = 100_000

    def __init__(self) -> None:
        self._parsed: dict[str, ParsedTopic | TopicError] = {}

    def parse(self, topic: str) -> ParsedTopic:
        """Like parse_topic; raises the same TopicError for a bad topic (remembered too)."""
        cached = self._parsed.get(topic)
        if cached is None:
            try:
                cached = parse_topic(topic)
            except TopicError as exc:
                cached = exc
            if len(self._parsed) >= self.LIMIT:
                self._parsed.clear()
            self._parsed[topic] = cached
        if isinstance(cached, TopicError):
            raise cached
        return cached

