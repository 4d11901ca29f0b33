"""The leaderboard's order and what style bought each model (raw − controlled, with its interval)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stylebias.rating import rank_battles


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
