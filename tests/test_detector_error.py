"""The detector-error bench: labels are re-drawn through the confusion exactly as given, a not-applicable side
stays so, and the pair difference follows the pair features' rule."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# loaded from its file (bench/ holds scripts named like packages; see test_detector_bench.py)
_spec = importlib.util.spec_from_file_location("bench_detector_error", ROOT / "bench" / "detector_error.py")
error = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(error)


def test_confusion_rows_are_the_share_of_each_prediction_given_the_label() -> None:
    m = error.confusion(
        ["none", "none", "full", "full", "full", "partial"],
        ["none", "full", "full", "none", "full", "partial"],
        error.LEVELS,
    )
    assert np.allclose(m, [[0.5, 0.0, 0.5], [0.0, 1.0, 0.0], [1 / 3, 0.0, 2 / 3]])


def test_redraw_follows_the_matrix_and_keeps_not_applicable() -> None:
    rng = np.random.default_rng(0)
    codes = np.array([0.0, 1.0, 2.0, np.nan, 0.0])
    assert np.array_equal(error.redraw(codes, np.eye(3), rng), codes, equal_nan=True)
    everything_full = np.tile([0.0, 0.0, 1.0], (3, 1))
    out = error.redraw(codes, everything_full, rng)
    assert np.array_equal(out, [2.0, 2.0, 2.0, np.nan, 2.0], equal_nan=True)
    many = error.redraw(np.zeros(20_000), np.array([[0.9, 0.1], [0.0, 1.0]]), rng)
    assert abs(many.mean() - 0.1) < 0.01


def test_pair_difference_is_no_difference_where_a_side_is_not_applicable() -> None:
    d = error.pair_difference(np.array([2.0, np.nan, 1.0]), np.array([0.0, 1.0, np.nan]))
    assert d.tolist() == [2.0, 0.0, 0.0]
