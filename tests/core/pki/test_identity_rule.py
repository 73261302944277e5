"""The CA's device-id rule is the MQTT contract's rule (core re-implements it because it never imports drivers)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.pki import identity
from drivers.mqtt import broker_security, topics

ids = st.one_of(
    st.text(max_size=70),
    st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.\-+#/ ]{0,70}\Z"),
    st.from_regex(rf"\A{identity.DEVICE_ID_PATTERN}\Z"),
)


@given(ids)
def test_core_and_driver_rules_accept_the_same_ids(candidate):
    assert identity.is_valid_device_id(candidate) == topics.is_valid_device_id(candidate)


@given(st.from_regex(rf"\A{identity.DEVICE_ID_PATTERN}\Z"))
def test_valid_ids_never_carry_mqtt_wildcards_or_separators(candidate):
    assert identity.is_valid_device_id(candidate)
    assert not set(candidate) & set("+#/ \n\0")
    assert 1 <= len(candidate) <= 64


def test_the_patterns_are_literally_the_same():
    assert identity.DEVICE_ID_PATTERN == topics.DEVICE_ID_PATTERN
    assert identity.CONTROL_IDENTITY == broker_security.CONTROL_USER


def test_bundle_topic_grants_match_the_broker_acl_grants():
    publish, subscribe = identity.device_topics("bess-01")
    acl_writes = {f"{topics.PREFIX}/bess-01/{broker_security._suffix(k)}" for k in broker_security.DEVICE_WRITES}
    acl_reads = {f"{topics.PREFIX}/bess-01/{broker_security._suffix(k)}" for k in broker_security.DEVICE_READS}
    assert set(publish) == acl_writes and set(subscribe) == acl_reads
    # every kind of the contract has a direction
    assert set(broker_security.DEVICE_WRITES) | set(broker_security.DEVICE_READS) == set(topics.TopicKind)
