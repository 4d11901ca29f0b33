"""The LMArena-shaped battle stream of ``bench/cluster.py``: one partition = a pure function of its index.

A module of its own so workers import it (the benchmark puts ``bench/`` on their path) instead of
receiving the function's code with every task.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

N_MODELS = 200
FEATURES = ["tokens", "header_count", "list_count", "bold_count"]
TRUE_GAMMA = np.array([0.30, 0.05, 0.10, 0.08])  # per (approximate) SD of each pair feature
PAIR_SD = np.array([0.35, 0.30, 0.40, 0.40])  # fixed scale of the truth (the fit standardises by the data)
LN10 = math.log(10)


def arena_chunk(seed: int, index: int, rows: int, n_models: int = N_MODELS) -> pd.DataFrame:
    """Partition ``index`` of the stream: ``rows`` battles, a pure function of its arguments."""
    habits = np.random.default_rng([seed, 0])
    pop = 1.0 / np.arange(1, n_models + 1) ** 0.9
    pop /= pop.sum()
    beta = habits.normal(0, 0.3, n_models)
    tok_mu = habits.normal(6.0, 0.5, n_models)
    md = habits.gamma(2.0, 1.0, n_models)
    rng = np.random.default_rng([seed, 1, index])
    cdf = np.cumsum(pop)
    a = np.minimum(np.searchsorted(cdf, rng.random(rows)), n_models - 1)
    b = np.minimum(np.searchsorted(cdf, rng.random(rows)), n_models - 1)
    clash = a == b
    b[clash] = (b[clash] + 1 + rng.integers(0, n_models - 1, int(clash.sum()))) % n_models

    def side(m: np.ndarray) -> list[np.ndarray]:
        return [
            np.maximum(1.0, rng.lognormal(tok_mu[m], 0.6)),
            rng.poisson(md[m] * 1.2).astype(np.float64),
            rng.poisson(md[m] * 4.0).astype(np.float64),
            rng.poisson(md[m] * 2.1).astype(np.float64),
        ]

    sa, sb = side(a), side(b)
    X = np.column_stack([(x - y) / (x + y + 1.0) for x, y in zip(sa, sb, strict=True)])
    p = 1.0 / (1.0 + np.exp(-(LN10 * (beta[a] - beta[b]) + (X / PAIR_SD) @ TRUE_GAMMA)))
    tie = rng.random(rows) < 0.3
    q = np.clip((p - 0.15) / 0.7, 0.0, 1.0)
    y = np.where(tie, 0.5, (rng.random(rows) < q).astype(np.float64))
    names = pd.Index([f"model-{i:03d}" for i in range(n_models)])
    frame = pd.DataFrame(
        {
            "model_a": pd.Categorical.from_codes(a, categories=names),
            "model_b": pd.Categorical.from_codes(b, categories=names),
            "pref_a": y,
        }
    )
    for j, name in enumerate(FEATURES):
        frame[name] = X[:, j]
    return frame
