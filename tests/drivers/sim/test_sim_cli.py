"""`gridroom sim` and `gridroom sim inject`: in-process against a started fleet, and as a real process."""

from __future__ import annotations

import argparse
import json
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from drivers.sim.faults import ModbusException
from gridroom.commands import sim as sim_command
from gridroom.commands.common import CommandError
from tests.support.sim_fleet import small_fleet_data

pytestmark = pytest.mark.mosquitto
REPO = Path(__file__).resolve().parents[3]


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="gridroom")
    sim_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def broker_arg(config) -> list[str]:
    return ["--broker", f"{config.host}:{config.port}"]


def test_inject_reaches_the_running_simulator_and_clear_undoes_it(fleet, uid, shared_broker, capsys):
    device = f"{uid}-bs"
    cell = ["--device", device, "--pack", "3", "--cell", "7"]
    assert run_cli(["sim", "inject", "over_temperature", *cell, *broker_arg(shared_broker)]) == 0
    assert "injected over_temperature on" in capsys.readouterr().out
    assert fleet.physics.systems[device].system.faults.extra_heat_w[3, 7] > 0
    assert run_cli(["sim", "inject", "over_temperature", *cell, "--clear", *broker_arg(shared_broker)]) == 0
    assert fleet.physics.systems[device].system.faults.extra_heat_w[3, 7] == 0
    assert run_cli(["sim", "inject", "modbus_exception", "--device", f"{uid}-m1", "--code", "6",
                    *broker_arg(shared_broker)]) == 0
    assert fleet.modbus.devices[f"{uid}-m1"].exception_code == 6
    fleet.clear(ModbusException(f"{uid}-m1"))


def test_inject_reports_the_simulators_refusal_and_bad_arguments(fleet, uid, shared_broker):
    with pytest.raises(CommandError, match="refused: .*applies to modbus devices"):
        run_cli(["sim", "inject", "modbus_timeout", "--device", f"{uid}-b00", *broker_arg(shared_broker)])
    with pytest.raises(CommandError, match="needs pack and cell"):
        run_cli(["sim", "inject", "weak_cell", "--device", f"{uid}-bs", *broker_arg(shared_broker)])
    with pytest.raises(CommandError, match="no simulator owning nobody-here answered"):
        run_cli(["sim", "inject", "offline", "--device", "nobody-here", "--timeout", "0.5", *broker_arg(shared_broker)])


def _lines(proc: subprocess.Popen) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _expect(lines: queue.Queue, text: str, timeout_s: float = 20.0) -> str:
    while True:
        line = lines.get(timeout=timeout_s)
        if line is None:
            raise AssertionError(f"process ended before printing {text!r}")
        if text in line:
            return line


def test_gridroom_sim_runs_as_a_process_until_sigterm(tmp_path, uid, shared_broker, recorder):
    fleet_file = tmp_path / "fleet.json"
    fleet_file.write_text(json.dumps(small_fleet_data(uid, mqtt_devices=2, modbus_devices=1, packs=2, cells=2)))
    script = ("import argparse, sys; from gridroom.commands import sim; p = argparse.ArgumentParser(); "
              "sim.register(p.add_subparsers(dest='command')); a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))")
    proc = subprocess.Popen(
        [sys.executable, "-c", script, "sim", "--fleet", str(fleet_file), *broker_arg(shared_broker)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines = _lines(proc)
    try:
        assert f"on broker {shared_broker.host}:{shared_broker.port}" in _expect(lines, "MQTT BESS")
        assert "modbus+tcp://127.0.0.1:" in _expect(lines, "Modbus SunSpec devices")
        _expect(lines, "running")
        # The running process answers an inject from another process, and its device then says offline.
        assert run_cli(["sim", "inject", "offline", "--device", f"{uid}-b01", *broker_arg(shared_broker)]) == 0
        recorder.wait_for(lambda t, p: t == f"gridroom/v1/{uid}-b01/status" and b'"offline"' in p)
        proc.send_signal(signal.SIGTERM)
        _expect(lines, "SIGTERM received")
        _expect(lines, "stopped")
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
