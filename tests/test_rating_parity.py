"""Parity: StyleBT's optimum equals FastChat's ``compute_style_control`` objective optimum within 1 Elo.

The reference here is written independently and naively, the way FastChat's first version did it: the
battles are duplicated (2n rows), the design is dense with +-ln 10 in the model columns and the standardised
style columns appended, a tie is one A-win row plus one B-win row, and the objective is sklearn's
``LogisticRegression(fit_intercept=False)`` default: 0.5 ||w||^2 + sum of log-losses over the 2n rows.
We minimise it with scipy's L-BFGS at a tight tolerance (not FastChat's 100-iteration cap).
"""

from __future__ import annotations

import gzip
import json
import math
import re

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from stylebias.rating import StyleBT

LN10 = math.log(10)


def fastchat_reference(model_a, model_b, winner, style_a=None, style_b=None):
    """Dense re-statement of FastChat ``construct_style_matrices`` + ``fit_mle_elo`` (solved tightly).

    ``winner`` is "model_a" / "model_b" / "tie" per battle, or a float share for soft preferences (soft
    rows: y = pref in both copies, which is what a fractional outcome means for the log-loss).
    """
    models = sorted(set(model_a) | set(model_b))
    idx = {m: i for i, m in enumerate(models)}
    n, p = len(model_a), len(models)
    k = 0 if style_a is None else style_a.shape[1]
    X = np.zeros((2 * n, p + k))
    for r, (ma, mb) in enumerate(zip(model_a, model_b, strict=True)):
        for rr in (r, r + n):
            X[rr, idx[ma]] = +LN10
            X[rr, idx[mb]] = -LN10
    if k:
        diff = (style_a - style_b) / (style_a + style_b + 1.0)
        z = (diff - diff.mean(axis=0)) / diff.std(axis=0)
        X[:, p:] = np.vstack([z, z])
    Y = np.zeros(2 * n)
    for r, w in enumerate(winner):
        if isinstance(w, str):
            if w == "model_a":
                Y[r] = Y[r + n] = 1.0
            elif w == "tie":
                Y[r] = 1.0  # one copy an A win, the other a B win
        else:
            Y[r] = Y[r + n] = float(w)

    def f(wv):
        eta = X @ wv
        loss = -(Y * log_expit(eta) + (1 - Y) * log_expit(-eta)).sum() + 0.5 * wv @ wv
        grad = X.T @ (expit(eta) - Y) + wv
        return loss, grad

    res = minimize(f, np.zeros(p + k), jac=True, method="L-BFGS-B", options={"maxiter": 20000, "gtol": 1e-10})
    w = res.x
    return models, 1000 + 400 * w[:p], w[p:]


def simulate(rng, n_models=7, n=4000, n_feat=3, tie_rate=0.3):
    beta = rng.normal(0, 0.25, n_models)
    a = rng.integers(0, n_models, n)
    b = (a + rng.integers(1, n_models, n)) % n_models
    sa = rng.poisson(rng.uniform(2, 40, (n, n_feat)))
    sb = rng.poisson(rng.uniform(2, 40, (n, n_feat)))
    diff = (sa - sb) / (sa + sb + 1.0)
    z = (diff - diff.mean(0)) / diff.std(0)
    gamma = rng.normal(0, 0.3, n_feat)
    eta = LN10 * (beta[a] - beta[b]) + z @ gamma
    u = rng.random(n)
    pa = expit(eta)
    winner = np.where(rng.random(n) < tie_rate, "tie", np.where(u < pa, "model_a", "model_b"))
    names = np.array([f"model-{i}" for i in range(n_models)])
    return names[a], names[b], winner, sa.astype(float), sb.astype(float)


def pref_from_winner(winner):
    return np.array(
        [{"model_a": 1.0, "model_b": 0.0, "tie": 0.5}[w] if isinstance(w, str) else w for w in winner]
    )


def check_parity(model_a, model_b, winner, sa, sb, names):
    models, ref_ratings, ref_coef = fastchat_reference(model_a, model_b, winner, sa, sb)
    X = (sa - sb) / (sa + sb + 1.0)
    fit = StyleBT().fit(model_a, model_b, pref_from_winner(winner), X, names)
    ours = fit.ratings_.reindex(models).to_numpy()
    centred = (ours - ours.mean()) - (ref_ratings - ref_ratings.mean())
    assert fit.converged_
    assert np.abs(centred).max() < 1.0, centred  # the parity target: within 1 Elo
    assert np.abs(centred).max() < 0.01  # what we actually achieve (both solved to convergence)
    np.testing.assert_allclose(fit.coef_, ref_coef, atol=1e-4)
    return fit


def test_parity_on_simulations():
    rng = np.random.default_rng(7)
    for _ in range(3):
        ma, mb, w, sa, sb = simulate(rng)
        check_parity(ma, mb, w, sa, sb, ["tokens", "header_count", "list_count"])


def test_parity_soft_preferences():
    rng = np.random.default_rng(8)
    ma, mb, w, sa, sb = simulate(rng, n=1500)
    soft = rng.uniform(0, 1, len(w))
    check_parity(ma, mb, list(soft), sa, sb, ["a", "b", "c"])


# ----------------------------------------------------------------------------------------------------
# Real data. LMArena's four counts computed here from the texts with simple rules (words for tokens),
# independent of stylebias.extract; both implementations see the same numbers, so parity is exact anyway.
_HEADER = re.compile(r"^#{1,6}\s", re.M)
_LIST = re.compile(r"^\s*(?:[-*+]|\d+\.)\s", re.M)
_BOLD = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")


def simple_counts(text: object) -> list[float]:
    text = str(text)  # one PandaLM response is the JSON literal `true`
    return [len(text.split()), len(_HEADER.findall(text)), len(_LIST.findall(text)), len(_BOLD.findall(text))]


LMARENA = ["tokens", "header_count", "list_count", "bold_count"]


@pytest.mark.shared
def test_parity_pandalm_human_votes(shared_data):
    rows = json.loads((shared_data / "pandalm_human_testset" / "testset-v1.json").read_text())
    ma, mb, winner, sa, sb = [], [], [], [], []
    code = {1: 1.0, 2: 0.0, 0: 0.5}
    known = ["llama-7b", "bloom-7b", "cerebras-gpt-6.7B", "opt-7b", "pythia-6.9b"]
    for r in rows:
        key = r["cmp_key"]
        first = next(m for m in known if key.startswith(m + "_"))
        second = key[len(first) + 1 :]
        votes = [code[int(r[f"annotator{i}"])] for i in (1, 2, 3)]
        ma.append(first)
        mb.append(second)
        winner.append(float(np.mean(votes)))  # soft preference: share of the three annotators' votes
        sa.append(simple_counts(r["response1"]))
        sb.append(simple_counts(r["response2"]))
    sa, sb = np.array(sa, float), np.array(sb, float)
    keep = ((sa - sb) / (sa + sb + 1)).std(axis=0) > 0  # PandaLM has no markdown headers at all
    names = [n for n, k in zip(LMARENA, keep, strict=True) if k]
    fit = check_parity(np.array(ma), np.array(mb), winner, sa[:, keep], sb[:, keep], names)
    assert fit.n_obs_ == 999 and fit.n_models_ == 5


@pytest.mark.shared
def test_parity_alpaca_eval_subset(shared_data):
    folder = shared_data / "alpaca_eval" / "annotations_ae2_weighted_gpt4_turbo"
    ma, mb, winner, sa, sb = [], [], [], [], []
    for model in ("alpaca-7b", "alpaca-7b_verbose", "alpaca-7b_concise", "phi-2", "falcon-7b-instruct"):
        for r in json.loads(gzip.decompress((folder / f"{model}.annotations.json.gz").read_bytes())):
            if r.get("preference") is None:
                continue
            ma.append(r["generator_1"])
            mb.append(r["generator_2"])
            winner.append(2.0 - float(r["preference"]))  # preference 2 = output_2 (model B) preferred
            sa.append(simple_counts(r["output_1"] or ""))
            sb.append(simple_counts(r["output_2"] or ""))
    sa, sb = np.array(sa, float), np.array(sb, float)
    fit = check_parity(np.array(ma), np.array(mb), winner, sa, sb, LMARENA)
    assert fit.n_models_ == 6
    # the length effect is the known AlpacaEval bias: longer answers win, clearly
    assert fit.coef_low_[0] > 0
