"""Generated Mosquitto config and ACL, unit-checked and then enforced by a REAL Mosquitto with GridRoom's CA:
certificates are the only way in, each device is confined to its own topics, and revocation takes effect."""

from __future__ import annotations

import queue
import shutil
import socket
import ssl
import subprocess
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.pki import CertificateAuthority
from drivers.mqtt.broker_config import BrokerConfig
from drivers.mqtt.broker_security import acl_file, mosquitto_conf
from tests.drivers.mqtt.secure_broker import SecureMosquitto
from tests.support.services import unavailable

WAIT_S = 10.0


# ----- the generated text ---------------------------------------------------------------------------------------
def test_conf_demands_certificates_crl_and_acl_on_the_listener():
    text = mosquitto_conf(8883, "/ca/ca.crt", "/ca/s.crt", "/ca/s.key", "/ca/crl.pem", "/ca/acl")
    lines = text.splitlines()
    assert lines.index("per_listener_settings true") < lines.index("listener 8883 127.0.0.1")
    after_listener = lines[lines.index("listener 8883 127.0.0.1") :]
    for needed in (
        "cafile /ca/ca.crt", "certfile /ca/s.crt", "keyfile /ca/s.key", "crlfile /ca/crl.pem",
        "require_certificate true", "use_identity_as_username true", "allow_anonymous false", "acl_file /ca/acl",
    ):
        assert needed in after_listener  # per-listener settings only bind when they follow the listener line
    assert "allow_anonymous true" not in text


@pytest.mark.parametrize(
    "bad", [{"acl_file": "/ca/acl\nallow_anonymous true"}, {"cafile": "relative/ca.crt"}, {"listener_port": 0}]
)
def test_conf_refuses_injection_relative_paths_and_bad_ports(bad):
    args = dict(listener_port=8883, cafile="/c", certfile="/s", keyfile="/k", crlfile="/r", acl_file="/a")
    with pytest.raises(ValueError):
        mosquitto_conf(**{**args, **bad})


def test_acl_confines_devices_by_pattern_and_gives_control_the_tree():
    lines = acl_file(["bess-01"]).splitlines()
    assert {line for line in lines if line.startswith("pattern")} == {
        "pattern write gridroom/v1/%u/status",
        "pattern write gridroom/v1/%u/telemetry",
        "pattern write gridroom/v1/%u/cells/+",
        "pattern write gridroom/v1/%u/ack",
        "pattern write gridroom/v1/%u/cmd/result",
        "pattern read gridroom/v1/%u/schedule",
        "pattern read gridroom/v1/%u/cmd",
    }
    control = lines.index("user gridroom-control")
    assert lines[control + 1] == "topic readwrite gridroom/v1/#"
    assert not any("readwrite" in line and "%u" in line for line in lines)


def test_listed_only_acl_names_each_device():
    lines = acl_file(["b", "a"], listed_only=True).splitlines()
    assert "pattern" not in "\n".join(lines)
    assert lines.index("user a") < lines.index("user b")
    assert "topic write gridroom/v1/a/telemetry" in lines and "topic read gridroom/v1/b/cmd" in lines


@pytest.mark.parametrize("devices", [["a/b"], ["x+"], ["gridroom-control"], [""]])
def test_acl_refuses_bad_or_privileged_device_ids(devices):
    with pytest.raises(ValueError):
        acl_file(devices)


# ----- against a real Mosquitto ---------------------------------------------------------------------------------
@pytest.fixture
def pki(tmp_path):
    if shutil.which("mosquitto") is None:
        unavailable("mosquitto binary")
    return CertificateAuthority.create(tmp_path / "ca")


def identity(ca: CertificateAuthority, folder: Path, name: str) -> tuple[Path, Path]:
    issued = ca.issue_control_certificate(name) if name == "gridroom-control" else ca.issue_device_certificate(name)
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    issued.write_files(cert, key)
    return cert, key


@pytest.fixture
def broker(pki, tmp_path):
    mosquitto = SecureMosquitto(tmp_path, pki, ["dev-a", "dev-b"])
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


def config(broker: SecureMosquitto, files: tuple[Path, Path] | None, ca_path: Path | None = None) -> BrokerConfig:
    cert, key = files if files else (None, None)
    return BrokerConfig(
        host="127.0.0.1", port=broker.port, ca_path=str(ca_path or broker.ca.cert_path),
        cert_path=cert and str(cert), key_path=key and str(key),
    )


def attempt(cfg: BrokerConfig) -> str:
    """Connect once; 'connected' on a successful CONNACK, otherwise how it failed."""
    client = cfg.make_client(f"probe-{uuid.uuid4().hex[:8]}")
    events: queue.Queue = queue.Queue()
    client.on_connect = lambda c, u, flags, rc, props: events.put(("connack", rc))
    client.on_disconnect = lambda c, u, flags, rc, props: events.put(("disconnect", rc))
    try:
        client.connect(cfg.host, cfg.port, 10)
    except (ssl.SSLError, OSError) as exc:  # TLS 1.2 fails here; TLS 1.3 reports the client's cert after
        return f"refused: {exc!r}"
    client.loop_start()
    try:
        kind, rc = events.get(timeout=WAIT_S)
    except queue.Empty:
        return "no answer"
    finally:
        client.disconnect()
        client.loop_stop()
    return "connected" if kind == "connack" and not rc.is_failure else f"{kind}: {rc}"


@contextmanager
def connected(cfg: BrokerConfig, subscribe: tuple[str, ...] = ()):
    """A connected client whose received messages land in ``client.inbox`` and SUBACK codes in ``client.subacks``."""
    client = cfg.make_client(f"t-{uuid.uuid4().hex[:8]}")
    ready: queue.Queue = queue.Queue()
    client.inbox = queue.Queue()  # type: ignore[attr-defined]
    client.subacks = queue.Queue()  # type: ignore[attr-defined]
    client.on_connect = lambda c, u, flags, rc, props: ready.put(rc)
    client.on_message = lambda c, u, msg: c.inbox.put((msg.topic, msg.payload))
    client.on_subscribe = lambda c, u, mid, codes, props: c.subacks.put(codes)
    client.connect(cfg.host, cfg.port, 30)
    client.loop_start()
    try:
        assert not ready.get(timeout=WAIT_S).is_failure
        for topic in subscribe:
            client.subscribe(topic, qos=1)
            assert not client.subacks.get(timeout=WAIT_S)[0].is_failure, topic
        yield client
    finally:
        client.disconnect()
        client.loop_stop()


def publish(client, topic: str, payload: bytes) -> None:
    client.publish(topic, payload, qos=1).wait_for_publish(WAIT_S)


def received_until(client, marker: tuple[str, bytes]) -> list[tuple[str, bytes]]:
    """Everything the client received up to and including marker (which must arrive within WAIT_S)."""
    seen = []
    while True:
        item = client.inbox.get(timeout=WAIT_S)
        seen.append(item)
        if item == marker:
            return seen


@pytest.mark.mosquitto
def test_device_telemetry_reaches_the_control_subscriber(broker, pki, tmp_path):
    control = config(broker, identity(pki, tmp_path, "gridroom-control"))
    device = config(broker, identity(pki, tmp_path, "dev-a"))
    with connected(control, ("gridroom/v1/+/telemetry",)) as ctl, connected(device) as dev:
        publish(dev, "gridroom/v1/dev-a/telemetry", b'{"v": 1}')
        assert ctl.inbox.get(timeout=WAIT_S) == ("gridroom/v1/dev-a/telemetry", b'{"v": 1}')


@pytest.mark.mosquitto
def test_device_cannot_publish_as_another_device_or_forge_its_schedule(broker, pki, tmp_path):
    control = config(broker, identity(pki, tmp_path, "gridroom-control"))
    device_a = config(broker, identity(pki, tmp_path, "dev-a"))
    with connected(control, ("gridroom/v1/#",)) as ctl, connected(device_a) as dev:
        publish(dev, "gridroom/v1/dev-b/telemetry", b"forged")
        publish(dev, "gridroom/v1/dev-a/schedule", b"self-scheduled")
        publish(dev, "gridroom/v1/dev-a/cmd", b"self-commanded")
        marker = ("gridroom/v1/dev-a/telemetry", b"marker")
        publish(dev, *marker)
        # Same connection, QoS 1, in order: had any forbidden message passed, it would have arrived first.
        assert received_until(ctl, marker) == [marker]


@pytest.mark.mosquitto
def test_device_cannot_read_another_devices_commands(broker, pki, tmp_path):
    control = config(broker, identity(pki, tmp_path, "gridroom-control"))
    device_a = config(broker, identity(pki, tmp_path, "dev-a"))
    with connected(device_a, ("gridroom/v1/dev-a/cmd",)) as dev, connected(control) as ctl:
        # Mosquitto 2.0.11 grants these SUBACKs; the ACL is enforced on every delivery, which is what counts.
        for topic in ("gridroom/v1/dev-b/cmd", "gridroom/v1/+/cmd", "gridroom/v1/#"):
            dev.subscribe(topic, qos=1)
            dev.subacks.get(timeout=WAIT_S)
        publish(ctl, "gridroom/v1/dev-b/cmd", b"for b")
        marker = ("gridroom/v1/dev-a/cmd", b"for a")
        publish(ctl, *marker)
        assert set(received_until(dev, marker)) == {marker}


@pytest.mark.mosquitto
def test_clients_without_a_valid_certificate_cannot_connect(broker, pki, tmp_path):
    assert attempt(config(broker, None)) != "connected"
    assert broker.wait_for_log("peer did not return a certificate")
    stranger_ca = CertificateAuthority.create(tmp_path / "stranger")
    stranger = identity(stranger_ca, tmp_path / "stranger", "dev-a")
    assert attempt(config(broker, stranger)) != "connected"
    server_as_client = (broker.server_cert, broker.server_key)  # serverAuth only: not a client identity
    assert attempt(config(broker, server_as_client)) != "connected"
    assert attempt(config(broker, identity(pki, tmp_path, "dev-a"))) == "connected"  # the broker itself is fine


def tls_verdict(broker: SecureMosquitto, files: tuple[Path, Path]) -> str:
    """The broker's TLS verdict on a client certificate: the alert it sends, or 'accepted'.

    TLS 1.2 only: there the server judges the client certificate before its Finished message, so the verdict is
    known when the handshake returns. (Under TLS 1.3 it comes after, racing with the socket's close.)
    """
    context = ssl.create_default_context(cafile=str(broker.ca.cert_path))
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(files[0]), str(files[1]))
    with socket.create_connection(("127.0.0.1", broker.port), timeout=WAIT_S) as raw:
        try:
            with context.wrap_socket(raw, server_hostname="127.0.0.1"):
                return "accepted"
        except ssl.SSLError as exc:
            return str(exc.reason)


@pytest.mark.mosquitto
def test_revoked_certificate_is_refused_once_the_broker_rereads_the_crl(broker, pki, tmp_path):
    files_a = identity(pki, tmp_path, "dev-a")
    device_a = config(broker, files_a)
    device_b = config(broker, identity(pki, tmp_path, "dev-b"))
    assert attempt(device_a) == "connected"
    pki.revoke("dev-a", "key_compromise")
    assert tls_verdict(broker, files_a) == "accepted"  # Mosquitto reads the CRL only at start...
    broker.restart()
    assert tls_verdict(broker, files_a) == "SSLV3_ALERT_CERTIFICATE_REVOKED"  # ...and refuses it after a restart
    assert attempt(device_a) != "connected"
    assert attempt(device_b) == "connected"


@pytest.mark.mosquitto
def test_mosquitto_pub_cli_uses_the_issued_files(broker, pki, tmp_path):
    if shutil.which("mosquitto_pub") is None:
        unavailable("mosquitto_pub binary")
    cert, key = identity(pki, tmp_path, "dev-b")
    control = config(broker, identity(pki, tmp_path, "gridroom-control"))
    base = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "--cafile", str(pki.cert_path), "-q", "1"]
    with connected(control, ("gridroom/v1/+/telemetry",)) as ctl:
        ok = subprocess.run([*base, "--cert", str(cert), "--key", str(key), "-t", "gridroom/v1/dev-b/telemetry",
                             "-m", "from-cli"], capture_output=True, text=True, timeout=WAIT_S)
        assert ok.returncode == 0, ok.stderr
        assert ctl.inbox.get(timeout=WAIT_S) == ("gridroom/v1/dev-b/telemetry", b"from-cli")
        anonymous = subprocess.run([*base, "-t", "gridroom/v1/dev-b/telemetry", "-m", "anon"],
                                   capture_output=True, text=True, timeout=WAIT_S)
        assert anonymous.returncode != 0


@pytest.mark.mosquitto
def test_listed_only_acl_gives_an_unlisted_certificate_nothing(pki, tmp_path):
    mosquitto = SecureMosquitto(tmp_path, pki, ["dev-a"], listed_only=True)
    mosquitto.start()
    try:
        control = config(mosquitto, identity(pki, tmp_path, "gridroom-control"))
        unlisted = config(mosquitto, identity(pki, tmp_path, "dev-z"))
        listed = config(mosquitto, identity(pki, tmp_path, "dev-a"))
        with connected(control, ("gridroom/v1/+/telemetry",)) as ctl:
            with connected(unlisted) as z:
                publish(z, "gridroom/v1/dev-z/telemetry", b"unlisted")
            with connected(listed) as a:
                marker = ("gridroom/v1/dev-a/telemetry", b"listed")
                publish(a, *marker)
            assert received_until(ctl, marker) == [marker]
    finally:
        mosquitto.stop()


def test_gridroom_ingest_over_tls_with_the_control_certificate(broker, pki, tmp_path):
    """GridRoom's own ingest (paho, TLS, control certificate) receives a certificate-holding device's telemetry."""
    from core.fleet.live_state import AvailabilityCode, LiveState
    from drivers.mqtt.device_sim import DeviceFleetSimulator
    from drivers.mqtt.ingest import TelemetryIngest

    control = config(broker, identity(pki, tmp_path, "gridroom-control"))
    device = config(broker, identity(pki, tmp_path, "dev-a"))
    state = LiveState()
    state.register("dev-a")
    ingest = TelemetryIngest(control, state)
    ingest.start()
    sim = DeviceFleetSimulator(device, ["dev-a"])
    try:
        assert ingest.wait_subscribed(10)
        sim.start()
        sim.publish_round()
        assert ingest.wait_until(lambda c: c.decoded >= 2, 10)  # status + telemetry
    finally:
        sim.stop()
        ingest.stop()
    snap = state.snapshot()
    assert snap.availability[snap.row("dev-a")] == AvailabilityCode.ONLINE
    assert ingest.counters.snapshot().rejected == 0


def test_a_missing_certificate_file_is_named_when_a_client_is_built(pki, tmp_path):
    """ssl's own error names no file; the broker settings say which one is missing."""
    from drivers.mqtt.broker_config import BrokerConfig

    for settings, missing in (
        (dict(ca_path=str(tmp_path / "nope-ca.pem")), "CA certificate file"),
        (dict(ca_path=str(pki.cert_path), cert_path=str(tmp_path / "nope.crt"), key_path=str(tmp_path / "nope.key")),
         "client certificate file"),
    ):
        with pytest.raises(FileNotFoundError, match=f"the MQTT {missing} .*nope.* does not exist"):
            BrokerConfig(**settings).make_client(role="test")
