"""One shared Modbus TCP connection per endpoint (host:port), used by every unit behind it.

All units behind a gateway share its socket, so access is serialized with an asyncio.Lock, every
call has a timeout, and reconnects back off exponentially (capped). The backoff never sleeps: a
call made before the next attempt is due fails at once with NotConnected, which keeps a polling
loop responsive and lets tests move an injected clock instead of waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import AsyncIterator, Sequence

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from core.clock import Clock
from drivers.base import DeviceRejected, DriverError, DriverTimeout, NotConnected

log = logging.getLogger(__name__)

MAX_REGISTERS_PER_READ = 125  # Modbus limit for function 3
MAX_REGISTERS_PER_WRITE = 123  # Modbus limit for function 16
BACKOFF_INITIAL_S = 0.5
BACKOFF_CAP_S = 30.0


class ModbusExceptionResponse(DeviceRejected):
    """The device answered with a Modbus exception response."""

    def __init__(self, exception_code: int, message: str) -> None:
        super().__init__(message)
        self.exception_code = exception_code


class ModbusEndpoint:
    """A reference-counted connection to host:port. Get one from EndpointPool, not directly."""

    def __init__(self, host: str, port: int, *, clock: Clock, timeout_s: float) -> None:
        self.host = host
        self.port = port
        self.timeout_s = timeout_s
        self._clock = clock
        self._lock = asyncio.Lock()
        self._client: AsyncModbusTcpClient | None = None
        self._backoff_s = 0.0
        self._next_attempt_at = float("-inf")
        self._inflight: asyncio.Future | None = None
        self._lost_inflight = False
        self.references = 0

    @property
    def name(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    @property
    def next_attempt_in_s(self) -> float:
        """Seconds until a reconnect may be tried (0 when it may be tried now)."""
        return max(0.0, self._next_attempt_at - self._clock.monotonic())

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator["ModbusEndpoint"]:
        """Exclusive use of the connection, e.g. for a write and its readback; connects if needed."""
        async with self._lock:
            await self._ensure_connected()
            yield self

    async def _ensure_connected(self) -> None:
        if self.connected:
            return
        if self._client is not None:  # the socket dropped under us
            self._drop()
        wait_s = self.next_attempt_in_s
        if wait_s > 0:
            raise NotConnected(f"{self.name} is down; next reconnect attempt in {wait_s:.1f} s")
        # reconnect_delay=0: pymodbus must not reconnect on its own, the backoff is ours.
        client = AsyncModbusTcpClient(
            self.host,
            port=self.port,
            timeout=self.timeout_s,
            retries=0,
            reconnect_delay=0,
            name=self.name,
            trace_connect=self._on_connection_change,
        )
        try:
            ok = await asyncio.wait_for(client.connect(), self.timeout_s)
        except (asyncio.TimeoutError, OSError):
            ok = False
        if not ok or not client.connected:
            client.close()
            self._backoff_s = min(BACKOFF_CAP_S, max(BACKOFF_INITIAL_S, self._backoff_s * 2))
            self._next_attempt_at = self._clock.monotonic() + self._backoff_s
            raise NotConnected(f"cannot connect to {self.name}; retrying in {self._backoff_s:.1f} s")
        self._client = client
        self._backoff_s = 0.0
        self._next_attempt_at = float("-inf")

    def _on_connection_change(self, connected: bool) -> None:
        # pymodbus leaves a request sent just before the peer closed waiting for its full timeout;
        # a lost connection ends it at once instead.
        if not connected and self._inflight is not None and not self._inflight.done():
            self._lost_inflight = True
            self._inflight.cancel()

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        # a lost connection may be retried at once; repeated failures then back off
        self._next_attempt_at = min(self._next_attempt_at, self._clock.monotonic())

    async def read_holding(self, unit: int, address: int, count: int) -> list[int]:
        """Read count holding registers of unit; call inside session()."""
        if not 1 <= count <= MAX_REGISTERS_PER_READ:
            raise ValueError(f"cannot read {count} registers in one request (1..{MAX_REGISTERS_PER_READ})")
        what = f"read of {count} registers at {address} from unit {unit} at {self.name}"
        response = await self._call(what, lambda c: c.read_holding_registers(address, count=count, device_id=unit))
        registers = list(response.registers)
        if len(registers) != count:
            raise DeviceRejected(f"{what} returned {len(registers)} registers")
        return registers

    async def write_registers(self, unit: int, address: int, values: Sequence[int]) -> None:
        """Write holding registers of unit (function 16); call inside session()."""
        if not 1 <= len(values) <= MAX_REGISTERS_PER_WRITE:
            raise ValueError(f"cannot write {len(values)} registers in one request")
        what = f"write of {len(values)} registers at {address} to unit {unit} at {self.name}"
        await self._call(what, lambda c: c.write_registers(address, list(values), device_id=unit))

    async def _call(self, what: str, request):
        client = self._client
        if client is None or not client.connected:
            self._drop()
            raise NotConnected(f"{what}: not connected")
        self._lost_inflight = False
        self._inflight = asyncio.ensure_future(request(client))
        try:
            response = await asyncio.wait_for(self._inflight, self.timeout_s)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not self._lost_inflight or (current is not None and current.cancelling()):
                raise  # cancelled by our caller, not by a lost connection
            self._drop()
            raise NotConnected(f"{what}: connection lost while waiting for the answer") from None
        except asyncio.TimeoutError:
            # The connection stays up: pymodbus skips a late answer by its transaction id.
            raise DriverTimeout(f"{what}: no answer within {self.timeout_s} s") from None
        except ModbusIOException as exc:
            if not client.connected:
                self._drop()
                raise NotConnected(f"{what}: connection lost ({exc})") from exc
            raise DriverTimeout(f"{what}: {exc}") from exc
        except ConnectionException as exc:
            self._drop()
            raise NotConnected(f"{what}: connection lost ({exc})") from exc
        except ModbusException as exc:
            raise DriverError(f"{what}: {exc}") from exc
        finally:
            self._inflight = None
        if response.isError():
            code = int(getattr(response, "exception_code", 0))
            raise ModbusExceptionResponse(code, f"{what}: device answered Modbus exception code {code}")
        return response

    def close(self) -> None:
        """Close the socket (the pool calls this when the last user releases the endpoint)."""
        if self._client is not None:
            self._client.close()
            self._client = None


class EndpointPool:
    """Shares one ModbusEndpoint per host:port between all drivers, with reference counts."""

    def __init__(self) -> None:
        self._endpoints: dict[tuple[str, int], ModbusEndpoint] = {}

    def acquire(self, host: str, port: int, *, clock: Clock, timeout_s: float) -> ModbusEndpoint:
        """The endpoint for host:port, created on first use; pair every acquire with release."""
        key = (host, port)
        endpoint = self._endpoints.get(key)
        if endpoint is None:
            # the first user's clock and timeout govern the shared socket
            endpoint = self._endpoints[key] = ModbusEndpoint(host, port, clock=clock, timeout_s=timeout_s)
        endpoint.references += 1
        return endpoint

    def release(self, endpoint: ModbusEndpoint) -> None:
        """Drop one reference; the socket closes when nobody uses the endpoint any more."""
        endpoint.references -= 1
        if endpoint.references <= 0:
            self._endpoints.pop((endpoint.host, endpoint.port), None)
            endpoint.close()

    def __len__(self) -> int:
        return len(self._endpoints)

    def get(self, host: str, port: int) -> ModbusEndpoint | None:
        return self._endpoints.get((host, port))


# asyncio locks and sockets belong to one event loop, so the default pool is one per loop
# (not one per process): drivers created on the same loop share connections, nothing leaks across.
_pools: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, EndpointPool]" = weakref.WeakKeyDictionary()


def pool_for_running_loop() -> EndpointPool:
    """The default EndpointPool of the running event loop."""
    loop = asyncio.get_running_loop()
    pool = _pools.get(loop)
    if pool is None:
        pool = _pools[loop] = EndpointPool()
    return pool
