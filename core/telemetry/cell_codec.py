"""How a pack's cell arrays are stored: float32, little-endian, packed back to back, no header.

A pack of C cells gives four blobs of 4*C bytes each (voltage_v, temp_c, soc_pct, soh_pct); the cell count
is the blob length / 4, and cell i is bytes [4i, 4i+4). Any reader can decode it without GridRoom:
``numpy.frombuffer(blob, dtype="<f4")`` or ``struct.unpack(f"<{len(blob)//4}f", blob)``.
float32 keeps 24 significant bits (about 7 decimal digits: 0.5 uV at 4 V, far below any BMS's resolution);
a value already representable in float32 round-trips bit for bit.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

DTYPE = np.dtype("<f4")


@lru_cache(maxsize=64)
def _packer(count: int) -> struct.Struct:
    return struct.Struct(f"<{count}f")


def encode_cells(values: Sequence[float]) -> bytes:
    """Pack one pack's per-cell values as float32 little-endian bytes."""
    if isinstance(values, np.ndarray):
        return np.ascontiguousarray(values, dtype=DTYPE).tobytes()
    return _packer(len(values)).pack(*values)


def decode_cells(blob: bytes) -> np.ndarray:
    """The float32 array stored in blob (read-only view; copy it to modify)."""
    if len(blob) % 4:
        raise ValueError(f"a cell array blob holds whole float32 values; {len(blob)} bytes is not a multiple of 4")
    return np.frombuffer(blob, dtype=DTYPE)
