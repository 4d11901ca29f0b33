"""Degenerate data: constant features, unbeaten models, disconnected graphs, thin models, one model, none."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stylebias.errors import DataError, StyleBiasWarning, UsageError
from stylebias.rating import StyleBT
from stylebias.rating.pipeline import rank_battles


def battles(pairs, prefs, **extra):
    df = pd.DataFrame({"model_a": [p[0] for p in pairs], "model_b": [p[1] for p in pairs], "pref_a": prefs})
    for k, v in extra.items():
        df[k] = v
    return df


def test_zero_variance_feature_is_dropped_with_a_warning():
    rng = np.random.default_rng(0)
    a = rng.choice(["x", "y", "z"], 300)
    b = np.where(a == "x", "y", np.where(a == "y", "z", "x"))
    y = rng.integers(0, 2, 300).astype(float)
    X = np.column_stack([rng.normal(size=300), np.full(300, 2.5)])
    with pytest.warns(StyleBiasWarning, match="zero variance.*headers"):
        fit = StyleBT().fit(a, b, y, X, ["length", "headers"])
    assert fit.feature_names_ == ["length"] and fit.dropped_features_ == ["headers"]
    assert np.isfinite(fit.ratings_).all() and len(fit.coef_) == 1


def test_unbeaten_and_winless_models_get_finite_ratings_and_a_warning():
    pairs = [("champ", "mid")] * 20 + [("champ", "low")] * 20 + [("mid", "low")] * 30
    prefs = [1.0] * 40 + list(np.random.default_rng(1).integers(0, 2, 30).astype(float))
    prefs[40:45] = [1.0] * 5
    df = battles(pairs, prefs)
    df.loc[40:, "pref_a"] = 1.0  # low never wins either
    with pytest.warns(StyleBiasWarning, match=r"never lost: champ.*never won: low"):
        fit = StyleBT().fit(df.model_a, df.model_b, df.pref_a)
    assert np.isfinite(fit.ratings_).all() and np.isfinite(fit.rating_high_).all()
    assert fit.ratings_["champ"] > fit.ratings_["mid"] > fit.ratings_["low"]
    with pytest.raises(DataError, match="reg > 0"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        StyleBT(reg=0.0).fit(df.model_a, df.model_b, df.pref_a)


def test_disconnected_graph_is_refused_by_the_estimator_and_split_by_rank():
    rng = np.random.default_rng(2)
    pairs = [("a", "b"), ("b", "c"), ("a", "c")] * 30 + [("d", "e")] * 40
    df = battles(pairs, rng.integers(0, 2, len(pairs)).astype(float))
    with pytest.raises(
        DataError, match=r"disconnected.*2 components: \{a, b, c\} \(90 battles\); \{d, e\} \(40"
    ):
        StyleBT().fit(df.model_a, df.model_b, df.pref_a)
    res = rank_battles(df, features=None)
    assert sorted(res.models.model) == ["a", "b", "c"]
    assert [sorted(p.models.model) for p in res.parts] == [["d", "e"]]
    # each component is centred on its own: the two tables never share a scale
    assert res.models.rating.mean() == pytest.approx(1000) and res.parts[
        0
    ].models.rating.mean() == pytest.approx(1000)
    doc = res.to_json()
    assert [c["component"] for c in doc["components"]] == [1, 2]
    largest = rank_battles(df, features=None, components="largest")
    assert not largest.parts and set(largest.excluded.model) == {"d", "e"}
    assert largest.excluded.reason.str.contains("not connected").all()
    with pytest.raises(DataError, match="disconnected"):
        rank_battles(df, features=None, components="refuse")


def test_models_below_min_battles_are_listed_apart():
    rng = np.random.default_rng(3)
    pairs = [("a", "b"), ("b", "c"), ("a", "c")] * 20 + [("a", "rare")] * 2 + [("rare", "rarer")] * 1
    # a chain: rarer (1 battle) goes; then rare (5, one against rarer) has 4 and goes; then semi (5, two
    # against rare) has 3 and goes too
    pairs += [("b", "semi")] * 3 + [("rare", "semi")] * 2
    df = battles(pairs, rng.integers(0, 2, len(pairs)).astype(float))
    res = rank_battles(df, features=None, min_battles=5)
    assert sorted(res.models.model) == ["a", "b", "c"]
    ex = res.excluded.set_index("model")
    assert (
        ex.loc["rare", "battles"] == 5 and ex.loc["rarer", "battles"] == 1 and ex.loc["semi", "battles"] == 5
    )
    assert ex.reason.str.contains("min-battles 5").all()
    assert res.models.set_index("model").loc["a", "battles"] == 40  # its 2 battles vs rare were removed


def test_one_model_or_no_battles_is_a_clear_data_error():
    with pytest.raises(DataError, match="no battles"):
        StyleBT().fit([], [], [])
    with pytest.raises(DataError, match="self-battle"):
        StyleBT().fit(["a"], ["a"], [1.0])
    df = battles([("a", "b")] * 3, [1.0, 0.0, 1.0])
    with pytest.raises(DataError, match="no battles left"):
        rank_battles(df, features=None, min_battles=10)
    with pytest.raises(DataError, match="no battles to rank"):
        rank_battles(df.iloc[:0], features=None)


def test_bad_options_are_usage_errors():
    df = battles([("a", "b"), ("b", "a")], [1.0, 0.5])
    for kw in ({"reg": -1}, {"ties": "coin"}, {"ci": "jackknife"}, {"ci": "bootstrap", "rounds": 1}):
        with pytest.raises(UsageError):
            StyleBT(**kw).fit(df.model_a, df.model_b, df.pref_a)
    with pytest.raises(UsageError, match="anchor"):
        rank_battles(df, features=None, anchor=("zzz", 1000.0))
    with pytest.raises(UsageError, match="winrate-vs"):
        rank_battles(df, features=None, winrate_vs="zzz")
    with pytest.raises(DataError, match="soft preference"):
        StyleBT(ties="davidson").fit(["a", "b"], ["b", "a"], [0.7, 0.5])


def test_non_finite_feature_names_the_battle():
    df = battles([("a", "b"), ("b", "a"), ("a", "b")], [1.0, 0.0, 1.0])
    X = pd.DataFrame({"length": [0.1, np.nan, 0.3]})
    with pytest.raises(DataError, match=r"record 2.*length"):
        rank_battles(df, features=X)


def test_all_ties_and_a_single_battle():
    df = battles([("a", "b"), ("b", "c"), ("c", "a")], [0.5, 0.5, 0.5])
    res = rank_battles(df, features=None)
    np.testing.assert_allclose(res.models.rating, 1000, atol=1e-9)
    with pytest.warns(StyleBiasWarning, match="never lost: a; never won: b"):
        one = rank_battles(battles([("a", "b")], [1.0]), features=None)
    assert one.models.rating.iloc[0] > 1000 > one.models.rating.iloc[1]
    assert np.isfinite(one.models[["rating_low", "rating_high"]].to_numpy()).all()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edges=st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 6), st.sampled_from([0.0, 0.5, 1.0, 0.3])),
        min_size=1,
        max_size=40,
    ),
    ties=st.sampled_from(["half", "rao-kupper", "davidson"]),
    ci=st.sampled_from(["sandwich", "bootstrap"]),
    with_feature=st.booleans(),
)
def test_random_comparison_graphs_give_finite_ratings_or_a_clear_error(edges, ties, ci, with_feature):
    """Robustness: disconnected, all ties, one model, one battle, duplicates -> finite ratings or DataError."""
    rows = [(f"m{a}", f"m{b}", p if ties == "half" else round(p * 2) / 2) for a, b, p in edges]
    df = pd.DataFrame(rows, columns=["model_a", "model_b", "pref_a"])
    feats = None
    if with_feature:
        feats = pd.DataFrame({"length": np.arange(len(df), dtype=float) % 3})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StyleBiasWarning)
        try:
            res = rank_battles(df, features=feats, ties=ties, ci=ci, rounds=5, n_jobs=1)
        except DataError as exc:
            assert str(exc)  # a message, not a crash
            return
    for part in res.all_parts():
        vals = part.models[["rating", "rating_low", "rating_high", "rating_raw"]].to_numpy()
        assert np.isfinite(vals).all()
        assert (part.models.rating_low <= part.models.rating_high + 1e-9).all()
        if ci == "sandwich":  # (a percentile bootstrap interval may exclude the estimate on tiny data)
            assert (part.models.rating_low <= part.models.rating + 1e-6).all()
        assert (part.models["rank"] >= 1).all()
        assert all(math.isfinite(v) for v in part.features[["coef", "low", "high"]].to_numpy().ravel())


def test_collinear_features_are_dropped_with_a_warning():
    rng = np.random.default_rng(4)
    a = rng.choice(["x", "y", "z"], 400)
    b = np.where(a == "x", "y", np.where(a == "y", "z", "x"))
    y = rng.integers(0, 2, 400).astype(float)
    flag = rng.integers(-1, 2, 400).astype(float)
    other = rng.normal(size=400)
    X = np.column_stack([flag, other, 0.5 * flag, flag + 2 * other])
    with pytest.warns(StyleBiasWarning, match=r"linear combinations.*flattery \(~ flattery_count\).*combo"):
        fit = StyleBT().fit(a, b, y, X, ["flattery_count", "length", "flattery", "combo"])
    assert fit.feature_names_ == ["flattery_count", "length"]
    assert fit.dropped_features_ == ["flattery", "combo"]
    assert np.isfinite(fit.coef_high_).all()
