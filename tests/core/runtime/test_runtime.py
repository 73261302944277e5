"""The runtime loop thread: commands in, futures out, events drained in batches, clean shutdown."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

import pytest

from core.clock import ManualClock
from core.runtime.messages import Ping, RuntimeState, RuntimeStateChanged
from core.runtime.runtime import Runtime, RuntimeNotRunning, UnknownCommand


@dataclass(frozen=True)
class Add:
    a: int
    b: int


@dataclass(frozen=True)
class Boom:
    pass


class RecordingService:
    name = "recorder"

    def __init__(self, log: list[str], fail: bool = False) -> None:
        self.log = log
        self.fail = fail
        self.thread: str | None = None

    async def start(self, runtime: Runtime) -> None:
        self.thread = threading.current_thread().name
        if self.fail:
            raise OSError("port 502 already in use")
        self.log.append(f"start {id(self)}")

    async def stop(self) -> None:
        self.log.append(f"stop {id(self)}")


@pytest.fixture
def runtime():
    rt = Runtime(clock=ManualClock(), heartbeat_s=3600)
    yield rt
    rt.stop()


def test_commands_run_on_the_runtime_thread_and_answer_through_futures(runtime):
    seen_threads = []

    async def add(cmd: Add) -> int:
        seen_threads.append(threading.current_thread().name)
        await asyncio.sleep(0)
        return cmd.a + cmd.b

    async def boom(_cmd: Boom):
        raise ValueError("device refused")

    runtime.register(Add, add)
    runtime.register(Boom, boom)
    runtime.start()
    assert runtime.submit(Add(2, 3)).result(timeout=5) == 5
    assert seen_threads == ["gridroom-runtime"]
    with pytest.raises(ValueError, match="device refused"):
        runtime.submit(Boom()).result(timeout=5)
    with pytest.raises(UnknownCommand, match="str"):
        runtime.submit("not a command").result(timeout=5)
    assert runtime.submit(Ping()).result(timeout=5) == runtime.clock.now()


def test_submit_before_start_fails_with_a_typed_error(runtime):
    with pytest.raises(RuntimeNotRunning, match="created"):
        runtime.submit(Ping()).result(timeout=1)


def test_events_are_drained_in_one_batch_in_order(runtime):
    runtime.start()
    for i in range(500):
        runtime.publish(("evt", i))
    batch = runtime.drain_events()
    mine = [e for e in batch if isinstance(e, tuple)]
    assert mine == [("evt", i) for i in range(500)]
    assert RuntimeStateChanged in {type(e) for e in batch}
    assert [e for e in runtime.drain_events() if isinstance(e, tuple)] == []


def test_services_start_in_order_and_stop_in_reverse(runtime):
    log: list[str] = []
    first, second = RecordingService(log), RecordingService(log)
    runtime.add_service(first)
    runtime.add_service(second)
    runtime.start()
    assert first.thread == "gridroom-runtime"
    runtime.stop()
    assert log == [f"start {id(first)}", f"start {id(second)}", f"stop {id(second)}", f"stop {id(first)}"]
    assert runtime.state is RuntimeState.STOPPED
    states = [e.state for e in runtime.drain_events() if isinstance(e, RuntimeStateChanged)]
    assert states == [RuntimeState.STARTING, RuntimeState.RUNNING, RuntimeState.STOPPING, RuntimeState.STOPPED]


def test_a_failing_service_stops_the_ones_already_started_and_says_why(runtime):
    log: list[str] = []
    ok, bad = RecordingService(log), RecordingService(log, fail=True)
    runtime.add_service(ok)
    runtime.add_service(bad)
    with pytest.raises(RuntimeError, match="port 502 already in use"):
        runtime.start()
    assert log == [f"start {id(ok)}", f"stop {id(ok)}"]
    assert runtime.state is RuntimeState.FAILED
