"""Typed errors of the time-series importers: each says what was wrong, where, and which rule it broke."""

from __future__ import annotations


class TimeSeriesImportError(ValueError):
    """A file (or text) could not be turned into a time series.

    `source` names the file, `line` is the 1-based line in it (None when the problem is not tied to one
    line), `rule` is the short name of the rule that was broken, so a user can look it up.
    """

    def __init__(self, source: str, line: int | None, rule: str, message: str) -> None:
        self.source = source
        self.line = line
        self.rule = rule
        self.message = message
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {message} (rule: {rule})")


class UnknownUnitError(ValueError):
    """A unit that is not in GridRoom's table of known units."""

    def __init__(self, unit: str, known: tuple[str, ...]) -> None:
        self.unit = unit
        self.known = known
        super().__init__(f"unknown unit {unit!r}; known units: {', '.join(known)}")


def note(line: int | None, message: str, rule: str) -> str:
    """Format one import note the same way everywhere: 'line 14: ... (rule: ...)'."""
    where = f"line {line}: " if line is not None else ""
    return f"{where}{message} (rule: {rule})"
