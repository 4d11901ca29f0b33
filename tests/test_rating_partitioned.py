"""The partitioned fit (rating.partitioned over rating.chunks) against the in-memory fit, without a cluster.

The serial engine runs the same chunk functions a Dask worker runs, so these tests pin the numerics:
ratings, sandwich interval ends, bootstrap replicates and what style bought each model (with its
interval) equal ``fit_design``'s to 1e-6 Elo (measured ~1e-8), the plain fit exactly, for ties, soft votes, weights, thin models, split graphs, anchors and
unpenalised fits, and whatever the partitioning.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from stylebias.errors import DataError
from stylebias.rating import Design, FitSettings, fit_design
from stylebias.rating.chunks import summarise_chunk
from stylebias.rating.design import Moments, scaling_from_moments, standardise
from stylebias.rating.intervals import replicate_weights, replicate_weights_at
from stylebias.rating.partitioned import SerialEngine, fit_partitions

pytestmark = pytest.mark.filterwarnings("ignore::stylebias.errors.StyleBiasWarning")

FEATURES = ["f0", "f1", "f2"]
TOL_ELO = 1e-6


def battles(
    n: int = 4000,
    n_models: int = 8,
    *,
    seed: int = 0,
    soft: bool = False,
    weights: bool = False,
    split: bool = False,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pop = np.linspace(1.0, 3.0, n_models)
    a = rng.choice(n_models, n, p=pop / pop.sum())
    b = (a + rng.integers(1, n_models, n)) % n_models
    if split:  # two components: the first half of the models never meets the second half
        h = n_models // 2
        lo = a < h
        b = np.where(
            lo,
            (a + rng.integers(1, h, n)) % h,
            h + (a - h + rng.integers(1, n_models - h, n)) % (n_models - h),
        )
    beta = rng.normal(0, 0.3, n_models)
    X = rng.normal(size=(n, 3))
    eta = np.log(10) * (beta[a] - beta[b]) + X @ np.array([0.4, -0.2, 0.1])
    p = 1 / (1 + np.exp(-eta))
    if soft:
        y = np.clip(p + rng.normal(0, 0.1, n), 0, 1)
    else:
        tie = rng.random(n) < 0.25
        y = np.where(tie, 0.5, (rng.random(n) < p).astype(float))
    names = np.array([f"model-{i}" for i in range(n_models)])
    df = pd.DataFrame({"model_a": names[a], "model_b": names[b], "pref_a": y})
    df[FEATURES] = X
    if weights:
        df["weight"] = rng.integers(1, 4, n).astype(float)
    return df


def chunks_of(df: pd.DataFrame, sizes: list[int]) -> list[pd.DataFrame]:
    """Uneven partitions in input order (an empty one included)."""
    cuts = np.cumsum([0, *sizes])
    parts = [df.iloc[cuts[i] : cuts[i + 1]] for i in range(len(sizes))]
    return [*parts[:1], df.iloc[:0], *parts[1:], df.iloc[cuts[-1] :]]


def in_memory(df: pd.DataFrame, features: list[str], settings: FitSettings):  # noqa: ANN201
    X = df[features] if features else None
    w = df["weight"].to_numpy() if "weight" in df else None
    return fit_design(Design(df["model_a"], df["model_b"], df["pref_a"].to_numpy(), X, weights=w), settings)


def largest_difference(ref, got) -> float:  # noqa: ANN001
    """Max |difference| in Elo over every part's ratings, interval ends and bootstrap replicates."""
    worst = 0.0
    assert len(ref.all_parts()) == len(got.all_parts())
    for rp, gp in zip(ref.all_parts(), got.all_parts(), strict=True):
        assert list(rp.models["model"]) == list(gp.models["model"])
        for fit in ("controlled", "raw"):
            r, g = getattr(rp, fit), getattr(gp, fit)
            assert r.models_ == g.models_
            assert r.feature_names_ == g.feature_names_ and r.dropped_features_ == g.dropped_features_
            assert r.n_obs_ == g.n_obs_
            np.testing.assert_allclose(r.n_battles_, g.n_battles_)
            for attr in ("ratings_", "rating_low_", "rating_high_"):
                worst = max(worst, float(np.max(np.abs(getattr(r, attr) - getattr(g, attr)))))
            np.testing.assert_array_equal(r.support_["battles_nonzero"], g.support_["battles_nonzero"])
            assert (r.boot_theta_ is None) == (g.boot_theta_ is None)
            if r.boot_theta_ is not None:
                worst = max(worst, r.scale * float(np.max(np.abs(r.boot_theta_ - g.boot_theta_))))
            np.testing.assert_allclose(g.coef_, r.coef_, atol=1e-9)
            np.testing.assert_allclose(g.side_mean_z_, r.side_mean_z_, atol=1e-9)
        for c in ("style_gain", "style_gain_low", "style_gain_high"):  # what style bought each model
            a, b = rp.models[c].to_numpy(), gp.models[c].to_numpy()
            assert np.isnan(a).tolist() == np.isnan(b).tolist()
            worst = max(worst, float(np.nanmax(np.abs(a - b), initial=0.0)))
    pd.testing.assert_frame_equal(ref.excluded, got.excluded)
    return worst


CASES = {
    "sandwich": ({}, {}),
    "bootstrap": ({}, {"ci": "bootstrap", "rounds": 6}),
    "rao-kupper bootstrap": ({}, {"ties": "rao-kupper", "ci": "bootstrap", "rounds": 3}),
    "davidson": ({}, {"ties": "davidson"}),
    "soft votes bootstrap": ({"soft": True}, {"ci": "bootstrap", "rounds": 4}),
    "weights bootstrap": ({"weights": True}, {"ci": "bootstrap", "rounds": 4}),
    "split graph": ({"split": True}, {"ci": "bootstrap", "rounds": 3}),
    "largest component": ({"split": True}, {"components": "largest"}),
    "anchor": ({}, {"anchor": ("model-3", 1200.0), "ci": "bootstrap", "rounds": 3}),
    "unpenalised": ({}, {"reg": 0.0}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_partitioned_fit_equals_the_in_memory_fit(name: str) -> None:
    data_kw, fit_kw = CASES[name]
    df = battles(**data_kw)
    settings = FitSettings(**fit_kw)
    ref = in_memory(df, FEATURES, settings)
    got = fit_partitions(SerialEngine(chunks_of(df, [700, 1, 1299, 1000])), FEATURES, settings)
    assert largest_difference(ref, got) < TOL_ELO
    # the plain fit of unweighted battles runs from cell counts, exactly as in memory (with a bootstrap
    # it draws the controlled fit's per-battle weights instead: paired replicates, equal to rounding)
    if "weight" not in df and settings.ci != "bootstrap":
        np.testing.assert_array_equal(ref.raw.theta_, got.raw.theta_)


@pytest.mark.parametrize("split", [False, True])
def test_fit_design_without_tables_fits_the_same_estimators(split: bool) -> None:
    """``tables=False`` (the vote model's cross-validation fits) skips only the rating and effect tables:
    every part's estimators are the ones of the full result, to the bit."""
    df = battles(1500, split=split)
    design = Design(df["model_a"], df["model_b"], df["pref_a"].to_numpy(), df[FEATURES])
    settings = FitSettings()  # "split": a split graph is fitted part by part
    full = fit_design(design, settings, raw=False)
    bare = fit_design(design, settings, raw=False, tables=False)
    assert len(bare.all_parts()) == len(full.all_parts()) == (2 if split else 1)
    for f, b in zip(full.all_parts(), bare.all_parts(), strict=True):
        assert b.models.empty and b.features.empty and len(f.models) == len(f.controlled.models_)
        assert b.controlled.models_ == f.controlled.models_ and b.component == f.component
        np.testing.assert_array_equal(b.controlled.theta_, f.controlled.theta_)
        np.testing.assert_array_equal(b.controlled.coef_, f.controlled.coef_)
    pd.testing.assert_frame_equal(bare.excluded, full.excluded)


def test_thin_models_and_features_dropped_as_in_memory() -> None:
    df = battles(seed=3)
    thin = df.iloc[:25].assign(model_b="thin-model")
    df = pd.concat([df.iloc[25:1500], thin, df.iloc[1500:]], ignore_index=True)
    df["f1"] = 2.0  # constant: dropped
    df["f2"] = 3 * df["f0"]  # collinear with f0: dropped
    settings = FitSettings(min_battles=100, ci="bootstrap", rounds=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ref = in_memory(df, FEATURES, settings)
        expected = sorted({str(w.message) for w in caught})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = fit_partitions(SerialEngine(chunks_of(df, [1000, 2000])), FEATURES, settings)
        seen = sorted({str(w.message) for w in caught})
    assert largest_difference(ref, got) < TOL_ELO
    assert got.excluded["model"].tolist() == ["thin-model"]
    assert got.controlled.dropped_features_ == ["f1", "f2"]
    assert seen == expected


def test_no_style_and_every_feature_constant() -> None:
    df = battles(seed=4)
    settings = FitSettings(ci="bootstrap", rounds=3)
    got = fit_partitions(SerialEngine(chunks_of(df, [2000])), [], settings)
    ref = in_memory(df, [], settings)
    assert largest_difference(ref, got) == 0.0
    df[FEATURES] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = fit_partitions(SerialEngine(chunks_of(df, [2000])), FEATURES, settings)
        ref = in_memory(df, FEATURES, settings)
    # the raw fit now draws the (dropped) style fit's per-battle bootstrap weights: equal to rounding
    assert largest_difference(ref, got) < TOL_ELO
    assert got.controlled.dropped_features_ == FEATURES


def test_partitions_made_on_the_spot_give_the_same_fit() -> None:
    """A partition may be a function that makes its chunk at every pass (nothing kept between passes)."""
    df = battles(seed=5)
    calls = []

    def make(i: int):  # noqa: ANN202
        def chunk() -> pd.DataFrame:
            calls.append(i)
            return df.iloc[i * 1000 : (i + 1) * 1000]

        return chunk

    settings = FitSettings(ci="bootstrap", rounds=4)
    made = fit_partitions(SerialEngine([make(i) for i in range(4)]), FEATURES, settings)
    kept = fit_partitions(
        SerialEngine([df.iloc[i * 1000 : (i + 1) * 1000] for i in range(4)]), FEATURES, settings
    )
    assert largest_difference(kept, made) == 0.0
    assert len(calls) > 4 * 5  # every pass made the chunks again


def test_replicate_weights_at_are_the_in_memory_draws() -> None:
    rng = np.random.default_rng(9)
    n = 5000
    full = replicate_weights(7, 3, n, None)
    starts = np.sort(rng.choice(n - 60, 40, replace=False))
    starts = starts[np.concatenate([[True], np.diff(starts) > 60])]
    lengths = rng.integers(0, 60, len(starts))
    got = replicate_weights_at(7, 3, starts, lengths)
    want = np.concatenate([full[s : s + m] for s, m in zip(starts, lengths, strict=True)])
    np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="ascending"):
        replicate_weights_at(7, 3, np.array([10, 5]), np.array([3, 3]))


def test_moments_combine_to_the_whole_standardisation() -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(3, 2, size=(3001, 4))
    X[:, 3] = X[:, 0] - X[:, 1]
    w = rng.integers(1, 5, len(X)).astype(float)
    parts = np.array_split(np.arange(len(X)), 7)
    total = Moments.of(X[:0])
    for rows in parts:
        total = total.combine(Moments.of(X[rows], w[rows]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = standardise(X, list("abcd"), w)
        scaling = scaling_from_moments(total, list("abcd"))
    assert scaling.names == whole.names == ["a", "b", "c"]
    assert scaling.dropped == whole.dropped == ["d"]
    np.testing.assert_allclose(scaling.mean, whole.mean, rtol=1e-13)
    np.testing.assert_allclose(scaling.scale, whole.scale, rtol=1e-13)


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda d: d.assign(model_b=d["model_a"]), "self-battle"),
        (lambda d: d.assign(pref_a=d["pref_a"] + 2), "pref_a outside"),
        (lambda d: d.assign(f1=np.inf), "not finite"),
        (lambda d: d.drop(columns="f2"), "lacks column"),
    ],
)
def test_a_bad_chunk_is_a_data_error_naming_the_row(change, message: str) -> None:  # noqa: ANN001
    chunk = change(battles(n=50))
    with pytest.raises(DataError, match=message):
        summarise_chunk(chunk, FEATURES)


def test_soft_votes_with_a_tie_model_are_refused() -> None:
    df = battles(soft=True)
    with pytest.raises(DataError, match="needs hard outcomes"):
        fit_partitions(SerialEngine([df]), FEATURES, FitSettings(ties="davidson"))


def test_a_partition_that_changes_between_passes_is_caught() -> None:
    """Partitions made on the spot must make the same battles every time (the bootstrap checks)."""
    df = battles(seed=6)
    calls = iter(range(10_000))

    def drifting() -> pd.DataFrame:
        return df.iloc[: 2000 + (next(calls) > 0) * 10]

    with pytest.raises(DataError, match="changed between passes"):
        fit_partitions(
            SerialEngine([drifting, df.iloc[2010:]]), FEATURES, FitSettings(ci="bootstrap", rounds=2)
        )
