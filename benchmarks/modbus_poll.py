"""Benchmark polling a SunSpec fleet over Modbus TCP (DESIGN.md target: 500 devices each second,
cycle p95 <= 1 s on 2 cores). Writes benchmarks/results/modbus_poll.json.

The fleet is served by a separate process (as real devices would be): `--ports` SunSpecSimulator
endpoints with `--units` unit ids each; that process also pushes new physics into every device once
a second, so the registers are re-encoded between polls. The measuring process runs one
ModbusSunSpecDriver per device, sharing one connection per endpoint, and polls every device once
per cycle (models 802 and 124, one request per device since the two models are adjacent).

Run: .venv/bin/python benchmarks/modbus_poll.py [--ports 5] [--units 100] [--cycles 30] [--period 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drivers.base import Availability  # noqa: E402
from drivers.modbus.connection import EndpointPool  # noqa: E402
from drivers.modbus.driver import ModbusSunSpecDriver  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "modbus_poll.json"


async def serve_fleet(ports: int, units: int) -> None:
    """Server process body: start the simulators, print their ports, update physics until stdin closes."""
    from drivers.modbus.sim_device import SimulatedSunSpecDevice
    from drivers.modbus.simulator import SunSpecSimulator

    sims = [
        SunSpecSimulator([SimulatedSunSpecDevice(unit_id=u, serial=f"P{p}-U{u}", soc_pct=20 + u % 60) for u in range(1, units + 1)])
        for p in range(ports)
    ]
    bound = [await sim.start() for sim in sims]
    print(json.dumps(bound), flush=True)
    loop = asyncio.get_running_loop()
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)
    tick = 0
    while not stdin_closed.done():
        tick += 1
        for sim in sims:
            for device in sim.devices.values():
                device.update(soc_pct=(device.soc_pct + 0.1) % 100, current_a=-10.0 + tick % 20)
        await asyncio.wait([stdin_closed], timeout=1.0)
    for sim in sims:
        await sim.stop()


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(ports: list[int], units: int, cycles: int, period_s: float, server_pid: int) -> dict:
    pool = EndpointPool()
    drivers = [
        ModbusSunSpecDriver(f"modbus+tcp://127.0.0.1:{port}/{unit}", pool=pool, timeout_s=2.0, stale_after_s=3.0)
        for port in ports
        for unit in range(1, units + 1)
    ]
    started = time.perf_counter()
    await asyncio.gather(*(d.connect() for d in drivers))
    connect_s = time.perf_counter() - started

    durations: list[float] = []
    failures = 0
    client_cpu, server_cpu = time.process_time(), process_cpu_s(server_pid)
    next_tick = time.perf_counter()
    for _ in range(cycles):
        cycle_start = time.perf_counter()
        results = await asyncio.gather(*(d.read() for d in drivers), return_exceptions=True)
        durations.append(time.perf_counter() - cycle_start)
        failures += sum(isinstance(r, BaseException) for r in results)
        next_tick += period_s
        await asyncio.sleep(max(0.0, next_tick - time.perf_counter()))  # a benchmark may pace itself

    client_cpu = (time.process_time() - client_cpu) / cycles
    server_cpu = (process_cpu_s(server_pid) - server_cpu) / cycles
    online = sum(d.availability is Availability.ONLINE for d in drivers)
    for driver in drivers:
        await driver.close()
    requests_per_cycle = len(drivers)  # models 802 + 124 in one request per device
    return {
        "devices": len(drivers),
        "endpoints": len(ports),
        "units_per_endpoint": units,
        "cycles": cycles,
        "period_s": period_s,
        "connect_and_scan_all_s": connect_s,
        "requests_per_cycle": requests_per_cycle,
        "cycle_p50_s": statistics.median(durations),
        "cycle_p95_s": percentile(durations, 0.95),
        "cycle_max_s": max(durations),
        "req_per_s_within_cycle": requests_per_cycle / statistics.median(durations),
        "client_cpu_s_per_cycle": client_cpu,
        "server_cpu_s_per_cycle": server_cpu,
        "load_average_1min_at_end": os.getloadavg()[0],
        "failed_reads": failures,
        "online_at_end": online,
        "target_cycle_p95_s": 1.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=5)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--cycles", type=int, default=30)
    parser.add_argument("--period", type=float, default=1.0)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve_fleet(args.ports, args.units))
        return

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--ports", str(args.ports), "--units", str(args.units)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        ports = json.loads(server.stdout.readline())
        result = asyncio.run(measure(ports, args.units, args.cycles, args.period, server.pid))
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    result = {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "note": (
            "fleet served by a second process on the same machine (both share the 2 cores); "
            "cycle times include waiting for CPU when other work runs, the CPU figures do not"
        ),
        **result,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
