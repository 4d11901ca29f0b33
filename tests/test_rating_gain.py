"""The leaderboard's order and what style bought each model (raw − controlled, with its interval)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stylebias.rating import Design, FitSettings, fit_design, rank_battles


def thin_model_battles(seed: int = 0) -> pd.DataFrame:
    """Three well-measured models far apart and one thin middling model whose interval covers them all."""
    rng = np.random.default_rng(seed)
    strength = {"top": 1.0, "mid": 0.5, "low": 0.0}
    rows = []
    names = list(strength)
    for _ in range(3000):
        a, b = rng.choice(names, 2, replace=False)
        p = 1 / (1 + 10 ** -(strength[a] - strength[b]))
        rows.append((a, b, float(rng.random() < p)))
    rows += [("thin", "low", 1.0), ("thin", "low", 0.0), ("thin", "mid", 1.0), ("thin", "mid", 0.0)]
    return pd.DataFrame(rows, columns=["model_a", "model_b", "pref_a"])


def test_model_table_reads_best_rank_first_even_when_ratings_disagree():
    res = rank_battles(thin_model_battles(), None)
    m = res.models
    assert list(m["rank"]) == sorted(m["rank"]), m[["model", "rating", "rank"]]
    # the thin model has a middling rating but, with its wide interval, shares the best rank
    thin = m.set_index("model").loc["thin"]
    assert thin["rank"] == 1 and thin["rating"] < m.set_index("model").loc["mid", "rating"]
    assert [r["model"] for r in res.to_json()["models"]] == list(m["model"])


LN10 = np.log(10)
MODELS = [f"m{i}" for i in range(5)]


def simulate(seed: int, n: int = 800, ties: float = 0.3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Five models, the weaker ones write longer answers, and length moves the vote (30 % ties)."""
    rng = np.random.default_rng(seed)
    beta, verbose = np.linspace(0.3, -0.3, 5), np.linspace(0.0, 1.0, 5)
    a = rng.integers(0, 5, n)
    b = (a + rng.integers(1, 5, n)) % 5
    x = rng.normal(verbose[a], 0.5) - rng.normal(verbose[b], 0.5)
    p = 1 / (1 + np.exp(-(LN10 * (beta[a] - beta[b]) + 0.8 * x)))
    y = np.where(rng.random(n) < ties, 0.5, (rng.random(n) < p).astype(float))
    df = pd.DataFrame({"model_a": np.array(MODELS)[a], "model_b": np.array(MODELS)[b], "pref_a": y})
    return df, pd.DataFrame({"length": x})


def gains(res) -> pd.DataFrame:
    return res.models.set_index("model").loc[MODELS]


@pytest.mark.filterwarnings("ignore::stylebias.errors.StyleBiasWarning")
@pytest.mark.parametrize(("ties", "anchor"), [("half", None), ("half", ("m0", 1100.0)), ("rao-kupper", None)])
def test_sandwich_interval_of_raw_minus_controlled_matches_its_sampling_spread(ties, anchor):
    """Over 100 simulated data sets the spread of raw − controlled is what the sandwich says; adding the two
    fits' variances as if they were independent would be 2-7 times too wide."""
    draws, ses, independent = [], [], []
    z = 1.959964
    for seed in range(100):
        df, X = simulate(seed, n=600)
        design = Design(df["model_a"], df["model_b"], df["pref_a"].to_numpy(), X)
        m = gains(fit_design(design, FitSettings(ties=ties, anchor=anchor)))
        draws.append(m["style_gain"].to_numpy())
        ses.append(((m["style_gain_high"] - m["style_gain_low"]) / (2 * z)).to_numpy())
        raw_se = (m["rating_raw_high"] - m["rating_raw_low"]) / (2 * z)
        ctrl_se = (m["rating_high"] - m["rating_low"]) / (2 * z)
        independent.append(np.hypot(raw_se, ctrl_se).to_numpy())
    spread, se = np.std(draws, axis=0), np.mean(ses, axis=0)
    moving = spread > 0  # the anchor's own gain is 0 by definition
    ratio = se[moving] / spread[moving]
    assert ((ratio > 0.85) & (ratio < 1.2)).all(), ratio
    assert (np.mean(independent, axis=0)[moving] > 2 * se[moving]).all()


def test_gain_is_raw_minus_controlled_relative_to_the_stated_reference(tmp_path):
    df, X = simulate(1)
    centred = rank_battles(df, X)
    m = gains(centred)
    assert np.allclose(m["style_gain"], m["rating_raw"] - m["rating"])
    assert abs(m["rating"].mean() - 1000) < 1e-6 and abs(m["rating_raw"].mean() - 1000) < 1e-6
    assert centred.style_gain_reference is None and "average model" in centred.reference_text()
    anchored = rank_battles(df, X, anchor=("m2", 1200.0))
    a = gains(anchored)
    assert a.loc["m2", ["style_gain", "style_gain_low", "style_gain_high"]].abs().max() < 1e-9
    # relative to m2, every gain is the centred gain minus m2's centred gain
    assert np.allclose(a["style_gain"], m["style_gain"] - m.loc["m2", "style_gain"])
    assert anchored.style_gain_reference == "m2" and "m2 (pinned at 1200" in anchored.reference_text()
    doc = anchored.to_json()
    assert doc["style_gain_relative_to"] == "m2"
    assert {"style_gain", "style_gain_low", "style_gain_high"} <= set(doc["models"][0])
    # a saved ranking keeps the interval (it needs the battles to recompute)
    from stylebias.rating.result import RankResult

    anchored.save(tmp_path / "r", card={"title": "t"})
    back = gains(RankResult.load(tmp_path / "r"))
    cols = ["style_gain", "style_gain_low", "style_gain_high"]
    assert np.allclose(back[cols], a[cols])


def test_bootstrap_pairs_the_two_fits_replicates():
    df, X = simulate(2)
    boot = gains(rank_battles(df, X, ci="bootstrap", rounds=300, seed=3))
    sand = gains(rank_battles(df, X))
    width_b = boot["style_gain_high"] - boot["style_gain_low"]
    width_s = sand["style_gain_high"] - sand["style_gain_low"]
    assert ((width_b / width_s > 0.75) & (width_b / width_s < 1.33)).all(), width_b / width_s
    assert (
        (boot["style_gain_low"] < boot["style_gain"]) & (boot["style_gain"] < boot["style_gain_high"])
    ).all()


def test_every_gain_sentence_agrees_with_the_column():
    df, X = simulate(4)
    res = rank_battles(df, X)
    for row in res.models.itertuples(index=False):
        s = res.gain_sentence(row.model)
        assert ("bought" if row.style_gain >= 0 else "cost") in s
        assert f"{abs(row.style_gain):.1f} Elo" in s and f"= {row.style_gain:+.1f}" in s
        assert "relative to the average model" in s
