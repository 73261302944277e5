"""Imports point one way (DESIGN.md): core imports nothing of ours and no Qt; drivers and reports never import Qt."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QT = {"PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "qasync"}
RULES = {
    "core": QT | {"drivers", "desktop", "reports", "gridroom"},
    "drivers": QT | {"desktop", "gridroom"},
    "reports": QT | {"desktop", "gridroom", "drivers"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_imports_respect_the_layers(package):
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = imported_roots(path) & RULES[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


def test_the_walker_catches_a_qt_import(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text("def f():\n    from PySide6.QtCore import QObject\n")
    assert "PySide6" in imported_roots(sample)
