"""StyleBT behaviour: recovery of known parameters, symmetries, reductions, exact derivatives, tie models."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import approx_fprime, minimize
from scipy.special import expit

from stylebias.errors import UsageError
from stylebias.rating import StyleBT, effect_sentence
from stylebias.rating.design import encode_models, standardise
from stylebias.rating.likelihood import tie_model
from stylebias.rating.solver import PairLayout, Problem

LN10 = math.log(10)


def sim(seed, n_models=6, n=20000, gamma=(0.4, -0.25), tie_rate=0.0, ties="half", kappa=0.4, beta_sd=0.3):
    """Battles from a known model; returns names, y, raw features X, true beta (centred), gamma."""
    rng = np.random.default_rng(seed)
    beta = rng.normal(0, beta_sd, n_models)
    beta -= beta.mean()
    a = rng.integers(0, n_models, n)
    b = (a + rng.integers(1, n_models, n)) % n_models
    X = rng.normal(size=(n, len(gamma))) * [2.0, 0.5][: len(gamma)] + 0.3
    z = (X - X.mean(0)) / X.std(0)
    eta = LN10 * (beta[a] - beta[b]) + z @ np.asarray(gamma)
    u = rng.random(n)
    if ties == "half":
        # a tie with probability t, otherwise A wins with q chosen so that E[y] = t/2 + (1-t) q = sigma(eta)
        p = expit(eta)
        q = np.clip((p - tie_rate / 2) / (1 - tie_rate), 0, 1)
        tie = rng.random(n) < tie_rate
        y = np.where(tie, 0.5, (u < q).astype(float))
    elif ties == "rao-kupper":
        pa, pb = expit(eta - kappa), expit(-eta - kappa)
        y = np.where(u < pa, 1.0, np.where(u < pa + pb, 0.0, 0.5))
    else:
        nu = math.exp(kappa)
        den = np.exp(eta / 2) + np.exp(-eta / 2) + nu
        pa, pb = np.exp(eta / 2) / den, np.exp(-eta / 2) / den
        y = np.where(u < pa, 1.0, np.where(u < pa + pb, 0.0, 0.5))
    names = np.array([f"m{i}" for i in range(n_models)])
    return names[a], names[b], y, X, beta, np.asarray(gamma)


def test_recovers_known_ratings_and_style_coefficients():
    ma, mb, y, X, beta, gamma = sim(1, n=40000)
    fit = StyleBT().fit(ma, mb, y, X, ["length", "markdown"])
    est = (fit.ratings_.to_numpy() - 1000) / 400
    assert np.abs(est - beta).max() < 0.03  # base-10 units (12 Elo) at 40k battles
    np.testing.assert_allclose(fit.coef_, gamma, atol=0.04)
    assert fit.converged_ and fit.n_iter_ <= 12
    assert abs(fit.ratings_.mean() - 1000) < 1e-9  # identified by the penalty: mean rating = base


@pytest.mark.parametrize("ties", ["half", "rao-kupper", "davidson"])
def test_tie_models_recover_their_parameters(ties):
    # (half: small rating spread so that E[y] = sigma(eta) is attainable with 30 % ties, see sim)
    ma, mb, y, X, beta, gamma = sim(
        2, n=30000, ties=ties, kappa=0.5, tie_rate=0.3, beta_sd=0.3 if ties != "half" else 0.12
    )
    fit = StyleBT(ties=ties).fit(ma, mb, y, X, ["length", "markdown"])
    est = (fit.ratings_.to_numpy() - 1000) / 400
    assert np.abs(est - beta).max() < 0.04
    np.testing.assert_allclose(fit.coef_, gamma, atol=0.05)
    if ties != "half":
        assert abs(fit.tie_param_[0] - 0.5) < 0.05


def test_swapping_a_and_b_leaves_everything_unchanged():
    ma, mb, y, X, *_ = sim(3, n=5000, tie_rate=0.3)
    for ties in ("half", "rao-kupper", "davidson"):
        yy = y if ties == "half" else np.round(y * 2) / 2
        f1 = StyleBT(ties=ties).fit(ma, mb, yy, X, ["l", "m"])
        f2 = StyleBT(ties=ties).fit(mb, ma, 1 - yy, -X, ["l", "m"])
        np.testing.assert_allclose(f1.ratings_, f2.ratings_, atol=1e-6)
        np.testing.assert_allclose(f1.coef_, f2.coef_, atol=1e-9)
        np.testing.assert_allclose(f1.rating_high_, f2.rating_high_, atol=1e-6)


def test_no_features_is_plain_bradley_terry():
    ma, mb, y, *_ = sim(4, n=3000, gamma=(0.0,))
    fit = StyleBT(reg=0.0).fit(ma, mb, y)
    # independent plain BT maximum likelihood (ratings centred), via scipy on the dense design
    models = sorted(set(ma))
    idx = {m: i for i, m in enumerate(models)}
    A = np.zeros((len(y), len(models)))
    A[np.arange(len(y)), [idx[m] for m in ma]] = LN10
    A[np.arange(len(y)), [idx[m] for m in mb]] = -LN10

    def nll(b):
        eta = A @ b
        return float(np.sum(np.logaddexp(0, eta) - y * eta)), A.T @ (expit(eta) - y)

    res = minimize(nll, np.zeros(len(models)), jac=True, method="BFGS", options={"gtol": 1e-10})
    ref = 400 * (res.x - res.x.mean()) + 1000
    np.testing.assert_allclose(fit.ratings_.reindex(models).to_numpy(), ref, atol=1e-4)
    # a constant feature is dropped (with a warning) and changes nothing
    with pytest.warns(Warning, match="zero variance"):
        f2 = StyleBT(reg=0.0).fit(ma, mb, y, np.ones((len(y), 1)), ["constant"])
    assert f2.feature_names_ == [] and f2.dropped_features_ == ["constant"]
    np.testing.assert_allclose(f2.ratings_, fit.ratings_, atol=1e-6)


def test_aggregated_and_per_battle_paths_agree():
    """Without features battles collapse into (pair, outcome) cells; unit weights force the slow path."""
    ma, mb, y, *_ = sim(5, n=4000, tie_rate=0.3)
    fast = StyleBT().fit(ma, mb, y)
    slow = StyleBT().fit(ma, mb, y, weights=np.ones(len(y)))
    np.testing.assert_allclose(fast.ratings_, slow.ratings_, atol=1e-8)
    np.testing.assert_allclose(fast.rating_low_, slow.rating_low_, atol=1e-8)
    np.testing.assert_allclose(fast.covariance_, slow.covariance_, atol=1e-12)


def test_frequency_weights_equal_duplicated_battles():
    ma, mb, y, X, *_ = sim(6, n=1500)
    w = np.random.default_rng(0).integers(1, 4, len(y))
    f1 = StyleBT().fit(ma, mb, y, X, ["l", "m"], weights=w)
    rep = np.repeat(np.arange(len(y)), w)
    f2 = StyleBT().fit(ma[rep], mb[rep], y[rep], X[rep], ["l", "m"])
    np.testing.assert_allclose(f1.ratings_, f2.ratings_, atol=1e-6)
    np.testing.assert_allclose(f1.coef_, f2.coef_, atol=1e-9)
    # the sandwich treats weights as frequencies: same intervals as the duplicated data (HC1 n differs)
    np.testing.assert_allclose(f1.rating_high_ - f1.ratings_, f2.rating_high_ - f2.ratings_, rtol=1e-3)


@pytest.mark.parametrize("ties", ["half", "rao-kupper", "davidson"])
def test_gradient_and_hessian_are_exact(ties):
    ma, mb, y, X, *_ = sim(7, n=300, ties=ties if ties != "half" else "half", tie_rate=0.3, kappa=0.5)
    enc = encode_models(ma, mb)
    Z = standardise(X, ["l", "m"]).Z
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    tie = tie_model(ties)
    order = np.argsort(enc.pair, kind="stable")
    layout = PairLayout.from_sorted(enc.pair[order], enc.pair_a, enc.pair_b, len(enc.models))
    prob = Problem(layout, y[order], Z[order], tie, 0.5, w[order])
    rng = np.random.default_rng(2)
    theta = rng.normal(0, 0.2, prob.dim)
    if ties != "half":
        theta[-1] = 0.6
    g = prob.gradient(theta, prob.terms(theta))
    num = approx_fprime(theta, prob.objective, 1e-6)
    np.testing.assert_allclose(g, num, rtol=1e-4, atol=1e-3)
    H = prob.hessian(prob.terms(theta))
    Hnum = np.column_stack(
        [
            (
                prob.gradient(theta + e, prob.terms(theta + e))
                - prob.gradient(theta - e, prob.terms(theta - e))
            )
            / 2e-6
            for e in np.eye(prob.dim) * 1e-6
        ]
    )
    np.testing.assert_allclose(H, Hnum, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("ties", ["rao-kupper", "davidson"])
def test_tie_likelihoods_are_normalised_probabilities(ties):
    """exp(-loss) over the three outcomes sums to 1 for any eta and tie parameter."""
    tie = tie_model(ties)
    eta = np.linspace(-6, 6, 25)
    for tau in (0.05, 0.7, 2.0):
        total = sum(
            np.exp(-tie.terms(eta, np.array([tau]), np.full_like(eta, yv), derivs=False).loss)
            for yv in (0, 0.5, 1)
        )
        np.testing.assert_allclose(total, 1.0, atol=1e-12)


def test_predict_proba_and_linear_predictor():
    ma, mb, y, X, *_ = sim(8, n=5000, ties="davidson", kappa=0.3)
    fit = StyleBT(ties="davidson").fit(ma, mb, y, X, ["l", "m"])
    p = fit.predict_proba(ma[:50], mb[:50], X[:50])
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    eta = fit.decision_function(ma[:50], mb[:50], X[:50])
    np.testing.assert_allclose(p[:, 0] / p[:, 2], np.exp(eta))  # Davidson: P(A)/P(B) = e^eta


def test_effect_sentence_reads_like_plain_language():
    s = effect_sentence("length", math.log(1.28), math.log(1.25), math.log(1.31), 0.31)
    assert "+1 SD more length than the opponent" in s
    assert "multiplies the odds of winning by 1.28" in s and "95% CI 1.25-1.31" in s


def test_winrate_vs_reference_is_style_neutral():
    ma, mb, y, X, beta, gamma = sim(9, n=20000)
    fit = StyleBT().fit(ma, mb, y, X, ["l", "m"])
    wr = fit.winrate_vs("m0").set_index("model")
    assert wr.loc["m0", "winrate"] == pytest.approx(0.5)
    d = LN10 * (beta - beta[0])
    # equal style on both sides: the true style-neutral win rate is sigma(d) (up to the centring constant)
    np.testing.assert_allclose(wr["winrate"].to_numpy(), expit(d), atol=0.03)
    assert (wr["winrate_low"] <= wr["winrate"]).all() and (wr["winrate"] <= wr["winrate_high"]).all()


def test_style_contributions_explain_raw_minus_controlled():
    """A model that always answers longer gains raw rating from length; the decomposition shows it."""
    rng = np.random.default_rng(10)
    n = 20000
    names = np.array(["verbose", "terse", "mid1", "mid2"])
    a = rng.integers(0, 4, n)
    b = (a + rng.integers(1, 4, n)) % 4
    length = np.array([900.0, 100.0, 400.0, 400.0])
    la, lb = rng.poisson(length[a]), rng.poisson(length[b])
    x = ((la - lb) / (la + lb + 1.0))[:, None]
    z = (x - x.mean()) / x.std()
    y = (rng.random(n) < expit(0.5 * z[:, 0])).astype(float)  # equal substance, only length matters
    fit = StyleBT().fit(names[a], names[b], y, x, ["length"])
    raw = StyleBT().fit(names[a], names[b], y)
    contrib = fit.style_contributions()["length"]
    gap = raw.ratings_ - fit.ratings_
    assert contrib["verbose"] > 50 and contrib["terse"] < -50
    # same order and size as the raw-minus-controlled gap; not equal: omitting a covariate from a logistic
    # model attenuates the other coefficients, so the raw gap is smaller than gamma * mean z (~25 % here)
    gap = gap.reindex(contrib.index)
    assert list(contrib.sort_values().index) == list(gap.sort_values().index)
    np.testing.assert_allclose(gap.to_numpy(), contrib.to_numpy(), rtol=0.35, atol=3)
    # controlled: everyone has equal substance; length is nearly collinear with identity here, so the
    # intervals are wide, but they must contain the truth
    assert ((fit.rating_low_ < 1000) & (1000 < fit.rating_high_)).all()
    assert not ((raw.rating_low_ < 1000) & (1000 < raw.rating_high_)).all()


def test_get_params_round_trip():
    est = StyleBT(reg=1.0, ties="davidson", ci="bootstrap", rounds=7, seed=3)
    p = est.get_params()
    assert p["reg"] == 1.0 and p["ties"] == "davidson" and p["rounds"] == 7
    assert StyleBT(**p).get_params() == p


def test_fit_returns_self_and_no_global_state():
    ma, mb, y, X, *_ = sim(11, n=500)
    est = StyleBT()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert est.fit(ma, mb, y, X, ["l", "m"]) is est
    r1 = est.ratings_.copy()
    StyleBT(reg=5).fit(ma, mb, y)
    np.testing.assert_array_equal(StyleBT().fit(ma, mb, y, X, ["l", "m"]).ratings_, r1)


def test_blas_is_held_at_one_thread_until_the_last_holder_leaves(monkeypatch):
    """Fits limit BLAS to one thread; nested fits and fits on worker threads share the first holder's limit
    (threadpoolctl looks at the loaded libraries once), and the last to leave restores the thread counts."""
    from concurrent.futures import ThreadPoolExecutor

    import threadpoolctl

    from stylebias.rating.estimator import one_blas_thread

    def blas() -> set[int]:
        return {i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"}

    ma, mb, y, X, *_ = sim(3, n=300)
    real = threadpoolctl.threadpool_limits
    taken = []
    with real(limits=2, user_api="blas"):
        before = blas()
        monkeypatch.setattr(threadpoolctl, "threadpool_limits", lambda **kw: taken.append(kw) or real(**kw))
        with one_blas_thread():
            assert blas() == {1}
            with one_blas_thread():
                pass
            assert blas() == {1}  # an inner holder leaving does not give the limit back
            with ThreadPoolExecutor(3) as pool:
                fits = [pool.submit(StyleBT().fit, ma, mb, y, X, ["l", "m"]) for _ in range(3)]
                assert all(f.result().converged_ for f in fits)
            assert blas() == {1}
        assert taken == [{"limits": 1, "user_api": "blas"}]  # looked up once, by the first holder
        assert blas() == before
        StyleBT().fit(ma, mb, y)  # alone, a fit takes the limit and gives it back
        assert len(taken) == 2 and blas() == before


def test_predict_with_plain_array_after_a_feature_was_dropped():
    """A constant column is dropped by the fit; an array with every input column still predicts, in order."""
    import warnings

    rng = np.random.default_rng(5)
    n = 400
    a = rng.integers(0, 3, n)
    b = (a + rng.integers(1, 3, n)) % 3
    names = np.array(["m0", "m1", "m2"])
    X = np.column_stack([np.zeros(n), rng.normal(size=n), rng.normal(size=n)])  # first column constant
    y = (rng.random(n) < 0.5).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = StyleBT().fit(names[a], names[b], y, X, ["const", "len", "md"])
    assert fit.feature_names_in_ == ["const", "len", "md"] and fit.feature_names_ == ["len", "md"]
    full = fit.predict_proba(names[a], names[b], X)
    kept = fit.predict_proba(names[a], names[b], X[:, 1:])
    frame = fit.predict_proba(names[a], names[b], pd.DataFrame(X, columns=["const", "len", "md"]))
    np.testing.assert_allclose(full, kept)
    np.testing.assert_allclose(full, frame)
    with pytest.raises(UsageError, match="feature array has 1 columns"):
        fit.predict_proba(names[a], names[b], X[:, :1])
