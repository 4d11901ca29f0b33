"""Honest intervals: repeated simulations with known truth; bootstrap determinism across workers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import expit

from stylebias.rating import StyleBT

LN10 = math.log(10)
NAMES = np.array([f"m{i}" for i in range(5)])
BETA = np.array([0.25, 0.1, 0.0, -0.1, -0.25])  # centred, base-10 units
GAMMA = np.array([0.35, -0.2])


def draw(rng, n, tie_rate=0.3):
    """Battles with 30 % ties whose expected score is exactly sigma(eta) (the half-tie model's mean)."""
    a = rng.integers(0, 5, n)
    b = (a + rng.integers(1, 5, n)) % 5
    X = rng.normal(size=(n, 2)) * [3.0, 0.7]
    z = (X - X.mean(0)) / X.std(0)
    p = expit(LN10 * (BETA[a] - BETA[b]) + z @ GAMMA)
    q = np.clip((p - tie_rate / 2) / (1 - tie_rate), 0, 1)
    y = np.where(rng.random(n) < tie_rate, 0.5, (rng.random(n) < q).astype(float))
    return NAMES[a], NAMES[b], y, X


def covered(fit):
    truth = 1000 + 400 * BETA
    r = (fit.rating_low_.to_numpy() <= truth) & (truth <= fit.rating_high_.to_numpy())
    c = (fit.coef_low_ <= GAMMA) & (GAMMA <= fit.coef_high_)
    return np.concatenate([r, c])


def test_sandwich_intervals_cover_the_truth():
    """95 % sandwich intervals cover in 90-99 % of 300 simulations (7 parameters each), ties included."""
    rng = np.random.default_rng(2024)
    hits = np.array([covered(StyleBT().fit(*draw(rng, 800), ["length", "markdown"])) for _ in range(300)])
    per_param = hits.mean(axis=0)
    assert 0.90 <= hits.mean() <= 0.99, per_param
    assert (per_param >= 0.88).all() and (per_param <= 0.995).all(), per_param


def test_sandwich_is_not_the_naive_inverse_hessian_with_ties():
    """Ties counted as half wins are less variable than coin flips: the sandwich is narrower, honestly so."""
    rng = np.random.default_rng(1)
    fit = StyleBT().fit(*draw(rng, 5000, tie_rate=0.4), ["length", "markdown"])
    naive = np.linalg.inv(fit.hessian_)
    ratio = np.sqrt(np.diag(fit.covariance_) / np.diag(naive))[: fit.n_models_]
    assert (ratio < 0.95).all()


@pytest.mark.slow
def test_bootstrap_intervals_cover_the_truth():
    rng = np.random.default_rng(77)
    hits = []
    for _ in range(60):
        fit = StyleBT(ci="bootstrap", rounds=60, seed=int(rng.integers(1 << 30)), n_jobs=1)
        hits.append(covered(fit.fit(*draw(rng, 600), ["length", "markdown"])))
    rate = np.mean(hits)
    assert 0.90 <= rate <= 0.99, np.mean(hits, axis=0)


def test_bootstrap_is_identical_for_any_worker_count():
    rng = np.random.default_rng(5)
    args = (*draw(rng, 3000), ["length", "markdown"])
    runs = [StyleBT(ci="bootstrap", rounds=12, seed=3, n_jobs=j).fit(*args) for j in (1, 2, 3)]
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0].boot_theta_, other.boot_theta_)
        np.testing.assert_array_equal(runs[0].rating_low_, other.rating_low_)
    again = StyleBT(ci="bootstrap", rounds=12, seed=3, n_jobs=2).fit(*args)
    np.testing.assert_array_equal(again.boot_theta_, runs[0].boot_theta_)
    different = StyleBT(ci="bootstrap", rounds=12, seed=4, n_jobs=2).fit(*args)
    assert not np.array_equal(different.boot_theta_, runs[0].boot_theta_)
    # replicate r depends only on (seed, r): the first 12 of 20 rounds are the same 12 replicates
    longer = StyleBT(ci="bootstrap", rounds=20, seed=3, n_jobs=2).fit(*args)
    np.testing.assert_array_equal(longer.boot_theta_[:12], runs[0].boot_theta_)


def test_bootstrap_and_sandwich_agree_on_width():
    rng = np.random.default_rng(9)
    args = (*draw(rng, 4000), ["length", "markdown"])
    s = StyleBT().fit(*args)
    b = StyleBT(ci="bootstrap", rounds=200, seed=1).fit(*args)
    ws = (s.rating_high_ - s.rating_low_).to_numpy()
    wb = (b.rating_high_ - b.rating_low_).to_numpy()
    np.testing.assert_allclose(wb, ws, rtol=0.2)
    np.testing.assert_array_equal(s.ratings_, b.ratings_)  # point estimate is the full-data fit


def test_anchor_fixes_one_model_and_widens_the_rest_consistently():
    rng = np.random.default_rng(10)
    args = (*draw(rng, 3000), ["length", "markdown"])
    free = StyleBT().fit(*args)
    anchored = StyleBT(anchor=("m2", 1114.0)).fit(*args)
    assert anchored.ratings_["m2"] == pytest.approx(1114.0)
    assert anchored.rating_low_["m2"] == pytest.approx(1114.0) == anchored.rating_high_["m2"]
    np.testing.assert_allclose(
        (anchored.ratings_ - anchored.ratings_["m2"]).to_numpy(),
        (free.ratings_ - free.ratings_["m2"]).to_numpy(),
    )
    boot = StyleBT(anchor=("m2", 1114.0), ci="bootstrap", rounds=20).fit(*args)
    assert (boot.boot_ratings_["m2"] == 1114.0).all()


@pytest.mark.parametrize("ties", ["rao-kupper", "davidson"])
def test_tie_model_intervals_cover_the_truth(ties):
    rng = np.random.default_rng(31)
    hits = []
    for _ in range(150):
        a = rng.integers(0, 5, 800)
        b = (a + rng.integers(1, 5, 800)) % 5
        X = rng.normal(size=(800, 2))
        z = (X - X.mean(0)) / X.std(0)
        eta = LN10 * (BETA[a] - BETA[b]) + z @ GAMMA
        u = rng.random(800)
        if ties == "rao-kupper":
            pa, pb = expit(eta - 0.5), expit(-eta - 0.5)
        else:
            den = np.exp(eta / 2) + np.exp(-eta / 2) + 0.8
            pa, pb = np.exp(eta / 2) / den, np.exp(-eta / 2) / den
        y = np.where(u < pa, 1.0, np.where(u < pa + pb, 0.0, 0.5))
        hits.append(covered(StyleBT(ties=ties).fit(NAMES[a], NAMES[b], y, X, ["l", "m"])))
    assert 0.90 <= np.mean(hits) <= 0.99, np.mean(hits, axis=0)
