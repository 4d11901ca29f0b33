"""Simulated votes with a planted rare, strong style effect (for tests and ``bench/explain.py``).

Eight models with known strengths answer prompts; every battle has pair features for length (``tokens``, a
bounded normalised difference, effect 0.4 log-odds per unit), three markdown counts and an emoji count
(no effect), and a ``refusal`` flag difference. One model, ``cautious``, refuses often enough that a refusal
happens in about 3 % of all battles; a refusing answer loses ``effect`` log-odds (1.5 by default). So the
truth is: refusals cost ``cautious`` a few points of win rate, and nothing else about style matters but
length.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

MODELS = ("cautious", "m1", "m2", "m3", "m4", "m5", "m6", "m7")
STRENGTH = dict(zip(MODELS, (0.2, 0.5, -0.3, 0.0, 0.35, -0.5, 0.1, -0.15), strict=True))
VERBOSITY = dict(zip(MODELS, (5.6, 6.0, 5.2, 5.5, 6.3, 5.0, 5.8, 5.4), strict=True))  # log mean tokens
LENGTH_EFFECT = 0.4
#: refusal probability per answer; ``cautious`` carries almost all of the 3 % of battles with a refusal
REFUSE = {m: (0.09 if m == "cautious" else 0.002) for m in MODELS}


def planted_battles(
    n: int, seed: int = 0, effect: float = 1.5
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """(battle table, pair features, truth) for ``n`` battles; truth holds the planted refusal share."""
    rng = np.random.default_rng([seed, n])
    k = len(MODELS)
    a = rng.integers(0, k, n)
    b = (a + rng.integers(1, k, n)) % k
    names = np.array(MODELS, dtype=object)
    tok_a = rng.lognormal(np.array([VERBOSITY[m] for m in names[a]]), 0.5)
    tok_b = rng.lognormal(np.array([VERBOSITY[m] for m in names[b]]), 0.5)
    ref_a = rng.random(n) < np.array([REFUSE[m] for m in names[a]])
    ref_b = rng.random(n) < np.array([REFUSE[m] for m in names[b]])
    counts = {
        f: (rng.poisson(1.5, n), rng.poisson(1.5, n)) for f in ("header_count", "list_count", "bold_count")
    }
    emoji = (rng.random(n) < 0.05).astype(float), (rng.random(n) < 0.05).astype(float)

    def norm(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (x - y) / (x + y + 1)

    X = pd.DataFrame(
        {
            "tokens": norm(tok_a, tok_b),
            **{f: norm(*counts[f]) for f in counts},
            "emoji_count": norm(*emoji),
            "refusal": ref_a.astype(float) - ref_b.astype(float),
        }
    )
    s = np.array([STRENGTH[m] for m in names[a]]) - np.array([STRENGTH[m] for m in names[b]])
    eta = s + LENGTH_EFFECT * X["tokens"].to_numpy() - effect * X["refusal"].to_numpy()
    y = rng.random(n) < expit(eta)
    df = pd.DataFrame(
        {
            "model_a": names[a],
            "model_b": names[b],
            "prompt": [f"prompt {i // 2}" for i in range(n)],  # two battles per prompt
            "response_a": "a",
            "response_b": "b",
            "winner": np.where(y, "model_a", "model_b"),
            "judge": "simulated",
        }
    )
    truth = {"refusal_battles": float((X["refusal"] != 0).mean()), "effect": effect}
    return df, X, truth
