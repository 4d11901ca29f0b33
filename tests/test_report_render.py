"""Render a report in headless Chromium and check the pixels. Skips when no chromium is on PATH, except in
CI (``CI=true``), where a missing browser fails: ``.ci/run`` installs Debian's ``chromium``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.screenshot import find_browser, image_stats, looks_rendered, screenshot
from stylebias.report import build_report, write_report
from stylebias.rows import validate_battles
from tests._browser import require_browser


@pytest.fixture(autouse=True)
def _chromium():
    require_browser(with_driver=False)
    assert find_browser() is not None


def small_battles(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    models = [f"model-{i}" for i in range(8)]
    strength = np.linspace(1.0, -1.0, len(models))
    rows = []
    for i in range(n):
        a, b = rng.choice(len(models), size=2, replace=False)
        la, lb = int(rng.integers(5, 400)), int(rng.integers(5, 400))
        eta = strength[a] - strength[b] + 0.8 * (la - lb) / (la + lb + 1)
        rows.append(
            {
                "battle_id": f"b{i}",
                "model_a": models[a],
                "model_b": models[b],
                "prompt": "q",
                "response_a": "word " * la,
                "response_b": "word " * lb,
                "winner": "model_a" if rng.random() < 1 / (1 + np.exp(-eta)) else "model_b",
            }
        )
    return pd.DataFrame(rows)


@pytest.mark.slow
def test_report_renders_with_charts(tmp_path):
    data = validate_battles(small_battles())
    feats = pd.DataFrame(
        {
            "tokens": [
                (len(a) - len(b)) / (len(a) + len(b) + 1)
                for a, b in zip(data.battles["response_a"], data.battles["response_b"], strict=True)
            ]
        }
    )
    html = write_report(build_report(data, features=feats, explain=False), tmp_path / "r.html")
    png = tmp_path / "r.png"
    screenshot(html, png, width=1280, height=3000)
    stats = image_stats(png)
    assert looks_rendered(stats) == [], stats
    assert stats.width == 1280 and stats.height == 3000
    assert stats.painted_height > 2000  # content runs down the page, not one line at the top


def test_blank_page_is_detected(tmp_path):
    """The check can fail: a page with one line of text is reported as not rendered."""
    html = tmp_path / "blank.html"
    html.write_text("<!doctype html><title>x</title><p>hello</p>", encoding="utf-8")
    png = tmp_path / "blank.png"
    screenshot(html, png, width=800, height=600)
    problems = looks_rendered(image_stats(png))
    assert any("not white" in p for p in problems) and any("chart colours" in p for p in problems)
