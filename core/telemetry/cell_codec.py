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


def to_codes(values: Sequence[float] | np.ndarray, metric: str) -> np.ndarray:
    """The uint16 codes of values (sentinels for NaN and out-of-range values)."""
    c = _codec(metric)
    x = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.rint(x / c.step) + c.bias
    codes = np.full(x.shape, NAN_CODE, dtype=np.int64)
    finite = np.isfinite(scaled)
    codes[finite] = scaled[finite].clip(-1, MAX_CODE + 1).astype(np.int64)
    codes[(scaled > MAX_CODE) | (x == np.inf)] = ABOVE_CODE
    codes[(scaled < 0) | (x == -np.inf)] = BELOW_CODE
    return codes.astype(_U16)


def from_codes(codes: np.ndarray, metric: str) -> np.ndarray:
    """Float32 values of uint16 codes (NaN, +inf, -inf for the reserved codes)."""
    c = _codec(metric)
    codes = np.asarray(codes, dtype=_U16)
    out = ((codes.astype(np.float64) - c.bias) * c.step).astype(_F32)
    out[codes == NAN_CODE] = np.nan
    out[codes == ABOVE_CODE] = np.inf
    out[codes == BELOW_CODE] = -np.inf
    return out


def pack_codes(codes: np.ndarray) -> bytes:
    """The stored blob of uint16 codes: frame of reference when it fits, plain otherwise."""
    codes = np.asarray(codes, dtype=_U16)
    nan = codes == NAN_CODE
    known = codes[~nan]
    if codes.size and not (known > MAX_CODE).any():
        base = int(known.min()) if known.size else 0
        if not known.size or int(known.max()) - base <= FRAME_SPAN:
            offsets = np.where(nan, FRAME_NAN, codes.astype(np.int64) - base).astype(np.uint8)
            return bytes((FRAME,)) + base.to_bytes(2, "little") + offsets.tobytes()
    return bytes((PLAIN,)) + codes.tobytes()


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
    return pack_codes(to_codes(values, metric))


def decode_cells(blob: bytes, metric: str) -> np.ndarray:
    """The float32 values stored in blob for metric (within step / 2 of what was encoded)."""
    return from_codes(unpack_codes(blob), metric)
