"""Choosing the vote model honestly: the linear fit, the choice rule, nested CV, intervals, one definition."""

from __future__ import annotations

import itertools
import math
import warnings
from copy import copy as shallow_copy

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from stylebias.explain import explain_battles, load_vote_model, save_vote_model
from stylebias.explain.attribution import linear_group_shapley
from stylebias.explain.linear import fit_linear
from stylebias.explain.select import Spec, Votes, choose, cross_fitted_choice, select
from stylebias.explain.votemodel import fit_strength, log_loss

from ._planted import planted_battles


def _votes(df: pd.DataFrame, X: pd.DataFrame) -> Votes:
    from stylebias.explain.design import prompt_groups

    A = df["model_a"].to_numpy(dtype=object)
    B = df["model_b"].to_numpy(dtype=object)
    y = (df["winner"] == "model_a").to_numpy(dtype=float)
    return Votes(A, B, y, X.reset_index(drop=True), X["tokens"].to_numpy(), prompt_groups(df["prompt"]))


def length_only_truth(n: int, seed: int, noise_features: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Votes that depend on length alone, with many style features that carry nothing."""
    rng = np.random.default_rng(seed)
    models = [f"m{i}" for i in range(4)]
    a = rng.integers(0, 4, n)
    b = (a + rng.integers(1, 4, n)) % 4
    cols = {"tokens": rng.uniform(-0.8, 0.8, n)}
    names = ["header_count", "list_count", "bold_count", "code_blocks", "tables", "links", "emoji_count"]
    names += ["flattery", "refusal", "exclamations", "positivity", "mattr"]
    for f in names[:noise_features]:
        cols[f] = rng.normal(0, 0.3, n) * (rng.random(n) < 0.4)
    X = pd.DataFrame(cols)
    y = rng.random(n) < expit(0.8 * X["tokens"].to_numpy())
    df = pd.DataFrame(
        {
            "model_a": [models[i] for i in a],
            "model_b": [models[j] for j in b],
            "prompt": [f"p{i}" for i in range(n)],
            "response_a": "a",
            "response_b": "b",
            "winner": np.where(y, "model_a", "model_b"),
            "judge": "sim",
        }
    )
    return df, X


# ---------------------------------------------------------------------------------------------------- pieces
def test_linear_fit_with_one_penalty_is_the_side_blind_bradley_terry_fit():
    df, X, _ = planted_battles(800, seed=3)
    v = _votes(df, X)
    fit = fit_linear(v.model_a, v.model_b, v.y, v.X, v.features, np.full(X.shape[1], 0.5), 0.5)
    ref = fit_strength(v.model_a, v.model_b, v.y, X, side_blind=True)
    for m, s in ref.strength.items():
        assert fit.strength[m] == pytest.approx(s, abs=1e-6)
    bt = ref.fits[0]
    for j, f in enumerate(bt.feature_names_):
        assert fit.gamma[list(X.columns).index(f)] == pytest.approx(bt.coef_[j], abs=1e-6)
    # an infinite penalty leaves the feature out; swapping sides flips the margin exactly
    drop = fit_linear(
        v.model_a, v.model_b, v.y, v.X, v.features, np.array([1.0] + [math.inf] * (X.shape[1] - 1)), 0.5
    )
    assert np.count_nonzero(drop.coef) == 1
    m = fit.margin(v.model_a, v.model_b, v.X)
    assert np.allclose(fit.margin(v.model_b, v.model_a, -v.X), -m)


def test_linear_fit_of_a_disconnected_graph_is_the_joint_penalised_fit():
    """Two parts that never meet (the demo's AlpacaEval and PandaLM): one fit over both, shared style
    coefficients, each part's strengths pinned by the penalty; the optimum of the joint objective, restated
    here with the solver directly."""
    from stylebias.explain.linear import feature_scale, penalties
    from stylebias.rating.design import encode_models
    from stylebias.rating.likelihood import tie_model
    from stylebias.rating.solver import PairLayout, Problem, newton

    df, X, _ = planted_battles(600, seed=5)
    other = df.assign(model_a="z-" + df["model_a"], model_b="z-" + df["model_b"])
    both = pd.concat([df, other.iloc[:300]], ignore_index=True)
    Xb = pd.concat([X, X.iloc[:300]], ignore_index=True)
    v = _votes(both, Xb)
    reg = penalties(v.features, 8.0)
    fit = fit_linear(v.model_a, v.model_b, v.y, v.X, v.features, reg, 2.0)
    assert len(fit.strength) == 16
    for copy in (False, True):  # each part's strengths average 0 (the penalty identifies them)
        part = [s for m, s in fit.strength.items() if m.startswith("z-") == copy]
        assert len(part) == 8 and abs(np.mean(part)) < 1e-6
    # reference: the joint objective, summed log-loss + 2/2 ||beta||^2 + sum_k reg_k/2 gamma_k^2
    scale = feature_scale(v.X)
    enc = encode_models(v.model_a, v.model_b)
    order = np.argsort(enc.pair, kind="stable")
    layout = PairLayout.from_sorted(enc.pair[order], enc.pair_a, enc.pair_b, len(enc.models))
    factor = np.sqrt(2.0 / reg)
    Z = (v.X / scale * factor)[order]
    problem = Problem(layout, v.y[order], Z, tie_model("half"), 2.0, None)
    theta, info = newton(problem, np.zeros(len(enc.models) + Z.shape[1]), xtol=1e-10, max_iter=100)
    assert info.converged
    P = len(enc.models)
    for m, b in zip(enc.models, theta[:P], strict=True):
        assert fit.strength[m] == pytest.approx(math.log(10) * b, abs=1e-6)
    assert np.allclose(fit.gamma, theta[P:] * factor, atol=1e-6)


def test_linear_group_shapley_is_exact():
    rng = np.random.default_rng(0)
    base = rng.normal(size=6)
    terms = rng.normal(size=(6, 4))
    phi = linear_group_shapley(base, terms)
    assert np.allclose(phi.sum(axis=1), expit(base + terms.sum(axis=1)) - expit(base), atol=1e-12)
    brute = np.zeros_like(terms)
    perms = list(itertools.permutations(range(4)))
    for order in perms:
        acc = base.copy()
        for g in order:
            brute[:, g] += expit(acc + terms[:, g]) - expit(acc)
            acc = acc + terms[:, g]
    assert np.allclose(phi, brute / len(perms), atol=1e-12)


def test_cross_fitted_choice_picks_each_fold_from_the_other_folds():
    y = np.array([1.0, 0.0, 1.0, 0.0])
    folds = [np.array([0, 1]), np.array([2, 3])]
    good_first = np.array([0.9, 0.1, 0.1, 0.9])  # right on fold 0, wrong on fold 1
    good_second = np.array([0.1, 0.9, 0.9, 0.1])
    specs = [Spec("linear", 1.0, 1.0), Spec("linear", 2.0, 2.0)]
    out = cross_fitted_choice(specs, {specs[0]: good_first, specs[1]: good_second}, y, folds)
    # fold 0 uses the candidate that was best on fold 1, and the other way round: both wrong
    assert np.allclose(out, [0.1, 0.9, 0.1, 0.9])


def test_choice_keeps_length_only_unless_a_richer_model_clearly_wins():
    rng = np.random.default_rng(1)
    n = 400
    y = (rng.random(n) < 0.6).astype(float)
    groups = np.arange(n)
    folds = [np.arange(k, n, 4) for k in range(4)]
    length = np.full(n, 0.6)
    ref, rich = Spec("length_only"), Spec("linear", 8.0, 8.0)
    noisy = np.clip(length + rng.normal(0, 0.01, n), 0.01, 0.99)
    chosen, table, test = choose([ref, rich], {ref: length, rich: noisy}, y, groups, folds)
    assert chosen == ref and not test["passed"]
    better = np.where(y == 1, 0.8, 0.3)  # knows the answers much better
    chosen, table, test = choose([ref, rich], {ref: length, rich: better}, y, groups, folds)
    assert chosen == rich and test["passed"] and table.loc[0, "label"] == rich.label


def test_without_a_length_feature_the_prior_is_the_reference():
    rng = np.random.default_rng(3)
    n = 300
    y = (rng.random(n) < 0.5).astype(float)
    folds = [np.arange(k, n, 3) for k in range(3)]
    prior, rich = Spec("prior"), Spec("linear", 8.0, 8.0)
    noisy = np.clip(0.5 + rng.normal(0, 0.02, n), 0.01, 0.99)
    chosen, table, test = choose([prior, rich], {prior: np.full(n, 0.5), rich: noisy}, y, np.arange(n), folds)
    assert chosen == prior and test["reference"] == prior.label and not test["passed"]


def test_too_few_prompts_to_cross_validate_keeps_the_default():
    df, X = length_only_truth(40, seed=1, noise_features=2)
    df["prompt"] = "the same prompt"
    sel = select(_votes(df, X), 5, 0, search="linear", bt_regs=(0.5,))
    assert sel.chosen == Spec("length_only") and "no cross-validation" in sel.test["note"]
    df["prompt"] = [f"p{i % 3}" for i in range(40)]  # three prompts: three folds, not five
    assert select(_votes(df, X), 5, 0, search="linear", bt_regs=None).folds == 3


def test_nested_cv_never_lets_an_outer_fold_reach_a_choice(monkeypatch):
    from stylebias.explain import cv as cvmod
    from stylebias.explain.design import grouped_folds

    df, X = length_only_truth(300, seed=2, noise_features=3)
    v = _votes(df, X)
    seen: list[set[int]] = []
    real = cvmod.select

    def spy(sub, *args, **kwargs):
        seen.append(set(map(int, sub.groups)))
        return real(sub, *args, **kwargs)

    monkeypatch.setattr(cvmod, "select", spy)
    report, final = cvmod.nested_cv(v, folds=3, inner_folds=3, seed=4, search="linear")
    outer = grouped_folds(v.groups, 3, 4)
    for k, test in enumerate(outer):
        assert not seen[k] & set(map(int, v.groups[test]))  # no held-out prompt in the choice
    assert seen[-1] == set(map(int, v.groups))  # the shown model is chosen on everything
    assert len(report.fold_choices) == 3 and final.chosen.label


# ---------------------------------------------------------------------------------------------------- the rule
@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_vote_model_is_never_worse_than_length_only_when_only_length_matters(seed):
    df, X = length_only_truth(600, seed)
    res = explain_battles(df, X, folds=5, inner_folds=4, seed=seed, boot=0, bradley_terry=False)
    s = res.cv.scores["log_loss"]
    assert s["vote_model"] <= s["length_only"] + 0.002
    assert s["length_only"] < s["prior"]


@pytest.mark.slow
def test_vote_model_beats_length_only_when_the_data_carry_more():
    df, X, _ = planted_battles(2000, seed=0)
    res = explain_battles(df, X, folds=4, inner_folds=3, seed=0, boot=0, bradley_terry=False)
    s = res.cv.scores["log_loss"]
    assert s["vote_model"] < s["length_only"] - 0.005
    assert res.vote_model.kind in ("linear", "trees")


def test_select_reports_every_candidate_and_the_test():
    df, X = length_only_truth(240, seed=5, noise_features=4)
    sel = select(_votes(df, X), 3, 0, search="linear", bt_regs=(0.5, 32.0))
    assert {"length-only logistic", "prior (training mean of pref_a)"} <= set(sel.scores["label"])
    assert sel.scores["chosen"].sum() == 1 and sel.bt_reg in (0.5, 32.0)
    assert {"reference", "pick_log_loss", "reference_log_loss", "se", "passed"} <= set(sel.test)
    assert list(sel.scores["log_loss"]) == sorted(sel.scores["log_loss"])


# ---------------------------------------------------------------------------------------------------- rare effect
def _check_cards_agree_with_bt_or_say_why(res) -> None:
    """Wherever BT's interval excludes 0, the card agrees in sign, or its notes say that and why."""
    assert len(res.agreement)  # BT found something
    for a in res.agreement.to_dict("records"):
        notes = res.model_notes(a["model"])
        if a["status"] == "agree":
            assert np.sign(a["points"]) == np.sign(a["bt_points"])
            assert a["low"] > 0 or a["high"] < 0
        elif a["status"] == "disagree" or abs(a["bt_points"]) >= 0.5:
            assert a["reason"] in notes
            assert "Bradley-Terry" in a["reason"] and ("because" in a["reason"] or ":" in a["reason"])


@pytest.mark.slow
@pytest.mark.parametrize(("n", "search"), [(500, "auto"), (2000, "auto"), (20000, "linear")])
def test_planted_rare_strong_effect_is_explained_or_the_disagreement_is_said(n, search):
    """3 % of battles carry a refusal that costs 1.5 log-odds; the cautious model refuses most.

    The 20,000-battle case leaves the tree candidates out to stay cheap here; bench/explain.py runs it
    with them.
    """
    df, X, truth = planted_battles(n, seed=0)
    assert 0.02 < truth["refusal_battles"] < 0.04
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = explain_battles(df, X, folds=4, inner_folds=3, seed=0, boot=30, search=search)
    _check_cards_agree_with_bt_or_say_why(res)
    row = res.agreement[(res.agreement["model"] == "cautious") & (res.agreement["group"] == "refusal")]
    assert len(row) == 1 and row.iloc[0]["bt_points"] < 0  # BT sees the planted effect
    sentence = res.model_sentence("cautious")
    if n >= 2000:  # enough votes: the vote model carries the effect itself, with the right sign
        assert row.iloc[0]["status"] == "agree"
        lo, hi = res.point_interval("cautious", "refusal")
        assert hi < 0 and "refusals cost" in sentence
    elif row.iloc[0]["status"] != "agree":
        assert any("refusals" in note for note in res.model_notes("cautious"))


# ---------------------------------------------------------------------------------------------------- intervals
@pytest.fixture(scope="module")
def planted():
    df, X, _ = planted_battles(1500, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return explain_battles(df, X, folds=3, inner_folds=3, seed=4, search="linear", boot=40)


def test_intervals_bracket_the_points_and_reach_the_words(planted):
    res = planted
    assert res.has_intervals
    lo, hi = res.group_points_low, res.group_points_high
    gp = res.group_points
    assert ((lo.to_numpy() <= gp.to_numpy() + 1e-9) & (gp.to_numpy() <= hi.to_numpy() + 1e-9)).mean() > 0.9
    m = res.models.set_index("model")
    assert (m["neutral_low"] <= m["neutral_high"]).all()
    # a group the chosen model uses whose interval includes 0 is named as such in the sentence
    for model in gp.index:
        for g in res.groups_of(model):
            if g["used"] and not g["distinguishable"] and abs(g["points"]) >= 0.05:
                assert f"{g['words']}" in res.model_sentence(model)
                assert "not distinguishable from 0" in res.model_sentence(model)
    doc = res.to_json()
    entry = doc["models"]["cautious"]
    assert len(entry["neutral_winrate_ci"]) == 2 and "refusal" in entry["groups_ci"]
    assert "neutral_winrate_ci" in entry["bradley_terry"]
    assert doc["agreement"] and doc["vote_model"]["nested"] is True


def test_one_definition_of_style_neutral_for_both_views(planted):
    """Vote model and BT answer the same question: the same battles with every pair feature at 0."""
    res = planted
    m = res.models.set_index("model")
    # by hand for BT: sigma(ln10 (beta_a - beta_b) + gamma . (0 - mean) / scale), from the model's side
    est = res.rank.controlled
    b = res.battles
    idx = {x: i for i, x in enumerate(est.models_)}
    ia, ib = b["model_a"].map(idx).to_numpy(), b["model_b"].map(idx).to_numpy()
    c = float(est.coef_ @ (est.feature_mean_ / est.feature_scale_))
    pa = expit(math.log(10) * (est.beta_[ia] - est.beta_[ib]) - c)
    for model in m.index:
        own = np.concatenate([pa[b["model_a"] == model], 1 - pa[b["model_b"] == model]])
        assert m.loc[model, "neutral_bt"] == pytest.approx(own.mean(), abs=1e-9)
        # the two views agree within their intervals on data the linear model describes well
        assert (
            m.loc[model, "neutral_low"] - 0.01
            <= m.loc[model, "neutral_bt"]
            <= m.loc[model, "neutral_high"] + 0.01
        )
    card = res.model_card("cautious")
    assert {"neutral", "neutral_low", "neutral_bt", "groups", "sentence", "notes"} <= set(card)


def test_linear_vote_model_round_trips_without_a_booster(planted, tmp_path):
    res = planted
    assert res.vote_model.booster is None
    folder = save_vote_model(res.vote_model, tmp_path / "linear")
    assert not (folder / "vote_model.txt").exists()
    loaded = load_vote_model(folder)
    X = res.X
    a, b = res.battles["model_a"], res.battles["model_b"]
    assert np.array_equal(loaded.predict_proba(a, b, X), res.vote_model.predict_proba(a, b, X))
    assert loaded.candidate["label"] == res.vote_model.candidate["label"]
    assert log_loss(loaded.predict_proba(a, b, X), res.battles["pref_a"]) < 0.7


def test_bootstrap_does_not_depend_on_the_number_of_threads():
    df, X, _ = planted_battles(400, seed=6)
    kw = {"folds": 3, "inner_folds": 2, "seed": 2, "search": "linear", "boot": 8, "bradley_terry": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = explain_battles(df, X, jobs=1, **kw)
        two = explain_battles(df, X, jobs=2, **kw)
    assert one.group_points_low.equals(two.group_points_low)
    assert one.models["neutral_high"].equals(two.models["neutral_high"])


def test_a_real_but_tiny_group_is_said_to_be_tiny_not_printed_as_zero(planted):
    res = shallow_copy(planted)
    model, group = res.group_points.index[0], res.group_points.columns[0]
    res.group_points, res.group_points_low, res.group_points_high = (
        t.copy() for t in (res.group_points, res.group_points_low, res.group_points_high)
    )
    res.group_points.at[model, group] = 0.02
    res.group_points_low.at[model, group] = 0.01
    res.group_points_high.at[model, group] = 0.03
    sentence = res.model_sentence(model)
    words = next(g["words"] for g in res.groups_of(model) if g["group"] == group)
    assert f"{words} moved it by less than 0.05 points" in sentence
    assert "0.0 points" not in sentence and "0.0 to 0.0" not in sentence
