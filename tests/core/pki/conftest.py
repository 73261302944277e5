"""Fixtures for the CA tests: a CA on a manual clock in a temporary folder."""

from __future__ import annotations

import pytest

from core.clock import ManualClock
from core.pki import CertificateAuthority


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ca(tmp_path, clock) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path / "ca", clock=clock)
