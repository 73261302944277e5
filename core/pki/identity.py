"""Who may hold a certificate: the device-id rule and the names reserved for GridRoom's own identities.

The rule is the same as the MQTT contract's (drivers/mqtt/topics.py, docs/mqtt-contract.md). It is repeated here
because core never imports drivers; a test checks both rules accept exactly the same ids. The certificate CN
becomes the broker user name (``use_identity_as_username``), and the ACL patterns substitute it into topics, so
this rule is what keeps ``+``, ``#`` and ``/`` out of them.
"""

from __future__ import annotations

import re

from core.pki.errors import InvalidIdentity

DEVICE_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}"
_DEVICE_ID_RE = re.compile(rf"^{DEVICE_ID_PATTERN}\Z")

CONTROL_IDENTITY = "gridroom-control"
BROKER_IDENTITY = "gridroom-broker"
# A device certificate with one of these CNs would log in to the broker as the control room (full access), so
# devices may never be named like them. Compared case-insensitively to keep look-alikes out of audit logs too.
RESERVED_NAMES = frozenset({CONTROL_IDENTITY, BROKER_IDENTITY})

TOPIC_PREFIX = "gridroom/v1"
# What a device may do on its own subtree (docs/mqtt-contract.md); the broker ACL grants exactly this.
DEVICE_PUBLISH_SUFFIXES: tuple[str, ...] = ("status", "telemetry", "cells/+", "ack", "cmd/result")
DEVICE_SUBSCRIBE_SUFFIXES: tuple[str, ...] = ("schedule", "cmd")


def is_valid_device_id(device_id: object) -> bool:
    """True when device_id matches the contract's syntax (it may still be a reserved name)."""
    return isinstance(device_id, str) and _DEVICE_ID_RE.match(device_id) is not None


def is_reserved_name(name: str) -> bool:
    """True when name (case-insensitively) belongs to one of GridRoom's own identities."""
    return name.lower() in RESERVED_NAMES


def check_device_id(device_id: object) -> str:
    """Return device_id if it may be a device's certificate CN; raise InvalidIdentity saying why not."""
    if not is_valid_device_id(device_id):
        raise InvalidIdentity(f"invalid device id {device_id!r}: must match {DEVICE_ID_PATTERN}")
    assert isinstance(device_id, str)
    if is_reserved_name(device_id):
        raise InvalidIdentity(f"device id {device_id!r} is reserved for GridRoom's own broker identities")
    return device_id


def check_control_name(name: object) -> str:
    """Return name if it may be a control identity's CN (same syntax as a device id)."""
    if not is_valid_device_id(name):
        raise InvalidIdentity(f"invalid control identity {name!r}: must match {DEVICE_ID_PATTERN}")
    assert isinstance(name, str)
    if name.lower() == BROKER_IDENTITY:
        raise InvalidIdentity(f"{name!r} is the broker's identity, not a control identity")
    return name


def device_topics(device_id: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(publish, subscribe) topic filters a device may use, with its id filled in."""
    check_device_id(device_id)
    base = f"{TOPIC_PREFIX}/{device_id}"
    return (
        tuple(f"{base}/{suffix}" for suffix in DEVICE_PUBLISH_SUFFIXES),
        tuple(f"{base}/{suffix}" for suffix in DEVICE_SUBSCRIBE_SUFFIXES),
    )
