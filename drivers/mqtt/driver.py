"""GridRoom's control-side driver for one MQTT device (``mqtt://host:port/<device_id>``).

Reading: the driver subscribes to the device's ``telemetry``, ``status`` (retained) and ``cmd/result``
on a connection shared with every other driver for the same broker (client_pool), and read() returns
the latest telemetry it received; availability says how fresh it is. Nothing is polled.

Writing: write({"mode": "charge", "rate_kw": 20}) publishes a CommandPayload with a fresh command id
(QoS 1) and awaits the device's ``cmd/result`` for that id: ok returns the commanded values, rejected or
error raise CommandRejected / CommandFailed with the device's reason, no answer raises DriverTimeout.
A device whose last status is offline is refused at once (DeviceOffline) rather than left to time out.
Everything awaited is an asyncio future resolved from paho's thread, so the runtime loop never blocks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import uuid
from typing import Mapping
from urllib.parse import urlsplit

from pydantic import ValidationError

from core.clock import Clock, SystemClock
from drivers.base import Availability, DeviceRejected, DriverError, DriverTimeout, NotConnected, Reading
from drivers.mqtt.broker_config import BrokerConfig
from drivers.mqtt.client_pool import DEFAULT_POOL, MqttConnectionPool, SharedMqttConnection, resolve_threadsafe
from drivers.mqtt.codec import PayloadRejected, decode_parsed, encode
from drivers.mqtt.payloads import CommandPayload, CommandResultPayload, DeviceMode, StatusPayload, TelemetryPayload
from drivers.mqtt.topics import ParsedTopic, TopicKind, is_valid_device_id, topic_for

log = logging.getLogger("gridroom.mqtt.driver")

DEFAULT_PORT = 1883
COMMAND_KINDS = ("charge", "discharge", "idle", "maintenance")
_MODE_OF_KIND = {"charge": DeviceMode.CHARGE, "discharge": DeviceMode.DISCHARGE, "idle": DeviceMode.IDLE,
                 "maintenance": DeviceMode.MAINTENANCE}  # fmt: skip
_TELEMETRY_FIELDS = ("soc_pct", "power_kw", "voltage_v", "current_a", "temp_c", "soh_pct")


class InvalidMqttAddress(DriverError, ValueError):
    """The URL is not a usable mqtt://host[:port]/<device_id> address."""


class InvalidCommand(DriverError, ValueError):
    """Setpoints that cannot be expressed as a contract command (unknown mode, rate out of range...)."""


class CommandRejected(DeviceRejected):
    """The device refused the command (result "rejected"); reason is the device's own words."""

    def __init__(self, device_id: str, command_id: str, reason: str) -> None:
        super().__init__(f"{device_id} rejected command {command_id}: {reason}")
        self.device_id, self.command_id, self.reason = device_id, command_id, reason


class CommandFailed(CommandRejected):
    """The device tried the command and failed (result "error")."""


class DeviceOffline(NotConnected):
    """The device's retained status (or last will) says it is offline."""


class NoTelemetry(DriverError):
    """Connected, but the device has not sent telemetry since the driver subscribed."""


def parse_mqtt_url(url: str) -> tuple[str, int, str]:
    """(host, port, device_id) from mqtt://host[:port]/<device_id>; the port defaults to 1883."""
    parts = urlsplit(url)
    if parts.scheme != "mqtt":
        raise InvalidMqttAddress(f"{url!r}: scheme must be mqtt, got {parts.scheme!r}")
    if not parts.hostname:
        raise InvalidMqttAddress(f"{url!r}: no broker host")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError as exc:
        raise InvalidMqttAddress(f"{url!r}: bad port ({exc})") from None
    device_id = parts.path.strip("/")
    if not is_valid_device_id(device_id):
        raise InvalidMqttAddress(f"{url!r}: {device_id!r} is not a valid device id")
    return parts.hostname, port, device_id


def command_from_setpoints(setpoints: Mapping[str, object], command_id: str, clock: Clock) -> CommandPayload:
    """{"mode": kind, "rate_kw": x} (or {"power_kw": signed}, + = discharge) as a validated CommandPayload."""
    unknown = set(setpoints) - {"mode", "rate_kw", "power_kw"}
    if unknown:
        raise InvalidCommand(f"unknown setpoint(s) {sorted(unknown)}; use mode and rate_kw, or power_kw")
    if "power_kw" in setpoints:
        if set(setpoints) != {"power_kw"}:
            raise InvalidCommand("power_kw cannot be combined with mode or rate_kw")
        power = float(setpoints["power_kw"])  # type: ignore[arg-type]
        kind, rate = ("discharge", power) if power > 0 else ("charge", -power) if power < 0 else ("idle", 0.0)
    else:
        kind = setpoints.get("mode")
        if kind not in COMMAND_KINDS:
            raise InvalidCommand(f"mode must be one of {', '.join(COMMAND_KINDS)}, got {kind!r}")
        rate_value = setpoints.get("rate_kw", 0.0)
        if isinstance(rate_value, bool) or not isinstance(rate_value, (int, float)):
            raise InvalidCommand(f"rate_kw must be a number, got {rate_value!r}")
        rate = float(rate_value)
    try:
        return CommandPayload(v=1, command_id=command_id, kind=kind, rate_kw=rate, ts=clock.now())  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidCommand(f"{where + ': ' if where else ''}{first['msg'].removeprefix('Value error, ')}") from None


class MqttDeviceDriver:
    """Driver for one device speaking the GridRoom MQTT contract."""

    def __init__(
        self,
        url: str,
        *,
        clock: Clock | None = None,
        timeout_s: float = 5.0,
        stale_after_s: float = 10.0,
        offline_after_s: float = 60.0,
        broker: BrokerConfig | None = None,
        pool: MqttConnectionPool | None = None,
    ) -> None:
        self.url = url
        host, port, self.device_id = parse_mqtt_url(url)
        base = broker or BrokerConfig()
        # The URL names the broker; TLS, credentials and backoff come from the optional BrokerConfig.
        self._broker = dataclasses.replace(base, host=host, port=port, client_id="")
        self._clock = clock or SystemClock()
        self._timeout_s = timeout_s
        self._stale_after_s = stale_after_s
        self._offline_after_s = offline_after_s
        self._pool = pool if pool is not None else DEFAULT_POOL
        self._connection: SharedMqttConnection | None = None
        self._filters = [topic_for(self.device_id, k) for k in (TopicKind.TELEMETRY, TopicKind.STATUS, TopicKind.CMD_RESULT)]
        self._lock = threading.Lock()  # paho's thread writes what the loop reads
        self._telemetry: TelemetryPayload | None = None
        self._last_heard_mono: float | None = None
        self._status: StatusPayload | None = None
        self._pending: dict[str, asyncio.Future] = {}
        self._waiters: list[tuple[TopicKind, asyncio.Future]] = []
        self.rejected_messages = 0

    # -- state ---------------------------------------------------------------------------------
    @property
    def availability(self) -> Availability:
        """OFFLINE when disconnected, told offline, never heard or silent for offline_after_s; STALE after
        stale_after_s of silence; ONLINE otherwise."""
        with self._lock:
            heard, status = self._last_heard_mono, self._status
        if self._connection is None or not self._connection.connected.is_set() or heard is None:
            return Availability.OFFLINE
        if status is not None and status.state == "offline":
            return Availability.OFFLINE
        age = self._clock.monotonic() - heard
        if age > self._offline_after_s:
            return Availability.OFFLINE
        return Availability.STALE if age > self._stale_after_s else Availability.ONLINE

    # -- lifecycle -----------------------------------------------------------------------------
    async def connect(self) -> None:
        """Join the broker's shared connection and subscribe to this device (awaits the SUBACK)."""
        if self._connection is not None:
            return
        connection = self._pool.acquire(self._broker)
        self._connection = connection
        connection.add_listener(self.device_id, self._on_message)
        try:
            await connection.wait_connected(self._timeout_s)
            await connection.subscribe(self._filters, self._timeout_s)
        except DriverError:
            await self.close()
            raise

    async def close(self) -> None:
        """Unsubscribe and release the shared connection; pending commands fail with NotConnected."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        connection.remove_listener(self.device_id, self._on_message)
        connection.unsubscribe(self._filters)
        self._pool.release(connection)
        with self._lock:
            pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(NotConnected(f"{self.url}: driver closed"))

    # -- paho thread ---------------------------------------------------------------------------
    def _on_message(self, parsed: ParsedTopic, payload: bytes) -> None:
        if parsed.kind is TopicKind.STATUS and not payload:
            return  # a cleared retained status (decommissioned device): nothing to learn
        try:
            message = decode_parsed(parsed, topic_for(parsed.device_id, parsed.kind), payload)
        except PayloadRejected as exc:
            with self._lock:
                self.rejected_messages += 1
            log.debug("%s: rejected %s", self.url, exc)
            return
        now = self._clock.monotonic()
        if isinstance(message, TelemetryPayload):
            with self._lock:
                self._telemetry = message
                self._last_heard_mono = now
                if self._status is not None and self._status.state == "offline":
                    self._status = None  # it speaks again, so it is back
            self._wake(TopicKind.TELEMETRY, message)
        elif isinstance(message, StatusPayload):
            with self._lock:
                self._status = message
                if message.state == "online":
                    self._last_heard_mono = now
            self._wake(TopicKind.STATUS, message)
        elif isinstance(message, CommandResultPayload):
            with self._lock:
                future = self._pending.pop(message.command_id, None)
            if future is not None:
                resolve_threadsafe(future, message)

    # -- reading -------------------------------------------------------------------------------
    async def read(self) -> Reading:
        """The latest telemetry as a Reading (taken_at = the device's timestamp); extra carries
        availability, age_s and mode. Raises NotConnected without a broker connection, NoTelemetry
        when the device has not spoken yet."""
        if self._connection is None or not self._connection.connected.is_set():
            raise NotConnected(f"{self.url}: not connected to the broker")
        with self._lock:
            telemetry, heard = self._telemetry, self._last_heard_mono
        if telemetry is None or heard is None:
            raise NoTelemetry(f"{self.url}: no telemetry received yet")
        values = {name: float(getattr(telemetry, name)) for name in _TELEMETRY_FIELDS}
        values["mode"] = float(telemetry.mode)
        extra = {
            "availability": self.availability.value,
            "age_s": self._clock.monotonic() - heard,
            "mode": DeviceMode(telemetry.mode).name.lower(),
        }
        return Reading(self.device_id, telemetry.ts, values, extra)

    def expect_next(self, kind: TopicKind = TopicKind.TELEMETRY) -> asyncio.Future:
        """A future for the next valid telemetry or status message from the device (registered now, so
        a message that arrives before the caller awaits is not missed). Call from the runtime loop."""
        if kind not in (TopicKind.TELEMETRY, TopicKind.STATUS):
            raise ValueError(f"can only expect telemetry or status, not {kind.value}")
        future = asyncio.get_running_loop().create_future()
        with self._lock:
            self._waiters.append((kind, future))
        return future

    async def next_reading(self, timeout_s: float | None = None, expected: asyncio.Future | None = None) -> Reading:
        """Wait for the next telemetry (or for an expect_next() future) and return the latest Reading."""
        future = expected if expected is not None else self.expect_next(TopicKind.TELEMETRY)
        timeout = self._timeout_s if timeout_s is None else timeout_s
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise DriverTimeout(f"{self.device_id} sent no telemetry within {timeout:g} s") from None
        finally:
            self._forget_waiter(future)
        return await self.read()

    async def wait_for_status(self, state: str, timeout_s: float | None = None) -> StatusPayload:
        """Return the device's status once it is state ("online"/"offline"), waiting for it if needed
        (a retained status may arrive just after connect())."""
        timeout = self._timeout_s if timeout_s is None else timeout_s
        deadline = self._clock_mono_real() + timeout
        while True:
            future = self.expect_next(TopicKind.STATUS)  # registered before looking: no update is lost
            with self._lock:
                current = self._status
            try:
                if current is not None and current.state == state:
                    return current
                remaining = deadline - self._clock_mono_real()
                if remaining <= 0:
                    raise TimeoutError
                message = await asyncio.wait_for(future, remaining)
                if message.state == state:
                    return message
            except TimeoutError:
                raise DriverTimeout(f"{self.device_id} did not report {state} within {timeout:g} s") from None
            finally:
                self._forget_waiter(future)

    @staticmethod
    def _clock_mono_real() -> float:
        # Timeouts run on the loop's real time, not the injected clock (which tests may hold still).
        return asyncio.get_running_loop().time()

    def _forget_waiter(self, future: asyncio.Future) -> None:
        with self._lock:
            self._waiters = [(k, f) for k, f in self._waiters if f is not future]

    def _wake(self, kind: TopicKind, message: object) -> None:
        # Called on paho's thread with self._lock NOT held.
        with self._lock:
            due = [f for k, f in self._waiters if k is kind]
            self._waiters = [(k, f) for k, f in self._waiters if k is not kind]
        for future in due:
            resolve_threadsafe(future, message)

    # -- writing -------------------------------------------------------------------------------
    async def write(self, setpoints: Mapping[str, object]) -> Mapping[str, float]:  # type: ignore[override]
        """Send one command and await the device's answer; returns mode (DeviceMode code), rate_kw and
        power_kw (+ = discharge) as acknowledged."""
        command = command_from_setpoints(setpoints, f"cmd-{uuid.uuid4().hex}", self._clock)
        connection = self._connection
        if connection is None or not connection.connected.is_set():
            raise NotConnected(f"{self.url}: not connected to the broker")
        with self._lock:
            status = self._status
        if status is not None and status.state == "offline":
            raise DeviceOffline(f"{self.device_id} is offline ({status.reason or 'no reason given'}); "
                                f"command {command.kind} not sent")  # fmt: skip
        future = asyncio.get_running_loop().create_future()
        with self._lock:
            self._pending[command.command_id] = future  # registered before publishing: the answer may be quick
        try:
            info = connection.publish(topic_for(self.device_id, TopicKind.CMD), encode(command), qos=1)
            if info.rc != 0:
                raise NotConnected(f"{self.url}: publish failed (paho rc {info.rc})")
            try:
                result: CommandResultPayload = await asyncio.wait_for(future, self._timeout_s)
            except TimeoutError:
                raise DriverTimeout(
                    f"{self.device_id} did not answer command {command.command_id} ({command.kind}) "
                    f"within {self._timeout_s:g} s"
                ) from None
        finally:
            with self._lock:
                self._pending.pop(command.command_id, None)
        if result.result == "rejected":
            raise CommandRejected(self.device_id, command.command_id, result.reason or "no reason given")
        if result.result == "error":
            raise CommandFailed(self.device_id, command.command_id, result.reason or "no reason given")
        sign = {"charge": -1.0, "discharge": 1.0}.get(command.kind, 0.0)
        return {
            "mode": float(_MODE_OF_KIND[command.kind]),
            "rate_kw": command.rate_kw,
            "power_kw": sign * command.rate_kw,
        }
