"""Where and how to reach an MQTT broker, and the one place paho clients are built from it."""

from __future__ import annotations

import os
import ssl
import uuid
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt


@dataclass(frozen=True)
class BrokerConfig:
    """Connection settings. TLS is on when ca_path is set; cert_path/key_path add a client certificate
    (devices authenticate with certificates GridRoom issues; the control room may too)."""

    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = ""  # empty: a unique id is generated per client
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_path: str | None = None
    cert_path: str | None = None
    key_path: str | None = None
    keepalive_s: int = 30
    reconnect_min_delay_s: float = 0.5
    reconnect_max_delay_s: float = 30.0
    # The broker speaks MQTT 5 (Mosquitto >= 1.6, EMQX). GridRoom's ack listener then uses MQTT 5's Receive
    # Maximum and session expiry; the embedded amqtt broker speaks only 3.1.1 and is configured with False.
    mqtt5: bool = True

    def __post_init__(self) -> None:
        if (self.cert_path is None) != (self.key_path is None):
            raise ValueError("a client certificate needs both cert_path and key_path")
        if self.cert_path is not None and self.ca_path is None:
            raise ValueError("a client certificate needs ca_path to verify the broker")
        if not 0 < self.reconnect_min_delay_s <= self.reconnect_max_delay_s:
            raise ValueError("need 0 < reconnect_min_delay_s <= reconnect_max_delay_s")

    @property
    def uses_tls(self) -> bool:
        return self.ca_path is not None

    def make_client(self, client_id: str | None = None, *, role: str = "gridroom",
                    clean_session: bool = True, mqtt5: bool = False) -> mqtt.Client:
        """A paho 2.x client (callback API v2, MQTT 3.1.1, clean session unless told otherwise) with auth, TLS
        and backoff set. A persistent session (clean_session=False) needs a stable client_id.
        With mqtt5 the client speaks MQTT 5 (clean_start and session expiry then go with connect()).

        The caller sets callbacks and a last will, then connects.
        """
        if not clean_session and not (client_id or self.client_id):
            raise ValueError("a persistent session needs a stable client_id")
        cid = client_id or self.client_id or f"{role}-{uuid.uuid4().hex[:12]}"
        if mqtt5:
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, protocol=mqtt.MQTTv5)
        else:
            client = mqtt.Client(
                mqtt.CallbackAPIVersion.VERSION2,
                client_id=cid,
                protocol=mqtt.MQTTv311,
                clean_session=clean_session,
            )
        if self.username is not None:
            client.username_pw_set(self.username, self.password)
        if self.uses_tls:
            for what, path in (("CA certificate", self.ca_path), ("client certificate", self.cert_path),
                               ("client key", self.key_path)):
                if path is not None and not os.path.isfile(path):
                    # ssl's own error names no file ("[Errno 2] No such file or directory").
                    raise FileNotFoundError(f"the MQTT {what} file {path} does not exist")
            client.tls_set(
                ca_certs=self.ca_path,
                certfile=self.cert_path,
                keyfile=self.key_path,
                cert_reqs=ssl.CERT_REQUIRED,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        # paho doubles the delay on every failed attempt up to the cap, and resets it after a CONNACK.
        client.reconnect_delay_set(self.reconnect_min_delay_s, self.reconnect_max_delay_s)  # type: ignore[arg-type]
        return client
