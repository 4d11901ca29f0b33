"""stylebias.fastchat: FastChat's call and return shape, and the numbers of FastChat's algorithm.

The reference is FastChat's ``rating_systems`` algorithm restated independently here: non-duplicated battles,
``reg/2 * ||theta||^2`` plus summed log-loss, ties half a win, minimised by scipy's L-BFGS at a tight
tolerance (FastChat stops at 100 iterations; both converge to the same optimum).
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from stylebias import fastchat
from stylebias.errors import DataError

from .test_plugin import fastchat_meta

LN10 = math.log(10.0)


def _counts(df: pd.DataFrame) -> np.ndarray:
    def val(v):
        return v if isinstance(v, int) else sum(v.values())

    return np.array(
        [[val(cm[e]) for e in fastchat.STYLE_CONTROL_ELEMENTS_V1] for cm in df["conv_metadata"]], float
    )


def reference(df: pd.DataFrame, reg: float = 0.5, alpha: float = LN10, idx: np.ndarray | None = None):
    """FastChat's preprocess_for_style + fit_contextual_bt + scale_and_offset, solved tightly."""
    codes, models = pd.factorize(pd.concat([df["model_a"], df["model_b"]]))
    n = len(df)
    m = np.column_stack([codes[:n], codes[n:]])
    y = np.full(n, 0.5)
    y[(df["winner"] == "model_a").to_numpy()] = 1.0
    y[(df["winner"] == "model_b").to_numpy()] = 0.0
    v = _counts(df)
    diff = (v[:, :4] - v[:, 4:]) / (v[:, :4] + v[:, 4:] + 1)
    X = (diff - diff.mean(0)) / diff.std(0)
    if idx is not None:
        m, X, y = m[idx], X[idx], y[idx]
    P = len(models)

    def f(w):
        eta = alpha * (w[m[:, 0]] - w[m[:, 1]]) + X @ w[P:]
        loss = -(y * log_expit(eta) + (1 - y) * log_expit(-eta)).sum() + reg / 2 * w @ w
        e = expit(eta) - y
        g = reg * w
        np.add.at(g, m[:, 0], alpha * e)
        np.add.at(g, m[:, 1], -alpha * e)
        g[P:] += X.T @ e
        return loss, g

    w = minimize(
        f,
        np.zeros(P + 4),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 20000, "gtol": 1e-10, "ftol": 1e-15},
    ).x
    scaled = 1000 + 400 * w[:P]
    if "mixtral-8x7b-instruct-v0.1" in list(models):
        scaled += 1114 - scaled[list(models).index("mixtral-8x7b-instruct-v0.1")]
    return pd.Series(scaled, index=list(models)), w[P:]


def test_call_shape_matches_fastchat():
    sig = inspect.signature(fastchat.compute_style_control)
    assert list(sig.parameters)[:6] == ["df", "alpha", "reg", "init_rating", "scale", "tol"]
    assert sig.parameters["alpha"].default == LN10 and sig.parameters["reg"].default == 0.5
    sig = inspect.signature(fastchat.compute_bootstrap_style_control)
    assert list(sig.parameters)[:8] == [
        "df",
        "num_round",
        "alpha",
        "reg",
        "init_rating",
        "scale",
        "tol",
        "num_cpu",
    ]


def test_compute_style_control_equals_fastchat_algorithm():
    df = fastchat_meta(3000, seed=11)
    ratings, params = fastchat.compute_style_control(df)
    ref_ratings, ref_params = reference(df)
    assert isinstance(ratings, pd.Series) and isinstance(params, np.ndarray)
    assert ratings.is_monotonic_decreasing and params.shape == (4,)
    np.testing.assert_allclose(ratings.reindex(ref_ratings.index), ref_ratings, atol=1e-3)
    np.testing.assert_allclose(params, ref_params, atol=1e-6)
    # the other arguments mean what they mean in FastChat
    r2, _ = fastchat.compute_style_control(df, reg=2.0, init_rating=1500.0, scale=200.0)
    ref2, _ = reference(df, reg=2.0)
    np.testing.assert_allclose(r2.reindex(ref2.index), 1500 + (ref2 - 1000) / 2, atol=1e-3)
    r3, p3 = fastchat.compute_style_control(df, alpha=1.0)
    ref3, refp3 = reference(df, alpha=1.0)
    np.testing.assert_allclose(r3.reindex(ref3.index), ref3, atol=1e-3)
    np.testing.assert_allclose(p3, refp3, atol=1e-6)


def test_fastchat_anchor_model():
    df = fastchat_meta(800, seed=12)
    df = df.replace(
        {
            "model_a": {"model-3": "mixtral-8x7b-instruct-v0.1"},
            "model_b": {"model-3": "mixtral-8x7b-instruct-v0.1"},
        }
    )
    ratings, _ = fastchat.compute_style_control(df)
    assert ratings["mixtral-8x7b-instruct-v0.1"] == pytest.approx(1114.0, abs=1e-9)
    ref, _ = reference(df)
    np.testing.assert_allclose(ratings.reindex(ref.index), ref, atol=1e-3)


def test_bootstrap_uses_fastchats_resamples():
    df = fastchat_meta(1500, seed=13)
    np.random.seed(42)
    boot, params = fastchat.compute_bootstrap_style_control(df, num_round=4, num_cpu=2)
    assert boot.shape == (4, 8) and params.shape == (4, 4)
    assert list(boot.columns) == list(boot.median().sort_values(ascending=False).index)
    # the same global seed gives the same resamples FastChat would fit
    np.random.seed(42)
    idxs = np.random.randint(low=0, high=len(df), size=(4, len(df)))
    for r in range(4):
        ref, ref_p = reference(df, idx=idxs[r])
        np.testing.assert_allclose(boot.iloc[r].reindex(ref.index), ref, atol=1e-3)
        np.testing.assert_allclose(params[r], ref_p, atol=1e-6)


def test_no_silent_ties_or_bad_metadata():
    df = fastchat_meta(50, seed=14)
    bad = df.copy()
    bad.loc[7, "winner"] = "model_c"
    with pytest.raises(DataError, match="row 8: unknown winner label 'model_c'"):
        fastchat.compute_style_control(bad)
    bad = df.copy()
    bad.at[3, "conv_metadata"] = {k: v for k, v in df.at[3, "conv_metadata"].items() if k != "bold_count_b"}
    with pytest.raises(DataError, match="row 4: conv_metadata lacks bold_count_b"):
        fastchat.compute_style_control(bad)


def test_same_numbers_as_styletbt_pipeline():
    """The adapter and StyleControl fit the same objective: equal ratings up to the anchor/centring."""
    from stylebias.plugin import StyleControl

    df = fastchat_meta(2000, seed=15)
    ratings, params = fastchat.compute_style_control(df)
    sc = StyleControl().fit(df)
    np.testing.assert_allclose(params, sc.coef_.to_numpy(), atol=1e-7)
    np.testing.assert_allclose(ratings.reindex(sc.ratings_.index), sc.ratings_, atol=1e-5)


def test_one_replicate_and_disconnected_graph():
    """FastChat allows num_round=1; a graph in two parts has no common rating scale, so it is refused."""
    df = fastchat_meta(400, seed=16)
    np.random.seed(3)
    boot, params = fastchat.compute_bootstrap_style_control(df, num_round=1, num_cpu=1)
    np.random.seed(3)
    idx = np.random.randint(low=0, high=len(df), size=(1, len(df)))[0]
    ref, ref_p = reference(df, idx=idx)
    np.testing.assert_allclose(boot.iloc[0].reindex(ref.index), ref, atol=1e-3)
    np.testing.assert_allclose(params[0], ref_p, atol=1e-6)
    apart = df.copy()
    apart.loc[:9, "model_a"], apart.loc[:9, "model_b"] = "solo-a", "solo-b"
    with pytest.raises(DataError, match=r"disconnected.*\{solo-a, solo-b\} \(10 battles\)"):
        fastchat.compute_style_control(apart)
