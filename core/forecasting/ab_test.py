"""A/B comparison of two model versions: devices or sites are split between them, realized errors compared."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np


@dataclass(frozen=True)
class AbAssignment:
    """Which version serves each subject (device or site id)."""

    version_a: str
    version_b: str
    version_by_subject: Mapping[str, str]

    def version_for(self, subject_id: str) -> str:
        return self.version_by_subject[subject_id]


@dataclass(frozen=True)
class AbComparison:
    version_a: str
    version_b: str
    mae_a: float
    mae_b: float
    rows_a: int
    rows_b: int

    @property
    def better_version(self) -> str | None:
        """The version with the lower realized MAE; None when a side has no data or they tie."""
        if not self.rows_a or not self.rows_b or self.mae_a == self.mae_b:
            return None
        return self.version_a if self.mae_a < self.mae_b else self.version_b


def assign_ab(subject_ids: Iterable[str], version_a: str, version_b: str, *, share_b: float = 0.5,
              salt: str = "") -> AbAssignment:
    """Split subjects between two versions by a stable hash of (salt, id).

    A hash, not a random draw: the same subject keeps its version across restarts and machines, and a
    new subject does not reshuffle the others.
    """
    if version_a == version_b:
        raise ValueError("an A/B test needs two different versions")
    if not 0.0 <= share_b <= 1.0:
        raise ValueError(f"share_b must be within 0..1, got {share_b}")
    mapping = {}
    for subject in subject_ids:
        digest = hashlib.sha256(f"{salt}\x00{subject}".encode()).digest()
        bucket = int.from_bytes(digest[:8], "big") / 2**64
        mapping[subject] = version_b if bucket < share_b else version_a
    return AbAssignment(version_a, version_b, mapping)


def compare_realized_error(assignment: AbAssignment,
                           realized: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> AbComparison:
    """MAE per version over subjects' (actual, forecast) pairs; subjects outside the assignment are refused."""
    errors: dict[str, list[np.ndarray]] = {assignment.version_a: [], assignment.version_b: []}
    for subject, (actual, forecast) in realized.items():
        if subject not in assignment.version_by_subject:
            raise KeyError(f"subject {subject!r} is not part of this A/B test")
        diff = np.abs(np.asarray(actual, float) - np.asarray(forecast, float))
        errors[assignment.version_for(subject)].append(diff[~np.isnan(diff)])
    a = np.concatenate(errors[assignment.version_a]) if errors[assignment.version_a] else np.empty(0)
    b = np.concatenate(errors[assignment.version_b]) if errors[assignment.version_b] else np.empty(0)
    return AbComparison(assignment.version_a, assignment.version_b,
                        float(a.mean()) if a.size else float("nan"), float(b.mean()) if b.size else float("nan"),
                        int(a.size), int(b.size))
