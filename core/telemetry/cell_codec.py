"""How a pack's cell arrays are stored: fixed-point codes, frame-of-reference packed when that is smaller.

Each metric has a fixed step (its stored resolution) and a bias; a value becomes the unsigned 16-bit code
``round(value / step) + bias``. Decoding gives ``(code - bias) * step`` as float32, so a round trip is
within step / 2 (plus float32 rounding, 2**-24 relative).

    metric     step      bias    range of finite values        why this step
    voltage_v  1 mV      0       0 .. 65.532 V                 BMSs report cells in mV (SunSpec 803 CellV_SF = -3)
    temp_c     0.1 C     32768   -3276.8 .. 3276.4 C           cell thermistors report 0.1 C (accuracy ~0.5 C)
    soc_pct    0.01 %    0       0 .. 655.32 %
    soh_pct    0.01 %    0       0 .. 655.32 %

Reserved codes: 0xFFFF = NaN (missing reading), 0xFFFE = above the range, 0xFFFD = below the range. A
finite value outside the range is stored as "above"/"below" and decodes to +inf / -inf, never clipped to a
plausible number (a limit alarm still fires); +inf / -inf themselves are stored the same way.

A blob is one format byte, then:
- ``0x01`` plain: the N codes as little-endian uint16 (2N bytes);
- ``0x02`` frame of reference: base code (uint16 LE), then N uint8 offsets from it, 0xFF = NaN (2 + N bytes).
  Used when every code is finite or NaN and the finite ones span at most 254 steps (254 mV, 25.4 C, 2.54 %),
  which is how a healthy pack looks; a pack spread wider than that is stored plain.
Any reader can decode it with numpy alone (see ``decode_cells``); the cell count is implied by the length.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

PLAIN, FRAME = 0x01, 0x02
NAN_CODE, ABOVE_CODE, BELOW_CODE = 0xFFFF, 0xFFFE, 0xFFFD
MAX_CODE = 0xFFFC  # largest code of a finite value
FRAME_NAN = 0xFF
FRAME_SPAN = 0xFE  # largest offset in a frame-of-reference blob
_U16 = np.dtype("<u2")
_F32 = np.dtype("<f4")


@dataclass(frozen=True)
class FixedPoint:
    """One metric's stored resolution: code = round(value / step) + bias, as uint16."""

    step: float
    bias: int

    @property
    def lowest(self) -> float:
        return -self.bias * self.step

    @property
    def highest(self) -> float:
        return (MAX_CODE - self.bias) * self.step


CODECS: dict[str, FixedPoint] = {
    "voltage_v": FixedPoint(step=0.001, bias=0),
    "temp_c": FixedPoint(step=0.1, bias=32768),
    "soc_pct": FixedPoint(step=0.01, bias=0),
    "soh_pct": FixedPoint(step=0.01, bias=0),
}


def _codec(metric: str) -> FixedPoint:
    try:
        return CODECS[metric]
    except KeyError:
        raise ValueError(f"no cell codec for {metric!r}; choose one of {', '.join(CODECS)}") from None


def _codes(values: Sequence[float] | np.ndarray, c: FixedPoint) -> list[int]:
    # Plain Python: for the ~10-cell arrays of a pack it is several times faster than numpy's per-call overhead.
    out = []
    step, bias = c.step, c.bias
    for v in values.tolist() if isinstance(values, np.ndarray) else values:
        scaled = float(v) / step
        if scaled != scaled:
            out.append(NAN_CODE)
        elif scaled > 1e12:  # includes +inf (round() refuses infinities)
            out.append(ABOVE_CODE)
        elif scaled < -1e12:
            out.append(BELOW_CODE)
        else:
            code = round(scaled) + bias  # round half to even, like numpy.rint
            out.append(ABOVE_CODE if code > MAX_CODE else BELOW_CODE if code < 0 else code)
    return out


def to_codes(values: Sequence[float] | np.ndarray, metric: str) -> np.ndarray:
    """The uint16 codes of values (sentinels for NaN and out-of-range values)."""
    return np.array(_codes(values, _codec(metric)), dtype=_U16)


def from_codes(codes: np.ndarray, metric: str) -> np.ndarray:
    """Float32 values of uint16 codes (NaN, +inf, -inf for the reserved codes)."""
    c = _codec(metric)
    codes = np.asarray(codes, dtype=_U16)
    out = ((codes.astype(np.float64) - c.bias) * c.step).astype(_F32)
    out[codes == NAN_CODE] = np.nan
    out[codes == ABOVE_CODE] = np.inf
    out[codes == BELOW_CODE] = -np.inf
    return out


def pack_codes(codes: Sequence[int] | np.ndarray) -> bytes:
    """The stored blob of uint16 codes: frame of reference when it fits, plain otherwise."""
    codes = [int(q) for q in (codes.tolist() if isinstance(codes, np.ndarray) else codes)]
    known = [q for q in codes if q != NAN_CODE]
    if codes and all(q <= MAX_CODE for q in known):
        base = min(known, default=0)
        if not known or max(known) - base <= FRAME_SPAN:
            return bytes((FRAME,)) + base.to_bytes(2, "little") + bytes(FRAME_NAN if q == NAN_CODE else q - base for q in codes)
    return bytes((PLAIN,)) + struct.pack(f"<{len(codes)}H", *codes)


def unpack_codes(blob: bytes) -> np.ndarray:
    """The uint16 codes stored in blob."""
    if not blob:
        raise ValueError("an empty cell blob has no format byte")
    kind, body = blob[0], memoryview(blob)[1:]
    if kind == PLAIN:
        if len(body) % 2:
            raise ValueError(f"a plain cell blob holds uint16 codes; {len(body)} bytes is odd")
        return np.frombuffer(body, dtype=_U16).copy()
    if kind == FRAME:
        if len(body) < 2:
            raise ValueError("a frame-of-reference cell blob needs its 2-byte base")
        base = int.from_bytes(body[:2], "little")
        offsets = np.frombuffer(body[2:], dtype=np.uint8)
        codes = offsets.astype(np.int64) + base
        codes[offsets == FRAME_NAN] = NAN_CODE
        return codes.astype(_U16)
    raise ValueError(f"unknown cell blob format byte 0x{kind:02x}")


def encode_cells(values: Sequence[float] | np.ndarray, metric: str) -> bytes:
    """One pack's per-cell values of metric (voltage_v, temp_c, soc_pct, soh_pct) as a stored blob."""
    return pack_codes(_codes(values, _codec(metric)))


def cell_codes(values: Sequence[float] | np.ndarray, metric: str) -> list[int]:
    """The codes of values as a list (for pack_codes and comparisons without numpy)."""
    return _codes(values, _codec(metric))


def decode_cells(blob: bytes, metric: str) -> np.ndarray:
    """The float32 values stored in blob for metric (within step / 2 of what was encoded)."""
    return from_codes(unpack_codes(blob), metric)
