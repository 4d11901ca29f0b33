"""Robustness: the fit on random comparison graphs and hostile feature matrices.

Complements ``test_rating_degenerate.py`` (graphs with one small feature through ``rank_battles``): here
the estimator itself gets random graphs together with constant, collinear, duplicated, huge (1e150),
tiny (1e-150), NaN and infinite feature columns. The contract: finite ratings, coefficients and intervals,
or a DataError/UsageError with a message - never a numpy/scipy exception and never NaN in the output.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from stylebias.errors import DataError, StyleBiasWarning, UsageError
from stylebias.rating import StyleBT
from stylebias.rating.pipeline import rank_battles
from tests._fuzz import examples

COLUMN_KINDS = ["normal", "constant", "copy", "scaled_copy", "huge", "tiny", "binary", "nan", "inf"]


def make_column(kind: str, n: int, rng: np.random.Generator, cols: list[np.ndarray]) -> np.ndarray:
    if kind == "constant":
        return np.full(n, 3.0)
    if kind in ("copy", "scaled_copy") and cols:
        return cols[0] * (1.0 if kind == "copy" else -7.5)
    if kind == "huge":
        return rng.normal(size=n) * 1e150
    if kind == "tiny":
        return rng.normal(size=n) * 1e-150
    if kind == "binary":
        return rng.integers(-1, 2, n).astype(float)
    col = rng.normal(size=n)
    if kind == "nan":
        col[rng.integers(0, n)] = np.nan
    if kind == "inf":
        col[rng.integers(0, n)] = np.inf
    return col


graph = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 5), st.sampled_from([0.0, 1.0, 0.5, 0.25])),
    min_size=1,
    max_size=30,
)


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edges=graph,
    kinds=st.lists(st.sampled_from(COLUMN_KINDS), max_size=4),
    ci=st.sampled_from(["sandwich", "bootstrap"]),
    reg=st.sampled_from([0.5, 1e-6, 100.0]),
    dup=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_estimator_on_random_graphs_and_hostile_features(edges, kinds, ci, reg, dup, seed) -> None:
    rng = np.random.default_rng(seed)
    edges = edges * dup  # duplicate battles
    a = [f"m{x}" for x, _, _ in edges]
    b = [f"m{y}" for _, y, _ in edges]
    y = [p for _, _, p in edges]
    cols: list[np.ndarray] = []
    for k in kinds:
        cols.append(make_column(k, len(edges), rng, cols))
    Z = np.column_stack(cols) if cols else None
    names = [f"f{i}" for i in range(len(cols))] if cols else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StyleBiasWarning)
        try:
            fit = StyleBT(reg=reg, ci=ci, rounds=8, seed=1).fit(a, b, y, Z, names)
        except (DataError, UsageError) as exc:
            assert str(exc)
            event(f"refused with {type(exc).__name__}")
            if "nan" in kinds or "inf" in kinds:
                return
            msg = str(exc)
            assert any(w in msg for w in ("self-battle", "disconnected", "no battles", "feature")), msg
            return
    assert "nan" not in kinds and "inf" not in kinds, "a non-finite feature must be refused"
    event("fitted: finite ratings")
    for arr in (fit.ratings_, fit.rating_low_, fit.rating_high_):
        assert np.isfinite(np.asarray(arr, dtype=float)).all()
    assert np.isfinite(fit.coef_).all() and np.isfinite(fit.coef_high_).all()
    # (a DataFrame: with a dropped feature, a plain array of the fit's columns does not line up - reported)
    p = fit.predict_proba(a, b, None if Z is None else pd.DataFrame(Z, columns=names))
    assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()


@pytest.mark.parametrize("kind", ["huge", "tiny"])
def test_feature_scale_does_not_change_the_fit(kind: str) -> None:
    """Standardisation makes the fit invariant to a feature's unit: 1e150 x length fits like length."""
    rng = np.random.default_rng(5)
    a = rng.choice(["x", "y", "z", "w"], 400)
    b = np.where(a == "x", "y", np.where(a == "y", "z", np.where(a == "z", "w", "x")))
    z = rng.normal(size=400)
    y = (rng.random(400) < 1 / (1 + np.exp(-z))).astype(float)
    base = StyleBT().fit(a, b, y, z[:, None], ["length"])
    scale = 1e150 if kind == "huge" else 1e-150
    scaled = StyleBT().fit(a, b, y, (z * scale)[:, None], ["length"])
    np.testing.assert_allclose(scaled.ratings_, base.ratings_, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(scaled.coef_, base.coef_, rtol=1e-9)


def test_nan_and_inf_features_name_the_battle_and_feature() -> None:
    a, b, y = ["p", "q", "p", "q"], ["q", "r", "r", "p"], [1.0, 0.0, 1.0, 0.5]
    for bad in (np.nan, np.inf, -np.inf):
        Z = np.array([[0.1], [0.2], [bad], [0.3]])
        with pytest.raises(DataError, match="length"):
            StyleBT().fit(a, b, y, Z, ["length"])
        with pytest.raises(DataError, match=r"record 3.*length"):
            rank_battles(
                pd.DataFrame({"model_a": a, "model_b": b, "pref_a": y}),
                features=pd.DataFrame({"length": Z[:, 0]}),
            )


def test_one_model_duplicates_and_never_loses() -> None:
    with pytest.raises(DataError, match="self-battle"):
        StyleBT().fit(["a"] * 3, ["a"] * 3, [1.0, 0.0, 0.5])
    # the same battle 500 times, always won by a: finite (regularised) ratings and a warning
    with pytest.warns(StyleBiasWarning, match="never lost: a"):
        fit = StyleBT().fit(["a"] * 500, ["b"] * 500, [1.0] * 500)
    assert np.isfinite(fit.ratings_).all() and fit.ratings_["a"] > fit.ratings_["b"]
    assert np.isfinite(fit.rating_high_).all()


def test_all_features_dropped_still_rates() -> None:
    a, b = ["x", "y", "z"] * 20, ["y", "z", "x"] * 20
    y = list(np.random.default_rng(1).integers(0, 2, 60).astype(float))
    Z = np.column_stack([np.ones(60), np.full(60, 2.0)])
    with pytest.warns(StyleBiasWarning, match="zero variance"):
        fit = StyleBT().fit(a, b, y, Z, ["c1", "c2"])
    assert fit.feature_names_ == [] and np.isfinite(fit.ratings_).all()
