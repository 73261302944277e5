"""gridroom devices add / list / decommission, in process (the module is registered on its own parser here)."""

from __future__ import annotations

import argparse
import io

import pytest

from core.demo import DEMO_USERS
from core.devices import DeviceValidationError
from core.errors import PermissionDenied
from gridroom.cli import main
from gridroom.commands import devices

ADMIN, OPERATOR = DEMO_USERS[0], DEMO_USERS[1]


@pytest.fixture
def demo_db(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    assert main(["--database", url, "demo", "--seed-only"]) == 0
    return url


def run(monkeypatch, capsys, url: str, *argv: str, user=ADMIN) -> str:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database")
    devices.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["--database", url, *argv, "--admin", user.username, "--password-stdin"])
    monkeypatch.setattr("sys.stdin", io.StringIO(user.password + "\n"))
    assert args.func(args) == 0
    return capsys.readouterr().out


ADD = [
    "devices", "add", "rh-bs-01", "--name", "Harbour system 1", "--site", "Rotterdam Harbour", "--kind", "battery_system",
    "--capacity-kwh", "2000", "--max-charge-kw", "1000", "--max-discharge-kw", "1000",
    "--address", "mqtt://broker:1883/rh-bs-01", "--packs", "100", "--cells-per-pack", "10",
]


def test_add_list_decommission(monkeypatch, capsys, demo_db):
    assert "registered rh-bs-01 at Rotterdam Harbour" in run(monkeypatch, capsys, demo_db, *ADD)
    listed = run(monkeypatch, capsys, demo_db, "devices", "list", "--site", "Rotterdam Harbour").splitlines()
    assert len(listed) == 2 and listed[1].split()[:2] == ["rh-bs-01", "battery_system"] and "active" in listed[1]
    assert "decommissioned" in run(monkeypatch, capsys, demo_db, "devices", "decommission", "rh-bs-01")
    assert run(monkeypatch, capsys, demo_db, "devices", "list", "--active-only").splitlines()[1:] == []


def test_add_reports_every_problem_and_operators_are_refused(monkeypatch, capsys, demo_db):
    bad = [*ADD[:-4], "--address", "http://broker/x"]
    bad[bad.index("--capacity-kwh") + 1] = "0"
    with pytest.raises(DeviceValidationError) as info:
        run(monkeypatch, capsys, demo_db, *bad)
    assert {"capacity_kwh", "address", "packs", "cells_per_pack"} <= info.value.fields
    with pytest.raises(PermissionDenied):
        run(monkeypatch, capsys, demo_db, *ADD, user=OPERATOR)
