"""Vote model, grouped CV, SHAP additivity, exact group Shapley and per-model attribution on synthetic votes."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from stylebias.explain import explain_battles
from stylebias.explain.attribution import group_shapley
from stylebias.explain.design import feature_groups, grouped_folds, prompt_groups
from stylebias.explain.votemodel import auc, calibration, log_loss

FEATURES = ["tokens", "bold_count", "emoji_count", "refusal"]
#: The explanation of ``synthetic()`` every test here reads (fitted once per run, conftest.py).
SYNTHETIC_FIT = {"folds": 4, "inner_folds": 3, "seed": 3, "boot": 30}


def synthetic(n: int = 2400, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Battles among 6 models whose votes depend on strength, saturating length, emoji and refusals."""
    rng = np.random.default_rng(seed)
    models = [f"m{i}" for i in range(6)]
    strength = dict(zip(models, [0.0, 0.3, 0.6, -0.4, 0.9, -0.2], strict=True))
    a = rng.integers(0, 6, n)
    b = (a + rng.integers(1, 6, n)) % 6
    X = pd.DataFrame(
        {
            "tokens": rng.uniform(-0.9, 0.9, n),
            "bold_count": rng.normal(0, 0.4, n) * (rng.random(n) < 0.5),
            "emoji_count": rng.choice([-0.5, 0.0, 0.5], n, p=[0.1, 0.8, 0.1]),
            "refusal": rng.choice([-2.0, 0.0, 2.0], n, p=[0.05, 0.9, 0.05]),
        }
    )
    eta = (
        np.array([strength[models[i]] - strength[models[j]] for i, j in zip(a, b, strict=True)])
        + 2.0 * np.tanh(3 * X["tokens"])
        + 1.0 * X["emoji_count"]
        - 0.6 * X["refusal"]
    )
    p = expit(eta)
    u = rng.random(n)
    winner = np.where(u < p - 0.05, "model_a", np.where(u < p + 0.05, "tie", "model_b"))
    df = pd.DataFrame(
        {
            "model_a": [models[i] for i in a],
            "model_b": [models[j] for j in b],
            "prompt": [f"prompt {k}" for k in rng.integers(0, n // 6, n)],
            "response_a": "a",
            "response_b": "b",
            "winner": winner,
            "judge": "synthetic",
        }
    )
    return df, X


@pytest.fixture(scope="module")
def result(synthetic_explanation):
    """``explain_battles(*synthetic(), **SYNTHETIC_FIT)``, shared with test_explain_persist (conftest.py)."""
    return synthetic_explanation


def test_grouped_folds_partition_rows_and_keep_prompts_together():
    groups = prompt_groups(pd.Series(["a", "b", "a", None, "c", "b", "d", "e", None, "a"]))
    folds = grouped_folds(groups, 3, seed=0)
    rows = np.sort(np.concatenate(folds))
    assert rows.tolist() == list(range(10))
    fold_of = np.empty(10, dtype=int)
    for k, f in enumerate(folds):
        fold_of[f] = k
    for g in np.unique(groups):
        assert len(set(fold_of[groups == g])) == 1  # a prompt never straddles folds
    assert groups[3] != groups[8]  # null prompts are their own groups
    again = grouped_folds(groups, 3, seed=0)
    assert all((x == y).all() for x, y in zip(folds, again, strict=True))


def test_metrics_match_definitions():
    p = np.array([0.9, 0.2, 0.6, 0.5, 0.7])
    y = np.array([1.0, 0.0, 0.5, 0.8, 0.0])
    manual = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert log_loss(p, y) == pytest.approx(manual, abs=1e-12)
    # AUC drops the tie (0.5); soft 0.8 counts as an A win; brute force over (pos, neg) pairs
    pos, neg = p[[0, 3]], p[[1, 4]]
    brute = np.mean([(a > b) + 0.5 * (a == b) for a in pos for b in neg])
    assert auc(p, y) == pytest.approx(brute)
    cal = calibration(p, y, bins=5)
    assert cal["battles"].sum() == 5


def test_shap_additivity_on_the_booster_and_the_side_blind_margin(result):
    vote = result.vote_model
    arr = result.X[vote.features].to_numpy()
    contrib = vote.booster.predict(arr, pred_contrib=True)
    raw = vote.booster.predict(arr, raw_score=True)
    assert np.abs(contrib.sum(axis=1) - raw).max() < 1e-6  # base value + SHAP = margin (no init_score)
    offset = vote.offset(result.battles["model_a"], result.battles["model_b"])
    margin = offset + result.shap.sum(axis=1)
    assert np.abs(margin - logit(result.p)).max() < 1e-6
    assert (
        np.abs(
            result.p - vote.predict_proba(result.battles["model_a"], result.battles["model_b"], result.X)
        ).max()
        < 1e-12
    )


def test_lightgbm_treeshap_equals_shap_package(result):
    shap = pytest.importorskip("shap")
    vote = result.vote_model
    arr = result.X[vote.features].to_numpy()[:150]
    ours = vote.booster.predict(arr, pred_contrib=True)
    theirs = shap.TreeExplainer(vote.booster).shap_values(arr)
    assert np.abs(ours[:, :-1] - np.asarray(theirs)).max() < 1e-6


def test_vote_model_is_side_blind(result):
    vote = result.vote_model
    a, b = result.battles["model_a"], result.battles["model_b"]
    p = vote.predict_proba(a, b, result.X)
    swapped = vote.predict_proba(b, a, -result.X)
    assert np.abs(p + swapped - 1).max() < 1e-12
    assert np.abs(vote.style_margin(result.X * 0)).max() == 0.0  # no style difference, no style effect


def test_group_shapley_is_exact_and_efficient(result):
    vote = result.vote_model
    offset = vote.offset(result.battles["model_a"], result.battles["model_b"])
    phi = result.group_phi.to_numpy()
    assert np.abs(phi.sum(axis=1) - (result.p - result.p_neutral)).max() < 1e-9
    # brute force over all orderings of the groups for a few battles
    groups = feature_groups(vote.features)
    names = list(groups)
    X = result.X.iloc[:7]

    def v(rows: pd.DataFrame, keep: set[str]) -> np.ndarray:
        Z = rows.copy()
        for g in names:
            if g not in keep:
                Z[groups[g]] = 0.0
        return expit(offset[: len(rows)] + vote.style_margin(Z))

    brute = np.zeros((len(X), len(names)))
    perms = list(itertools.permutations(names))
    for order in perms:
        seen: set[str] = set()
        for g in order:
            brute[:, names.index(g)] += v(X, seen | {g}) - v(X, seen)
            seen.add(g)
    brute /= len(perms)
    fast = group_shapley(vote, X, offset[:7], groups).to_numpy()
    assert np.abs(fast - brute).max() < 1e-12


def test_per_model_points_add_up_and_signs_follow_the_side(result):
    m = result.models.set_index("model")
    gp = result.group_points
    assert np.abs(gp.sum(axis=1) - m.loc[gp.index, "style_points"]).max() < 1e-9
    # observed win rate from the model's side, ties half, recomputed by hand for m4
    b = result.battles
    own = np.concatenate([b.pref_a[b.model_a == "m4"], 1 - b.pref_a[b.model_b == "m4"]])
    assert m.loc["m4", "observed"] == pytest.approx(own.mean())
    # every battle is counted once per side, so the battle-weighted mean of observed win rates is 1/2
    assert (m["observed"] * m["battles"]).sum() / m["battles"].sum() == pytest.approx(0.5)
    assert (m["predicted"] * m["battles"]).sum() / m["battles"].sum() == pytest.approx(0.5)


def test_vote_model_beats_baselines_on_a_nonlinear_truth(result):
    s = result.cv.scores["log_loss"]
    assert s["vote_model"] < s["length_only"] < s["prior"]
    assert s["vote_model"] < s["bt_style"]  # the truth saturates in length: trees beat the linear BT
    assert result.cv.predictions.notna().all().all()
    assert 0.5 < result.cv.scores.loc["vote_model", "auc"] <= 1


def test_json_shape_sentence_and_determinism(result):
    doc = result.to_json()
    for key in ("cv_log_loss", "prior_log_loss", "length_only_log_loss", "bt_style_log_loss", "auc"):
        assert isinstance(doc["vote_model"][key], float)
    assert set(doc["models"]) == {f"m{i}" for i in range(6)}
    assert set(doc["features"]) == set(FEATURES)
    entry = doc["models"]["m4"]
    assert math.isclose(sum(entry["groups"].values()), entry["style_points"], abs_tol=1e-4)
    assert "bradley_terry" in entry and "style_elo" in entry["bradley_terry"]
    s = result.model_sentence("m4")
    assert s.startswith("m4 won ") and "% of its battles" in s and "style-neutral" in s
    assert result.top_movers(2) == list(result.models.sort_values("mover", ascending=False)["model"].head(2))
    df, X = synthetic()
    again = explain_battles(df, X, **SYNTHETIC_FIT).to_json()
    assert json.dumps(again, sort_keys=True) == json.dumps(doc, sort_keys=True)


def test_unknown_model_is_a_usage_error(result):
    from stylebias.errors import UsageError

    with pytest.raises(UsageError, match="not in these battles"):
        result.model_sentence("no-such-model")


def test_plot_functions_return_figures(result, tmp_path):
    from matplotlib.figure import Figure

    from stylebias.explain import plots

    figs = [
        plots.shap_beeswarm(result),
        plots.attribution_bars(result, ["m4", "m0"]),
        plots.length_dependence(result),
        plots.calibration_plot(result),
        plots.forest_plot(result.rank),
        plots.forest_plot(result),  # an ExplainResult is accepted too
    ]
    for fig in figs:
        assert isinstance(fig, Figure) and fig.axes
    labels = [t.get_text() for t in figs[1].axes[0].get_yticklabels()]
    assert labels == ["m4", "m0"]
    written = plots.save_all(result, tmp_path / "figs")
    assert len(written) == 10 and all(p.stat().st_size > 1000 for p in written)
    svg = (tmp_path / "figs" / "calibration.svg").read_bytes()
    plots.save_all(result, tmp_path / "again")
    assert (tmp_path / "again" / "calibration.svg").read_bytes() == svg


def test_rows_rejected_by_validation_take_their_feature_rows_with_them():
    import warnings

    df, X = synthetic(n=600, seed=9)
    df.loc[5, "model_b"] = df.loc[5, "model_a"]  # a self-battle is rejected by validation
    X.loc[5, "tokens"] = 123.0  # a marker that must not survive
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = explain_battles(df, X, folds=2, inner_folds=2, search="linear", boot=0, bradley_terry=False)
    assert len(res.X) == 599 and res.X["tokens"].max() < 1
    assert res.data["rejected"] == 1
