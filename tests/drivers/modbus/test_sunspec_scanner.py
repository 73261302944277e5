"""The SunSpec map scanner: known layouts, clear errors, and fuzzing with arbitrary register maps."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.modbus.connection import ModbusExceptionResponse
from drivers.modbus.scanner import BASE_ADDRESSES, MAX_MODELS, SunSpecScanError, scan_sync
from drivers.modbus.sunspec_image import SUNS_MARKER, build_image


class RegisterMemory:
    """A device's holding registers: defined blocks answer, anything else is exception 2 (illegal address)."""

    def __init__(self, blocks: dict[int, list[int]]) -> None:
        self.words: dict[int, int] = {}
        for start, values in blocks.items():
            for i, value in enumerate(values):
                if start + i <= 0xFFFF:
                    self.words[start + i] = value
        self.reads = 0

    def read(self, address: int, count: int) -> list[int]:
        self.reads += 1
        assert 0 <= address and address + count - 1 <= 0xFFFF, "scanner asked beyond the Modbus address space"
        try:
            return [self.words[address + i] for i in range(count)]
        except KeyError:
            raise ModbusExceptionResponse(2, f"illegal address at {address}") from None


def test_scan_finds_models_in_order_at_each_base_address():
    for base in BASE_ADDRESSES:
        image = build_image([(1, {}), (802, {}), (124, {})], base_address=base)
        sunspec_map = scan_sync(RegisterMemory({base: image.registers}).read)
        assert sunspec_map.base_address == base
        assert sunspec_map.model_ids == (1, 802, 124)
        assert sunspec_map.require(124).address == image.model_addresses[124]
        assert sunspec_map.require(802).end_address == image.model_addresses[124]


def test_marker_at_40000_wins_over_a_map_at_0():
    first = build_image([(1, {}), (802, {})], base_address=40000)
    other = build_image([(1, {}), (124, {})], base_address=0)
    assert scan_sync(RegisterMemory({40000: first.registers, 0: other.registers}).read).model_ids == (1, 802)


def test_no_marker_anywhere_names_every_base_address():
    memory = RegisterMemory({40000: [0] * 10})
    with pytest.raises(SunSpecScanError) as error:
        scan_sync(memory.read)
    message = str(error.value)
    assert message.startswith("no SunS marker at 40000 (found 0x0000 0x0000), 0 (rejected")
    assert "50000 (rejected: illegal address at 50000)" in message


def test_short_model_names_model_length_need_and_register():
    image = build_image([(1, {}), (802, {}), (124, {})])
    image.registers[image.model_addresses[802] - 40000 + 1] = 12  # L of model 802
    with pytest.raises(SunSpecScanError, match="model 802 length 12 but definition needs 62 at register 40070"):
        scan_sync(RegisterMemory({40000: image.registers}).read)


def test_missing_end_model_is_reported_with_the_register():
    image = build_image([(1, {}), (802, {})])
    truncated = image.registers[:-2]  # drop the end model
    with pytest.raises(SunSpecScanError, match=r"no end model: reading the model header at register 40134 was rejected"):
        scan_sync(RegisterMemory({40000: truncated}).read)


def test_required_model_missing_lists_what_was_found():
    image = build_image([(1, {}), (802, {})])
    sunspec_map = scan_sync(RegisterMemory({40000: image.registers}).read)
    with pytest.raises(SunSpecScanError, match=r"no SunSpec model 124 \(models found: 1, 802\)"):
        sunspec_map.require(124)


def test_self_referencing_chain_of_empty_models_ends_with_an_error():
    # model 7 length 0 repeated forever: a scanner following it must stop, not loop
    memory = RegisterMemory({40000: [*SUNS_MARKER, *([7, 0] * (MAX_MODELS + 5))]})
    with pytest.raises(SunSpecScanError, match="never reaches an end model"):
        scan_sync(memory.read)
    assert memory.reads <= 1 + MAX_MODELS + 1


def _check_scan(memory: RegisterMemory) -> None:
    try:
        sunspec_map = scan_sync(memory.read)
    except SunSpecScanError as exc:
        assert str(exc)  # always says why
    else:
        assert sunspec_map.base_address in BASE_ADDRESSES
        address = sunspec_map.base_address + 2
        for location in sunspec_map.models:
            assert location.address == address
            address = location.end_address
        assert memory.words.get(address) == 0xFFFF  # the chain ends on an end model
    assert memory.reads <= len(BASE_ADDRESSES) + MAX_MODELS + 1


words = st.integers(0, 0xFFFF)
model_ids = st.one_of(st.sampled_from([1, 802, 124, 0, 0xFFFF]), words)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from([*BASE_ADDRESSES, 65530, 100]),
    marker=st.booleans(),
    body=st.lists(words, max_size=300),
)
def test_fuzz_arbitrary_register_arrays(base, marker, body):
    registers = ([*SUNS_MARKER] if marker else []) + body
    _check_scan(RegisterMemory({base: registers}))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from([*BASE_ADDRESSES, 65400]),
    headers=st.lists(st.tuples(model_ids, st.integers(0, 200)), max_size=12),
    end=st.booleans(),
    cut=st.integers(0, 2000),
    filler=words,
)
def test_fuzz_model_chains_truncated_anywhere(base, headers, end, cut, filler):
    registers = [*SUNS_MARKER]
    for model_id, length in headers:
        registers += [model_id, length] + [filler] * length
    if end:
        registers += [0xFFFF, 0]
    _check_scan(RegisterMemory({base: registers[: max(0, len(registers) - cut)]}))
