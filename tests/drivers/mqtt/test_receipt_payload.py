"""The schedule receipt on the ack topic: decoded as a ReceiptPayload when it says kind "receipt", an entry
ack otherwise; anything else with a kind is rejected and counted like every bad payload."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.mqtt.codec import PayloadRejected, RejectReason, decode, encode, kind_of
from drivers.mqtt.payloads import AckPayload, ReceiptPayload
from drivers.mqtt.topics import TopicKind

TOPIC = "gridroom/v1/bess-0001/ack"
ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}", fullmatch=True)
times = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1),
                     timezones=st.just(timezone.utc))


@given(schedule_id=ids, version=st.integers(1, 2**31), at=times)
def test_receipts_round_trip_and_go_on_the_ack_topic(schedule_id, version, at):
    receipt = ReceiptPayload(v=1, kind="receipt", schedule_id=schedule_id, version=version, received_at=at)
    assert decode(TOPIC, encode(receipt)) == ("bess-0001", receipt)
    assert kind_of(receipt) is TopicKind.ACK


@given(kind=st.text(max_size=12).filter(lambda k: k != "receipt"))
def test_any_other_kind_is_rejected(kind):
    payload = {"v": 1, "kind": kind, "schedule_id": "sch-1", "version": 1, "received_at": "2026-03-01T12:00:00Z"}
    try:
        decode(TOPIC, json.dumps(payload).encode())
    except PayloadRejected as exc:
        assert exc.reason == RejectReason.INVALID
    else:
        raise AssertionError(f"kind {kind!r} was accepted")


def test_entry_acks_are_unchanged_and_their_errors_name_the_ack_fields():
    at = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    ack = AckPayload(v=1, schedule_id="sch-1", version=1, entry=0, actual_rate_kw=5.0, started_at=at,
                     ended_at=at + timedelta(minutes=15), ok=True)
    assert decode(TOPIC, encode(ack)) == ("bess-0001", ack)
    bad = json.loads(encode(ack))
    bad["ok"] = False
    with pytest.raises(PayloadRejected) as err:
        decode(TOPIC, json.dumps(bad).encode())
    assert err.value.reason == RejectReason.INVALID and "kind" not in err.value.detail
    missing_v = {k: x for k, x in json.loads(encode(ack)).items() if k != "v"}
    with pytest.raises(PayloadRejected) as err:
        decode(TOPIC, json.dumps({**missing_v, "kind": "receipt"}).encode())
    assert err.value.reason == RejectReason.MISSING_VERSION
