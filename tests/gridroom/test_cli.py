"""The gridroom command end to end, as separate processes where signals and stdin matter."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.demo import DEMO_USERS
from gridroom.cli import main

ADMIN = DEMO_USERS[0]


@pytest.fixture
def demo_db(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    assert main(["--database", url, "demo", "--seed-only"]) == 0
    return url


def run(args: list[str], stdin: str = "", env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "gridroom", *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
    )


def test_help_lists_the_commands():
    out = run(["--help"]).stdout
    for command in ("gui", "demo", "serve", "db", "users", "audit"):
        assert command in out


def test_user_management_from_the_cli_is_audited(demo_db):
    db = ["--database", demo_db]
    pw = ADMIN.password + "\n"
    r = run([*db, "users", "create", "zoe", "--role", "viewer", "--admin", ADMIN.username, "--password-stdin"], pw + "Temporary-Pass-1\n")
    assert r.returncode == 0, r.stderr
    r = run([*db, "users", "set-role", "zoe", "operator", "--admin", ADMIN.username, "--password-stdin"], pw)
    assert r.returncode == 0, r.stderr
    r = run([*db, "users", "deactivate", "zoe", "--admin", ADMIN.username, "--password-stdin"], pw)
    assert r.returncode == 0, r.stderr
    r = run([*db, "users", "list", "--status", "inactive", "--admin", ADMIN.username, "--password-stdin"], pw)
    assert [line.split()[:3] for line in r.stdout.splitlines()[1:]] == [["zoe", "operator", "inactive"]]
    out = Path(demo_db.removeprefix("sqlite:///")).with_name("audit.json")
    r = run([*db, "audit", "export", "--format", "json", "--out", str(out), "--action", "user.", "--admin", ADMIN.username, "--password-stdin"], pw)
    assert r.returncode == 0, r.stderr
    import json

    actions = [row["action"] for row in json.loads(out.read_text())["entries"]]
    assert actions[:3] == ["user.deactivate", "user.set_role", "user.create"]


def test_cli_refusals_are_clear_and_exit_nonzero(demo_db):
    db = ["--database", demo_db]
    r = run([*db, "users", "create", "x1", "--role", "root", "--admin", ADMIN.username, "--password-stdin"], ADMIN.password + "\n")
    assert r.returncode == 2 and "unknown role 'root'" in r.stderr
    viewer = DEMO_USERS[3]
    r = run([*db, "users", "list", "--admin", viewer.username, "--password-stdin"], viewer.password + "\n")
    assert r.returncode == 2 and "not allowed to manage users" in r.stderr
    r = run([*db, "users", "list", "--admin", ADMIN.username, "--password-stdin"], "wrong\n")
    assert r.returncode == 2 and "wrong user name or password" in r.stderr


def test_audit_verify_detects_tampering(demo_db):
    assert run(["--database", demo_db, "audit", "verify"]).returncode == 0
    import sqlite3

    con = sqlite3.connect(demo_db.removeprefix("sqlite:///"))
    con.execute("DROP TRIGGER audit_log_no_delete")
    con.execute("DELETE FROM audit_log WHERE id = 2")
    con.commit()
    con.close()
    r = run(["--database", demo_db, "audit", "verify"])
    assert r.returncode == 1
    assert "AUDIT CHAIN BROKEN" in r.stdout and "missing" in r.stdout


def test_db_backup_and_upgrade(demo_db, tmp_path):
    target = tmp_path / "backups" / "copy.sqlite3"
    r = run(["--database", demo_db, "db", "backup", str(target)])
    assert r.returncode == 0, r.stderr
    r = run(["--database", f"sqlite:///{target}", "db", "status"])
    assert "-> current" in r.stdout
    r = run(["--database", f"sqlite:///{tmp_path / 'fresh.sqlite3'}", "db", "upgrade"])
    assert r.returncode == 0 and "current" in r.stdout


def test_create_admin_only_on_first_run(tmp_path):
    db = ["--database", f"sqlite:///{tmp_path / 'new.sqlite3'}"]
    r = run([*db, "users", "create-admin", "chief", "--password-stdin"], "Harbour-Pass-99\n")
    assert r.returncode == 0, r.stderr
    r = run([*db, "users", "create-admin", "other", "--password-stdin"], "Other-Password-9\n")
    assert r.returncode == 2 and "already exists" in r.stderr
    r = run([*db, "users", "create-admin", "weak", "--password-stdin"], "short\n")
    assert r.returncode == 2


def test_serve_runs_until_sigterm_and_shuts_down_cleanly(demo_db):
    proc = subprocess.Popen(
        [sys.executable, "-m", "gridroom", "--database", demo_db, "serve"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = proc.stdout.readline()  # blocks until the runtime says it runs
        assert "runtime running" in first
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "SIGTERM received" in out and "stopped cleanly" in out
    r = run(["--database", demo_db, "audit", "verify"])
    assert r.returncode == 0


def test_serve_reads_acks_in_a_reader_process_and_stores_what_its_session_kept(demo_db, tmp_path):
    """`python -m gridroom serve --broker` against the real Mosquitto: an ack that a device sent (mosquitto_pub)
    while serve was down waits in serve's persistent session; serve's reader process picks it up on start and the
    runtime checks it (an unknown schedule: rejected, audited with the reason) before a clean Ctrl+C stop."""
    import json
    import shutil
    import socket
    import uuid

    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    from drivers.mqtt.broker_config import BrokerConfig
    from tests.support.services import require_mosquitto

    host, port = require_mosquitto()
    if shutil.which("mosquitto_pub") is None:
        pytest.fail("mosquitto_pub (mosquitto-clients) is needed: ./scripts/setup.sh --services installs it")
    broker = BrokerConfig(host=host, port=port)
    session = f"gridroom-serve-{socket.gethostname()}"  # the session serve resumes
    uid = uuid.uuid4().hex[:8]

    def session_client(expiry_s: int):
        client = broker.make_client(session, role="test", mqtt5=True)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = expiry_s
        client.connect(host, port, clean_start=True, properties=props)
        return client

    opened = session_client(300)  # as if serve had run before: its session holds the ack subscription
    opened.loop_start()
    assert opened.subscribe("gridroom/v1/+/ack", qos=1)[0] == 0
    opened.disconnect()
    opened.loop_stop()
    device = f"{uid}-gone"
    ack = {"v": 1, "schedule_id": f"sch-{uid}", "version": 3, "entry": 0, "actual_rate_kw": 5.0,
           "started_at": "2026-01-01T10:00:00Z", "ended_at": "2026-01-01T10:15:00Z", "ok": True}
    subprocess.run(["mosquitto_pub", "-h", host, "-p", str(port), "-q", "1", "-t", f"gridroom/v1/{device}/ack",
                    "-m", json.dumps(ack)], check=True, timeout=30)
    proc = subprocess.Popen([sys.executable, "-m", "gridroom", "--database", demo_db, "serve", "--broker",
                             f"{host}:{port}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        assert "runtime running" in proc.stdout.readline()
        assert proc.stdout.readline().strip() == "gridroom serve: schedule acks: listening (in a reader process)"
        # Ctrl+C in a terminal: SIGINT to the whole process group, the reader process too. What the reader read
        # is stored before the runtime stops, and the reader leaves stopping to serve (no traceback).
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        session_client(0).disconnect()  # end the session
    assert proc.returncode == 0, err
    assert "SIGINT received" in out and "stopped cleanly" in out and "Traceback" not in err, err
    export = tmp_path / "acks.json"
    r = run(["--database", demo_db, "audit", "export", "--format", "json", "--out", str(export), "--action",
             "schedule.acks", "--admin", ADMIN.username, "--password-stdin"], ADMIN.password + "\n")
    assert r.returncode == 0, r.stderr
    rows = json.loads(export.read_text())["entries"]
    rejected = [item for row in rows for item in row["detail"]["rejected_items"]]
    assert {"device_id": device, "schedule_id": f"sch-{uid}", "version": 3, "entry": 0,
            "reason": "unknown schedule version"} in rejected


def test_audit_report_pdf_headless(demo_db, tmp_path):
    out = tmp_path / "audit.pdf"
    r = run(["--database", demo_db, "report", "audit", "--out", str(out), "--zone", "Europe/Brussels",
             "--admin", ADMIN.username, "--password-stdin"], ADMIN.password + "\n")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().startswith(b"%PDF")
    r = run(["--database", demo_db, "report", "audit", "--out", str(tmp_path / "x.pdf"), "--from", "2026-02-01",
             "--to", "2026-01-01", "--admin", ADMIN.username, "--password-stdin"], ADMIN.password + "\n")
    assert r.returncode == 2 and "--from must be before --to" in r.stderr


def test_forecast_retrain_from_the_cli_registers_a_new_price_model(
        sqlite_services, sqlite_database_url, tmp_path, monkeypatch, capsys):
    """In process through main(argv): prices imported with `market import`, then `forecast retrain`."""
    import io

    from core.audit.trail import AuditFilter
    from gridroom.market_runtime import model_registry
    from tests.support.people import STRONG, make_people

    monkeypatch.setenv("GRIDROOM_DATA_DIR", str(tmp_path / "data"))  # the model files of this test's own
    people = make_people(sqlite_services)
    prices = Path(__file__).resolve().parents[1] / "fixtures" / "timeseries" / "be_day_ahead_prices_utc_2024-03_2024-05.csv"

    def cli(password: str, *argv: str) -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        return main(["--database", sqlite_database_url, *argv, "--password-stdin"])

    assert cli(STRONG + "x", "forecast", "retrain", "--admin", "tom") == 2
    assert "no stored prices" in capsys.readouterr().err
    assert cli(STRONG + "x", "market", "import", str(prices), "--as", "tom") == 0
    capsys.readouterr()
    assert cli(STRONG + "x", "forecast", "retrain", "--admin", "vic") == 2
    assert "not allowed" in capsys.readouterr().err
    assert cli(STRONG + "x", "forecast", "retrain", "--admin", "tom", "--training-days", "42") == 0
    out = capsys.readouterr().out
    assert out.startswith("registered price-20240525-") and "trained 2024-04-13..2024-05-25" in out
    version = out.split()[1].rstrip(":")
    assert model_registry(sqlite_services).get(version).backtest_mae > 0
    audit = sqlite_services.audit_log.query(people["chief"], AuditFilter(action="forecast.retrain"))
    assert [(e.username, e.resource, e.detail["reason"]) for e in audit] == [("tom", f"forecast:{version}", "manual")]
