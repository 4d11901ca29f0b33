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
    d = error.pair_difference(np.array([2.0, np.nan, 1.0]), np.array([0.0, 1.0, np.nan]), "refusal")
    assert d.tolist() == [2.0, 0.0, 0.0]


def test_matrix_power_is_a_confusion_that_composes() -> None:
    p = np.array([[0.97, 0.02, 0.01], [0.2, 0.5, 0.3], [0.25, 0.09, 0.66]])
    assert np.allclose(error.matrix_power(p, 1.0), p)
    assert np.allclose(error.matrix_power(p, 0.0), np.eye(3))
    half = error.matrix_power(p, 0.5)
    assert np.allclose(half @ half, p, atol=1e-6)
    assert (half >= 0).all() and np.allclose(half.sum(axis=1), 1.0)


def test_matrix_power_refuses_a_confusion_without_a_real_power() -> None:
    swap = np.array([[0.1, 0.9], [0.9, 0.1]])  # eigenvalue -0.8: mostly wrong labels
    try:
        error.matrix_power(swap, 0.5)
    except ValueError as e:
        assert "eigenvalues" in str(e)
    else:
        raise AssertionError("a confusion with a negative eigenvalue must be refused")


def test_extrapolate_reads_the_quadratic_at_minus_one() -> None:
    powers = [0.0, 0.5, 1.0, 1.5, 2.0]
    values = [2.0 - 3.0 * x + 0.5 * x * x for x in powers]
    assert abs(error.extrapolate(powers, values) - (2.0 + 3.0 + 0.5)) < 1e-9
