"""The driver registry: every built-in scheme imports; unknown schemes and broken drivers are loud."""

from __future__ import annotations

import pytest

from drivers.base import Driver
from drivers.registry import BUILTIN_DRIVERS, DriverImportError, DriverRegistry, UnknownScheme


@pytest.mark.parametrize("scheme", sorted(BUILTIN_DRIVERS))
def test_every_builtin_driver_imports(scheme):
    factory = DriverRegistry().factory_for(f"{scheme}://127.0.0.1:1/x")
    assert callable(factory)


def test_builtin_drivers_build_from_their_urls():
    registry = DriverRegistry()
    for url in ("modbus+tcp://127.0.0.1:5020/3", "mqtt://127.0.0.1:1883/bess-0001"):
        assert isinstance(registry.create(url), Driver)


def test_unknown_scheme_names_the_known_ones():
    with pytest.raises(UnknownScheme, match=r"no driver for scheme 'bacnet'.*known schemes: modbus\+tcp, mqtt"):
        DriverRegistry().create("bacnet://10.0.0.1/7")


def test_a_driver_that_fails_to_import_is_an_error_not_a_silent_gap():
    registry = DriverRegistry({"broken": "drivers.does_not_exist:Driver"})
    with pytest.raises(DriverImportError, match="failed to import"):
        registry.create("broken://x")
    registry = DriverRegistry({"noattr": "drivers.base:NoSuchDriver"})
    with pytest.raises(DriverImportError, match="has no NoSuchDriver"):
        registry.create("noattr://x")
