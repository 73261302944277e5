"""core.alarms' engine stays pure: it imports no Qt, no storage and nothing of ours outside core.

The persistence and service modules (tables, sql_store, service, ...) sit beside the engine and may use
SQLAlchemy and core's storage, audit and auth; the pure modules must never import them.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import core.alarms

ALLOWED_TOP = {"__future__", "bisect", "collections", "dataclasses", "datetime", "enum", "math", "numpy",
               "typing", "core"}
# Modules that persist or authorize; everything else in the package is the pure engine.
STORAGE_SIDE = {"tables.py", "sql_store.py", "service.py", "history.py", "rule_config.py", "messages.py"}
STORAGE_ALLOWED_TOP = ALLOWED_TOP | {"sqlalchemy"} | set(sys.stdlib_module_names)
FORBIDDEN_TOP = {"PySide6", "PyQt5", "PyQt6", "qasync", "desktop", "gridroom", "drivers"}


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_alarm_modules_import_only_stdlib_numpy_and_core():
    package = Path(core.alarms.__file__).parent
    offenders = []
    storage_modules = {f"core.alarms.{name[:-3]}" for name in STORAGE_SIDE}
    for path in sorted(package.glob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if path.name in STORAGE_SIDE:
                if top not in STORAGE_ALLOWED_TOP or top in FORBIDDEN_TOP:
                    offenders.append(f"{path.name}: {name}")
                continue
            if name in storage_modules:
                offenders.append(f"{path.name}: {name} (pure engine module imports storage side)")
            if top not in ALLOWED_TOP or (top == "core" and not (name.startswith("core.alarms") or name == "core.clock")):
                offenders.append(f"{path.name}: {name}")
    assert offenders == []
    assert len(list(package.glob("*.py"))) >= 10  # the walk really saw the package
