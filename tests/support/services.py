"""Access to the real services tests need (PostgreSQL, Mosquitto).

Locally a missing service skips its tests. With GRIDROOM_REQUIRE_SERVICES=1 (CI) a missing service fails
them instead, so a broken CI machine can never pass by skipping.
"""

from __future__ import annotations

import os
import socket

import pytest

PG_ADMIN_URL = os.environ.get("GRIDROOM_TEST_PG_URL", "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres")
MQTT_HOST = os.environ.get("GRIDROOM_TEST_MQTT_HOST", "127.0.0.1")
MQTT_PORT = int(os.environ.get("GRIDROOM_TEST_MQTT_PORT", "1883"))


def services_required() -> bool:
    return os.environ.get("GRIDROOM_REQUIRE_SERVICES") == "1"


def unavailable(what: str) -> None:
    """Skip locally, fail in CI."""
    if services_required():
        pytest.fail(f"{what} is not available and GRIDROOM_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(f"{what} is not available")


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_mosquitto() -> tuple[str, int]:
    if not port_open(MQTT_HOST, MQTT_PORT):
        unavailable(f"Mosquitto at {MQTT_HOST}:{MQTT_PORT}")
    return MQTT_HOST, MQTT_PORT
