"""Build the demo HTML report, render it in headless Chromium and check the screenshot is not blank.

Prints: build time and size of the report, Chromium's wall time, and per screenshot the share of non-white
pixels, the number of distinct colours, how far down content is painted, and how many pixels carry each
chart colour (Okabe-Ito blue/orange/vermillion: the SVG charts were drawn). Exits 1 if a screenshot looks
blank (thresholds in ``bench/screenshot.py``: ``looks_rendered``). Not a test; needs ``chromium``
(Debian: ``apt-get install chromium``).

Usage::

    /work/venv/bin/python bench/report_render.py                      # demo, default style features
    /work/venv/bin/python bench/report_render.py --no-explain --out /tmp/report_bench
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from screenshot import find_browser, image_stats, looks_rendered, screenshot  # bench/screenshot.py

from stylebias.report import build_report, write_report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/stylebias_report_render"))
    ap.add_argument("--features", default="auto")
    ap.add_argument("--no-explain", action="store_true")
    ap.add_argument("--width", type=int, default=1280)
    args = ap.parse_args()
    if find_browser() is None:
        print("chromium not found on PATH (apt-get install chromium)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    html = args.out / "demo_report.html"

    t0 = time.perf_counter()
    report = build_report(features=args.features, explain=not args.no_explain)
    t1 = time.perf_counter()
    write_report(report, html)
    t2 = time.perf_counter()
    size = html.stat().st_size
    print(f"report: built in {t1 - t0:.1f} s, rendered+written in {t2 - t1:.2f} s, {size / 1024:.0f} kB")
    print(
        f"        {len(report.cards)} model cards, {len(report.parts)} component(s), shap={bool(report.shap_svg)}"
    )

    failed = False
    for height in (4000, 16000):
        png = args.out / f"demo_report_{args.width}x{height}.png"
        secs = screenshot(html, png, width=args.width, height=height)
        stats = image_stats(png)
        problems = looks_rendered(stats)
        failed |= bool(problems)
        print(f"chromium {args.width}x{height}: {secs:.1f} s -> {png}")
        print("   " + json.dumps(stats.as_dict()))
        print("   " + ("OK: not blank" if not problems else "PROBLEM: " + "; ".join(problems)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
