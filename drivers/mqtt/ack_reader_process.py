"""The ack listener's network side in a process of its own: receive, decode and check every ack and receipt
off the control process (AckListener(..., reader_process=True)).

Why: paho's packet handling plus pydantic validation cost ~55 us an ack under the control process's one GIL,
which also stores the acks and publishes schedules; at fleet scale (10,000 receipts, then 10,000 acks) that
was a quarter of its CPU. Here it runs on another core.

The process holds the MQTT session (persistent with a session_id) and sends its parent, over a duplex Pipe:
- ``("ready", bool)`` when the subscription is confirmed (True) or the connection is lost (False);
- ``("error", text)`` when it cannot run at all (it ends after this);
- ``("batch", items, rejects)`` after each network turn that read something: the decoded
  (device_id, ScheduleAck | ScheduleReceipt) in arrival order and a Counter of rejects by reason. It is sent
  before that turn's confirmations (PUBACKs) go to the broker, as an in-process listener queues its acks
  before paho confirms them.
It stops when the parent sends ``"stop"`` or goes away.
"""

from __future__ import annotations

from multiprocessing.connection import Connection

from drivers.mqtt.ack_decoder import AckDecoder
from drivers.mqtt.broker_config import BrokerConfig
from drivers.mqtt.broker_session import BrokerSession
from drivers.mqtt.parent_link import leave_interrupts_to_the_parent, locked_sender, wait_for_stop
from drivers.mqtt.topics import TopicKind, fleet_filter

ROLE = "gridroom-acks"


def ack_session(config: BrokerConfig, session_id: str | None, decoder: AckDecoder, after_read,
                on_ready=None) -> BrokerSession:
    """The ack subscription, feeding `decoder`; `after_read` hands over what a network turn collected."""
    session = BrokerSession(config, ROLE, [fleet_filter(TopicKind.ACK)], session_id, mqtt5=config.mqtt5,
                            on_ready=on_ready, after_read=after_read)

    def on_message(client, userdata, message) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = "\x00not utf-8"  # rejected as an unknown topic
        decoder.add(topic, message.payload)

    session.client.on_message = on_message
    return session


def run_ack_reader(config: BrokerConfig, session_id: str | None, conn: Connection) -> None:
    """The reader process's main: runs until told to stop or its parent goes away."""
    leave_interrupts_to_the_parent()
    decoder = AckDecoder()
    send = locked_sender(conn)  # the network thread sends batches, callbacks may come from the main thread

    def after_read() -> None:
        items, rejects = decoder.take()
        if items or rejects:
            send(("batch", items, rejects))

    def on_ready(up: bool) -> None:
        try:
            send(("ready", up))
        except OSError:
            pass  # the parent is gone; the main loop notices

    try:
        session = ack_session(config, session_id, decoder, after_read, on_ready)
        session.start(0.0, wait=False)
    except Exception as exc:  # e.g. a certificate file that is not there: say so, and end
        send(("error", f"{type(exc).__name__}: {exc}"))
        return
    wait_for_stop(conn)
    session.stop()
