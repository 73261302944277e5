"""core.batteries stays pure: importing it pulls in no Qt, no drivers, no desktop, no I/O libraries."""

from __future__ import annotations

import subprocess
import sys


def test_importing_core_batteries_loads_nothing_outside_core():
    probe = (
        "import sys, core.batteries; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "{'PySide6', 'pyqtgraph', 'drivers', 'desktop', 'reports', 'gridroom', 'paho', 'pymodbus', 'sqlalchemy'}]; "
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
