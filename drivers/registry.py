"""Maps address URL schemes to driver factories.

The registry is explicit: a scheme is registered by name with the import path of its driver
module. An unknown scheme, or a driver module that fails to import, raises loudly; a plugin is
never dropped silently.
"""

from __future__ import annotations

import importlib
from typing import Callable
from urllib.parse import urlsplit

from drivers.base import Driver

DriverFactory = Callable[[str], Driver]


class UnknownScheme(LookupError):
    """The address uses a scheme no driver is registered for."""


class DriverImportError(ImportError):
    """A registered driver module could not be imported."""


# scheme -> "module:factory". Add new protocols here, nowhere else.
BUILTIN_DRIVERS: dict[str, str] = {
    "modbus+tcp": "drivers.modbus.driver:ModbusSunSpecDriver",
    "mqtt": "drivers.mqtt.driver:MqttDeviceDriver",
}


class DriverRegistry:
    """Resolves a device address URL to a driver instance."""

    def __init__(self, entries: dict[str, str] | None = None) -> None:
        self._entries = dict(BUILTIN_DRIVERS if entries is None else entries)

    @property
    def schemes(self) -> list[str]:
        return sorted(self._entries)

    def register(self, scheme: str, target: str) -> None:
        self._entries[scheme] = target

    def factory_for(self, url: str) -> DriverFactory:
        scheme = urlsplit(url).scheme
        if scheme not in self._entries:
            raise UnknownScheme(
                f"no driver for scheme {scheme!r} in address {url!r}; known schemes: {', '.join(self.schemes)}"
            )
        module_name, _, attr = self._entries[scheme].partition(":")
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # any import failure is a configuration error worth shouting about
            raise DriverImportError(f"driver for {scheme!r} ({module_name}) failed to import: {exc}") from exc
        try:
            return getattr(module, attr)
        except AttributeError as exc:
            raise DriverImportError(f"driver module {module_name} has no {attr}") from exc

    def create(self, url: str) -> Driver:
        return self.factory_for(url)(url)
