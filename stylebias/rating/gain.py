"""What style bought each model: raw minus controlled rating, with an interval for that difference.

``style_gain = rating_raw - rating``, in Elo, on a scale whose zero is stated: both fits are centred on the
average model (the mean rating is ``base`` in each, so the gain is relative to the average model), or both
are anchored on the same model (the gain is relative to that model, whose own gain is 0). Positive: the
model's raw rating owes that much to style; negative: style cost it that much. The leaderboard's Δ column,
its JSON/CSV, and every sentence about what style bought a model read this one number.

The interval is for the *difference* of two fits on the same battles, which are strongly correlated, so
adding the two rating variances would overstate it several-fold. Sandwich: the two fits are one stacked
M-estimator, so ``Cov(raw, controlled) = H_raw^-1 B_cross H_ctrl^-1`` with ``B_cross`` the centred, HC1-scaled
cross moment of the two fits' per-battle scores. Bootstrap: both fits draw the same per-battle Poisson
weights in every replicate (the raw fit is then not collapsed into outcome cells), so the replicate
differences are paired and their percentiles give the interval.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from .design import encode_models
from .estimator import StyleBT
from .likelihood import tie_model
from .solver import PairLayout, Problem, solve_psd

#: The model table's columns for what style bought each model (Elo, raw minus controlled).
GAIN_COLUMNS = ("style_gain", "style_gain_low", "style_gain_high")


def gain_reference(controlled: StyleBT) -> str | None:
    """The model the gain is relative to (the anchor), or ``None``: relative to the average model."""
    anchor = controlled.anchor
    return None if anchor is None else str(anchor[0])


def describe_reference(controlled: StyleBT) -> str:
    """Where the zero of the ratings and of the gain is, in words, for table captions and sentences."""
    anchor = controlled.anchor
    if anchor is None:
        return f"relative to the average model (each fit centred at {controlled.base:g})"
    return f"relative to {anchor[0]} (pinned at {float(anchor[1]):g} in both fits)"


def style_gain(
    controlled: StyleBT,
    raw: StyleBT,
    design: Any = None,
    *,
    paired_bootstrap: bool = False,
    cross: np.ndarray | None = None,
) -> pd.DataFrame:
    """``model, style_gain, style_gain_low, style_gain_high`` in the controlled fit's model order.

    ``design`` (a :class:`~stylebias.rating.fit.Design` of the battles both fits saw) gives the sandwich
    interval, or ``cross``: the two fits' score cross moment summed elsewhere (a partitioned fit adds up
    :func:`cross_sum` over its partitions and finishes it with :func:`finish_cross`); ``paired_bootstrap``
    says the two fits' bootstrap replicates used the same battle weights. Without any (a loaded result, or
    ``raw`` being the controlled fit itself) the interval is NaN.
    """
    models = list(controlled.models_)
    gain = raw.ratings_.reindex(models).to_numpy() - controlled.ratings_.to_numpy()
    low = high = np.full(len(models), np.nan)
    if raw is not controlled:
        if controlled.boot_theta_ is not None and raw.boot_theta_ is not None and paired_bootstrap:
            boot = raw.boot_ratings_[models].to_numpy() - controlled.boot_ratings_[models].to_numpy()
            q = np.quantile(boot, [0.5 - controlled.level / 2, 0.5 + controlled.level / 2], axis=0)
            low, high = q[0], q[1]
        elif controlled.boot_theta_ is None and (design is not None or cross is not None):
            var = gain_variance(controlled, raw, design, cross)
            half = NormalDist().inv_cdf(0.5 + controlled.level / 2) * np.sqrt(np.maximum(var, 0.0))
            low, high = gain - half, gain + half
    return pd.DataFrame({"model": models, "style_gain": gain, "style_gain_low": low, "style_gain_high": high})


def gain_variance(
    controlled: StyleBT, raw: StyleBT, design: Any, cross: np.ndarray | None = None
) -> np.ndarray:
    """Sandwich variance (Elo²) of each model's raw − controlled rating, from the joint covariance
    (``cross``: the finished score cross moment, when it was summed elsewhere; else from ``design``)."""
    models = list(controlled.models_)
    if list(raw.models_) != models or controlled.hessian_ is None or raw.hessian_ is None:
        return np.full(len(models), np.nan)
    if cross is None:
        cross = _design_cross(controlled, raw, design)
    cov = solve_psd(raw.hessian_, solve_psd(controlled.hessian_, cross.T).T)  # H_r^-1 B H_c^-1
    P = len(models)
    if controlled.reg == 0.0:  # the fits' covariances are of sum-zero contrasts (see intervals.sandwich)
        C = np.eye(P) - 1.0 / P
        cov[:P, :P] = C @ cov[:P, :P] @ C.T
    V_r, V_c, V_rc = raw.covariance_[:P, :P], controlled.covariance_[:P, :P], cov[:P, :P]
    if controlled.anchor is None:
        var = np.diag(V_r) + np.diag(V_c) - 2 * np.diag(V_rc)
    else:
        i = models.index(controlled.anchor[0])

        def contrast(V: np.ndarray) -> np.ndarray:
            return np.diag(V) + V[i, i] - V[:, i] - V[i, :]

        var = contrast(V_r) + contrast(V_c) - 2 * contrast(V_rc)
    return controlled.scale**2 * var


def _design_cross(controlled: StyleBT, raw: StyleBT, design: Any) -> np.ndarray:
    """The two fits' score cross moment over the battles of ``design``."""
    enc = encode_models(design.model_a, design.model_b)
    order = np.argsort(enc.pair, kind="stable")
    layout = PairLayout.from_sorted(enc.pair[order], enc.pair_a, enc.pair_b, len(enc.models))
    y = np.asarray(design.pref_a, dtype=np.float64)[order]
    w = None if design.weights is None else np.asarray(design.weights, dtype=np.float64)[order]
    Z = None
    if len(controlled.coef_):
        X = design.X[list(controlled.feature_names_)].to_numpy(dtype=np.float64)[order]
        Z = (X - controlled.feature_mean_) / controlled.feature_scale_
    tie = tie_model(controlled.ties)
    p_c = Problem(layout, y, Z, tie, controlled.reg, w, controlled.model_scale_)
    p_r = Problem(layout, y, None, tie, raw.reg, w, raw.model_scale_)
    return cross_moment(p_r, p_c, raw.theta_, controlled.theta_)


def cross_moment(p_r: Problem, p_c: Problem, theta_r: np.ndarray, theta_c: np.ndarray) -> np.ndarray:
    """``n/(n-q) * sum_i w_i (u_i^raw - mean)(u_i^ctrl - mean)^T``: the two fits' score cross moment."""
    B, n = cross_sum(p_r, p_c, theta_r, theta_c)
    return finish_cross(
        B, n, (p_r.reg, p_r.P + p_r.K, p_r.dim), (p_c.reg, p_c.P + p_c.K, p_c.dim), theta_r, theta_c
    )


def cross_sum(
    p_r: Problem, p_c: Problem, theta_r: np.ndarray, theta_c: np.ndarray
) -> tuple[np.ndarray, float]:
    """``sum_i w_i u_i^raw (u_i^ctrl)^T`` and ``sum_i w_i`` over one chunk of battles (sums over rows, so
    partitions add theirs up).

    The raw design row is the first ``P`` entries of the controlled one (the model columns), so every block
    is a slice of the controlled problem's ``second_moment`` with the product of the two fits' weights.
    """
    t_r, t_c = p_r.unit_terms(theta_r), p_c.unit_terms(theta_c)
    fw = np.ones_like(t_c.d_eta) if p_c.w is None else p_c.w
    P, K = p_c.P, p_c.K
    M = p_c.second_moment(fw * t_r.d_eta * t_c.d_eta)
    B = np.zeros((p_r.dim, p_c.dim))
    B[:P, : P + K] = M[:P, : P + K]
    if p_c.E:
        zero = np.zeros_like(fw)
        col = P + K
        B[:P, col] = p_c.second_moment(zero, fw * t_r.d_eta * t_c.d_tau)[:P, col]
        if p_r.E:
            B[P, : P + K] = p_c.second_moment(zero, fw * t_r.d_tau * t_c.d_eta)[col, : P + K]
            B[P, col] = float((fw * t_r.d_tau * t_c.d_tau).sum())
    return B, float(fw.sum())


def finish_cross(
    B: np.ndarray,
    n: float,
    fit_r: tuple[float, int, int],
    fit_c: tuple[float, int, int],
    theta_r: np.ndarray,
    theta_c: np.ndarray,
) -> np.ndarray:
    """The summed cross moment centred and HC1-scaled. ``fit_*`` = (reg, penalised coordinates, dim) of
    each fit: ``sum_i w_i u_i = -reg * theta`` on the penalised coordinates (0 for a tie parameter)."""
    (reg_r, pen_r, q_r), (reg_c, pen_c, q_c) = fit_r, fit_c
    B = B.copy()
    total_r, total_c = np.zeros(q_r), np.zeros(q_c)
    total_r[:pen_r] = -reg_r * theta_r[:pen_r]
    total_c[:pen_c] = -reg_c * theta_c[:pen_c]
    if n > 0:
        B -= np.outer(total_r, total_c) / n
    if n > max(q_r, q_c) + 1:
        B *= np.sqrt(n / (n - q_r) * n / (n - q_c))
    return B


def gain_sentence(row: Any, reference: str, level: float = 0.95) -> str:
    """What style bought one model, in words, from its model-table row (``model``, ``rating_raw``,
    ``rating``, ``style_gain*``): the same number, sign and interval as the Δ column."""
    gain, low, high = (float(row[c]) for c in GAIN_COLUMNS)
    pct = round(level * 100)
    verb = "bought" if gain >= 0 else "cost"
    ci = ""
    if np.isfinite(low) and np.isfinite(high):
        clear = "" if (low > 0 or high < 0) else "; not clearly different from 0"
        ci = f" ({pct}% CI {low:+.1f} to {high:+.1f}{clear})"
    return (
        f"Style {verb} {row['model']} {abs(gain):.1f} Elo{ci} {reference}: raw {float(row['rating_raw']):.1f} "
        f"− controlled {float(row['rating']):.1f} = {gain:+.1f}."
    )
