"""Render a report in headless Chromium and measure the screenshot (is anything actually drawn?).

Development tooling, not package code (the library never needs a browser): used by ``bench/report_render.py``
and ``tests/test_report_render.py``. A page can be valid HTML and still
render blank (a CSS error hiding everything, an SVG with a broken viewBox), so the check looks at pixels:
the share of non-white pixels, the number of distinct colours, and how many pixels carry each chart colour
of the palette (proof that the SVG charts were painted, not just the text).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stylebias.report.svg import BLUE, ORANGE, VERMILLION

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    """Path of a Chromium-family browser on PATH, or None."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(
    html: str | Path, png: str | Path, *, width: int = 1280, height: int = 4000, timeout: float = 120.0
) -> float:
    """Screenshot ``html`` with headless Chromium into ``png``; returns the wall time in seconds.

    No network is needed (the report is self-contained); a throwaway profile directory keeps parallel runs
    apart. Raises ``RuntimeError`` with Chromium's stderr if no image was written.
    """
    browser = find_browser()
    if browser is None:
        raise RuntimeError("no chromium/chrome on PATH (Debian: apt-get install chromium)")
    html, png = Path(html).resolve(), Path(png).resolve()
    png.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="stylebias-chromium-") as profile:
        cmd = [
            browser,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--no-first-run",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size={width},{height}",
            html.as_uri(),
        ]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        elapsed = time.perf_counter() - start
    if not png.exists() or png.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed


@dataclass(frozen=True)
class ImageStats:
    """What a screenshot shows, in numbers."""

    width: int
    height: int
    nonwhite: float  # share of pixels that are not (near) white
    colours: int  # distinct RGB colours
    painted_height: int  # last row with a non-white pixel + 1 (how far down the page content goes)
    chart_pixels: dict[str, int]  # pixels within a small tolerance of each palette colour

    def as_dict(self) -> dict[str, object]:
        return {
            "width": self.width,
            "height": self.height,
            "nonwhite": round(self.nonwhite, 4),
            "colours": self.colours,
            "painted_height": self.painted_height,
            **{f"px_{k}": v for k, v in self.chart_pixels.items()},
        }


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)


def image_stats(png: str | Path, tolerance: int = 12) -> ImageStats:
    """Measure a PNG screenshot (read with matplotlib's PNG reader, no extra dependency)."""
    import matplotlib.image as mpimg

    img = mpimg.imread(str(png))
    if img.dtype != np.uint8:
        img = np.round(img * 255).astype(np.uint8)
    rgb = img[..., :3].astype(np.int16)
    h, w = rgb.shape[:2]
    nonwhite_mask = (rgb < 245).any(axis=2)
    rows = np.flatnonzero(nonwhite_mask.any(axis=1))
    packed = (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2]
    colours = int(len(np.unique(packed)))
    chart = {}
    for name, colour in (("blue", BLUE), ("orange", ORANGE), ("vermillion", VERMILLION)):
        chart[name] = int((np.abs(rgb - _rgb(colour)).max(axis=2) <= tolerance).sum())
    return ImageStats(
        width=w,
        height=h,
        nonwhite=float(nonwhite_mask.mean()),
        colours=colours,
        painted_height=int(rows[-1] + 1) if len(rows) else 0,
        chart_pixels=chart,
    )


def looks_rendered(stats: ImageStats) -> list[str]:
    """Problems that mean the page did not render (empty list = fine). Thresholds are deliberately loose:
    a blank or text-only page fails, any real report passes."""
    problems = []
    if stats.nonwhite < 0.03:
        problems.append(f"only {stats.nonwhite:.1%} of pixels are not white")
    if stats.colours < 200:
        problems.append(
            f"only {stats.colours} distinct colours (anti-aliased text and charts give thousands)"
        )
    if stats.chart_pixels["blue"] < 500 or stats.chart_pixels["orange"] < 100:
        problems.append(f"chart colours barely present: {stats.chart_pixels}")
    return problems
