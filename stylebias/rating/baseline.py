"""Baseline-anchored scores: each model's win rate against one baseline, 0-100, from stylebias's own fits.

Benchmarks judged against a fixed baseline (Arena-Hard-Auto, AlpacaEval) publish a *score*: the expected
share of wins against the baseline, ``100 / (1 + 10^((r_baseline - r_model) / 400))`` on the Elo scale
(Arena-Hard-Auto's ``predict_win_rate``), which is ``100 * sigma(L * (beta_m - beta_b))``. Three readings:

* ``score_raw``: from the fit without style control;
* ``score``: from the style-controlled fit at ``z = 0``, i.e. at the *average* standardised style gap of the
  battles. With the baseline on side B of every battle it plays (``Design.toward``, which ``FitSettings.
  baseline`` asks for), that is the pool's average style gap between the judged models and the baseline:
  Arena-Hard-Auto's reading. It moves when a model joins the pool, because the average gap moves;
* ``score_equal_style``: the same fit at *equal style* (raw pair features 0: both answers alike), ``100 *
  sigma(L * (beta_m - beta_b) - gamma . mean / scale)``. It does not depend on which other models are in
  the pool, only on the fitted effects; it is what stylebias recommends reading.

Intervals come from the fit's own uncertainty at its level: the sandwich covariance of the contrast (delta
method through ``gamma`` for the equal-style reading) or the bootstrap replicates. An upstream scorer's own
numbers (its bootstrap and optimiser) are :mod:`stylebias.rating.arena_hard`'s.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from ..errors import UsageError
from .estimator import StyleBT

#: Per-model score columns, in ``--json``/``--csv`` order.
SCORE_COLUMNS = (
    "score_raw",
    "score_raw_low",
    "score_raw_high",
    "score",
    "score_low",
    "score_high",
    "score_equal_style",
    "score_equal_style_low",
    "score_equal_style_high",
)


def win_rate(logit: np.ndarray) -> np.ndarray:
    """Percent from natural log-odds (the score formula, ``100 / (1 + 10^(-delta_elo / 400))``)."""
    return 100.0 * expit(np.asarray(logit, dtype=np.float64))


def contrast_scores(bt: StyleBT, baseline: str, *, equal_style: bool = False) -> pd.DataFrame:
    """``model, score, low, high`` against ``baseline`` from one fit (percent, the fit's interval level).

    ``equal_style``: read at raw pair features 0 instead of at the battles' average style gap.
    """
    if baseline not in bt.models_:
        raise UsageError(f"--baseline: model {baseline!r} is not among the rated models")
    P, K = bt.n_models_, len(bt.coef_)
    i = bt.models_.index(baseline)
    L = bt.model_scale_
    shift = np.zeros(K)
    if equal_style and K:
        shift = -np.asarray(bt.feature_mean_) / np.asarray(bt.feature_scale_)  # z of a zero raw gap
    logit = L * (bt.beta_ - bt.beta_[i]) + float(np.asarray(bt.coef_) @ shift)
    lo_q, hi_q = 0.5 - bt.level / 2, 0.5 + bt.level / 2
    if bt.boot_theta_ is not None:
        boot = bt.boot_theta_
        draws = L * (boot[:, :P] - boot[:, [i]]) + (boot[:, P : P + K] @ shift)[:, None]
        low, high = np.quantile(draws, [lo_q, hi_q], axis=0)
    else:
        V = bt.covariance_
        # gradient of the logit of model m with respect to theta: L at m, -L at the baseline, shift on gamma
        G = np.zeros((P, len(bt.theta_)))
        G[np.arange(P), np.arange(P)] += L
        G[:, i] -= L
        G[:, P : P + K] = shift
        var = np.einsum("ij,jk,ik->i", G, V, G)
        half = NormalDist().inv_cdf(hi_q) * np.sqrt(np.maximum(var, 0.0))
        low, high = logit - half, logit + half
    out = pd.DataFrame(
        {"model": bt.models_, "score": win_rate(logit), "low": win_rate(low), "high": win_rate(high)}
    )
    base = out["model"] == baseline
    out.loc[base, ["score", "low", "high"]] = 50.0
    return out


def baseline_scores(controlled: StyleBT, raw: StyleBT, baseline: str) -> pd.DataFrame:
    """The :data:`SCORE_COLUMNS` of every model against ``baseline`` from stylebias's raw and controlled
    fits (one row per model of the controlled fit)."""
    tables = {
        "score_raw": contrast_scores(raw, baseline),
        "score": contrast_scores(controlled, baseline),
        "score_equal_style": contrast_scores(controlled, baseline, equal_style=True),
    }
    out = pd.DataFrame({"model": controlled.models_})
    for name, t in tables.items():
        t = t.set_index("model").reindex(out["model"])
        out[name] = t["score"].to_numpy()
        out[f"{name}_low"] = t["low"].to_numpy()
        out[f"{name}_high"] = t["high"].to_numpy()
    return out


def baseline_info(
    baseline: str, level: float, parity: str | None, extra: dict[str, Any] | None = None
) -> dict:
    """The ``baseline`` block of a ranking's JSON: which model, how each score column was computed."""
    pct = round(level * 100)
    info: dict[str, Any] = {
        "model": baseline,
        "parity": parity,
        "formula": "100 / (1 + 10^((r_baseline - r_model) / 400))",
        "level": level,
        "level_equal_style": level,
        "score_raw": f"stylebias's fit without style control, {pct}% interval of the fit",
        "score": "stylebias's style-controlled fit at the battles' average style gap to the baseline "
        f"(Arena-Hard-Auto's reading), {pct}% interval of the fit",
        "score_equal_style": "stylebias's style-controlled fit with no style difference to the baseline, "
        f"{pct}% interval of the fit",
    }
    info.update(extra or {})
    return info
