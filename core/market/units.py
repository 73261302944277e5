"""The small table of units GridRoom imports, and conversion between units of the same quantity."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from core.market.errors import UnknownUnitError


@dataclass(frozen=True)
class Unit:
    """A unit: its canonical symbol, the quantity it measures and its factor to the quantity's base unit."""

    symbol: str
    quantity: str  # "price", "power" or "energy"
    factor_to_base: float
    extensive: bool  # True when a value is an amount per interval (energy): it splits/sums on resampling


# Base units: EUR/MWh for prices, kW for power, kWh for energy.
_UNITS: tuple[Unit, ...] = (
    Unit("EUR/MWh", "price", 1.0, False),
    Unit("EUR/kWh", "price", 1000.0, False),
    Unit("ct/kWh", "price", 10.0, False),
    Unit("W", "power", 0.001, False),
    Unit("kW", "power", 1.0, False),
    Unit("MW", "power", 1000.0, False),
    Unit("Wh", "energy", 0.001, True),
    Unit("kWh", "energy", 1.0, True),
    Unit("MWh", "energy", 1000.0, True),
)
_BY_KEY: dict[str, Unit] = {}
for _unit in _UNITS:
    _BY_KEY[_unit.symbol.lower()] = _unit
# Spellings seen in real files; keys are lower case.
_ALIASES = {
    "€/mwh": "EUR/MWh", "eur_per_mwh": "EUR/MWh", "eur/mwh": "EUR/MWh",
    "€/kwh": "EUR/kWh", "eur_per_kwh": "EUR/kWh",
    "ct_per_kwh": "ct/kWh", "c/kwh": "ct/kWh", "cent/kwh": "ct/kWh", "ct€/kwh": "ct/kWh",
}
for _alias, _symbol in _ALIASES.items():
    _BY_KEY[_alias] = _BY_KEY[_symbol.lower()]

KNOWN_UNITS: tuple[str, ...] = tuple(u.symbol for u in _UNITS)


def parse_unit(text: str) -> Unit:
    """Return the known unit spelled `text` (case-insensitive, a few aliases); raise UnknownUnitError."""
    key = text.strip().replace(" ", "").lower()
    # "MW" and "mW" differ by case only; a milliwatt is never meant in grid data, so case is ignored.
    unit = _BY_KEY.get(key)
    if unit is None:
        raise UnknownUnitError(text, KNOWN_UNITS)
    return unit


def convert(values: np.ndarray, from_unit: str, to_unit: str) -> np.ndarray:
    """Convert values between two units of the same quantity; refuse to mix quantities."""
    source, target = parse_unit(from_unit), parse_unit(to_unit)
    if source.quantity != target.quantity:
        raise ValueError(f"cannot convert {source.symbol} ({source.quantity}) to {target.symbol} ({target.quantity})")
    return np.asarray(values, dtype=np.float64) * (source.factor_to_base / target.factor_to_base)


_BRACKETED = re.compile(r"[\[(]\s*([^\])]+?)\s*[\])]")
_SNAKE_TOKENS = {
    "eur_per_mwh": "EUR/MWh", "eur_per_kwh": "EUR/kWh", "ct_per_kwh": "ct/kWh",
    "kwh": "kWh", "mwh": "MWh", "wh": "Wh", "kw": "kW", "mw": "MW", "w": "W",
}


def unit_from_column_name(name: str) -> Unit | None:
    """Read the unit a column header declares: 'price [EUR/MWh]', 'Price (€/MWh)', 'price_eur_per_mwh', 'load_w'.

    Returns None when the header names no unit, so the caller can ask the user instead of guessing.
    Raises UnknownUnitError when a bracketed unit is present but unknown.
    """
    match = _BRACKETED.search(name)
    if match:
        return parse_unit(match.group(1))
    lowered = name.strip().lower()
    for token in ("eur_per_mwh", "eur_per_kwh", "ct_per_kwh"):
        if token in lowered:
            return parse_unit(_SNAKE_TOKENS[token])
    parts = re.split(r"[_\s\-.]+", lowered)
    # Only a whole token counts: 'power_kw' has a unit, 'kwargs' or 'window' do not.
    for part in parts[1:]:
        if part in _SNAKE_TOKENS:
            return parse_unit(_SNAKE_TOKENS[part])
    return None
