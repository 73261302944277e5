"""Render every registered report from its seeded demo data and save page 1 of each as
docs/screenshots/report_<name>.png (pdftoppm, 80 dpi), so the look can be reviewed in the repository.

Run: .venv/bin/python benchmarks/render_reports.py [--out docs/screenshots] [--page 1]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reports.registry import REPORTS, run_report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--page", type=int, default=1)
    parser.add_argument("--dpi", type=int, default=80)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in REPORTS.items():
            pdf = run_report(name, spec.demo(), Path(tmp) / f"{name}.pdf")
            stem = Path(tmp) / name
            subprocess.run(["pdftoppm", "-r", str(args.dpi), "-png", "-singlefile", "-f", str(args.page),
                            "-l", str(args.page), str(pdf), str(stem)], check=True)
            target = args.out / f"report_{name}.png"
            shutil.copyfile(stem.with_suffix(".png"), target)
            print(target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)


if __name__ == "__main__":
    main()
