"""core.alarms stays pure: it imports no Qt, no storage and nothing of ours outside core."""

from __future__ import annotations

import ast
from pathlib import Path

import core.alarms

ALLOWED_TOP = {"__future__", "bisect", "collections", "dataclasses", "datetime", "enum", "math", "numpy",
               "typing", "core"}


def test_alarm_modules_import_only_stdlib_numpy_and_core():
    package = Path(core.alarms.__file__).parent
    offenders = []
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in ALLOWED_TOP or (top == "core" and not (name.startswith("core.alarms") or name == "core.clock")):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []
    assert len(list(package.glob("*.py"))) >= 10  # the walk really saw the package
