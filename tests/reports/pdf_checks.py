"""Look inside rendered reports the way a reader would: text via pdftotext, pages via pdftoppm."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

from PIL import Image


def pdf_text(pdf: Path, page: int | None = None) -> str:
    """The text of the whole PDF, or of one page (1-based), in reading layout."""
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", "-layout", *pages, str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout


def page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def render_pages(pdf: Path, out_dir: Path, dpi: int = 60) -> list[Path]:
    """Every page as PNG (pdftoppm -r dpi -png), sorted by page."""
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(out_dir / "page")], check=True)
    return sorted(out_dir.glob("page-*.png"))


def ink_fraction(png: Path) -> float:
    """Share of pixels that are not near-white: a blank or broken page is close to 0."""
    image = Image.open(png).convert("L")
    histogram = image.histogram()
    return 1.0 - sum(histogram[236:]) / (image.width * image.height)


def assert_pages_look_rendered(pngs: list[Path], a4_width_px: int = 496) -> None:
    """Each page is an A4-sized image with some ink on it."""
    assert pngs, "no page images"
    for png in pngs:
        with Image.open(png) as image:
            assert min(image.size) in range(a4_width_px - 3, a4_width_px + 3), (png, image.size)
        assert ink_fraction(png) > 0.01, f"{png.name} is (nearly) blank"


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
