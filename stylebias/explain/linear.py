"""The linear part of the vote model: side-blind Bradley-Terry + style with one penalty per feature kind.

    logit P(A wins) = ln10 (beta_A - beta_B) + sum_k gamma_k x_k / s_k

``x`` are the raw antisymmetric pair features and ``s_k`` their root mean square. There is no intercept and no
centring, so swapping the two sides turns P into 1 - P exactly and x = 0 (both answers alike) means "no style
term". The objective is the Bradley-Terry one (summed log-loss, ties 0.5, soft preferences as given) with
separate ridge penalties:

    strength_reg / 2 ||beta||^2  +  sum_k reg_k / 2 gamma_k^2

``reg_k`` is :data:`LENGTH_REG` for the length feature the length-only baseline uses (``tokens``) and
``style_reg`` for every other style feature (``inf`` = the feature is left out). So ``style_reg -> inf`` gives
"strength + length" and the family runs from the length-only model to the full BT + style model; the
penalties are chosen by grouped cross-validation (:mod:`stylebias.explain.select`).

The fit is the package's one Bradley-Terry fit path (:func:`stylebias.rating.fit_design` with
``FitSettings(reg=strength_reg)``), so the vote model's strengths are rated exactly like ``rank``'s. Its single
penalty ``reg`` is turned into per-feature penalties by rescaling each column: ``reg_k/2 gamma_k^2`` on column
``z_k`` equals ``reg/2 g_k^2`` on column ``z_k sqrt(reg/reg_k)`` with ``g_k = gamma_k sqrt(reg_k/reg)``. The
columns are given with a fixed standardisation (mean 0, scale 1), so the fit does not centre them. A
disconnected comparison graph is fitted as one (:func:`join_parts`): one set of style coefficients over every
part, each part's strengths identified by the penalty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from ..errors import DataError
from ..rating import Design, RankResult
from ..rating.solver import LN10
from .votemodel import lookup

#: Penalty on the length feature (prior SD 1 log-odds per SD of the pair feature: length is expected to matter).
LENGTH_REG = 1.0
#: The feature the length-only baseline uses; it gets :data:`LENGTH_REG` in the linear vote model.
LENGTH_FEATURE = "tokens"


def feature_scale(X: np.ndarray) -> np.ndarray:
    """Root mean square of each pair-feature column (its SD when sides are balanced); 0 for an all-zero column."""
    if X.shape[0] == 0:
        return np.zeros(X.shape[1])
    return np.sqrt(np.mean(np.asarray(X, dtype=np.float64) ** 2, axis=0))


@dataclass
class LinearFit:
    """Fitted strengths (natural log-odds) and style coefficients (log-odds per raw unit of the pair feature)."""

    strength: dict[str, float]
    coef: np.ndarray  # one per column of X (0 for a left-out feature)
    gamma: np.ndarray  # per SD (= coef * scale)
    result: RankResult  # the Bradley-Terry fit, estimators only (warm start for refits; no rating tables)
    converged: bool

    def margin(self, model_a: np.ndarray, model_b: np.ndarray, X: np.ndarray) -> np.ndarray:
        return (
            lookup(self.strength, model_a)
            - lookup(self.strength, model_b)
            + np.asarray(X, np.float64) @ self.coef
        )


def penalties(features: list[str], style_reg: float) -> np.ndarray:
    """Per-feature penalty: :data:`LENGTH_REG` for the length feature, ``style_reg`` for the others."""
    return np.array([LENGTH_REG if f == LENGTH_FEATURE else style_reg for f in features], dtype=np.float64)


def fit_linear(
    model_a: np.ndarray,
    model_b: np.ndarray,
    y: np.ndarray,
    X: np.ndarray,
    features: list[str],
    feature_reg: np.ndarray,
    strength_reg: float,
    *,
    scale: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    init: LinearFit | None = None,
) -> LinearFit:
    """Penalised side-blind BT + style fit (module docstring); ``feature_reg`` inf leaves a feature out.

    ``scale`` is the columns' root mean square (default: of ``X``; a bootstrap refit passes the unweighted
    one), ``weights`` frequency weights (a bootstrap draw), ``init`` a previous fit to warm-start from (same
    optimum, fewer Newton steps). The fit's notices (separation, a disconnected graph) are warnings; callers
    fitting many candidates silence them once, around the loop.
    """
    from ..rating import FitSettings, fit_design

    X = np.asarray(X, dtype=np.float64)
    scale = feature_scale(X) if scale is None else scale
    keep = np.flatnonzero(np.isfinite(feature_reg) & (scale > 0))
    factor = np.sqrt(strength_reg / feature_reg[keep])
    names = [features[k] for k in keep]
    Z = pd.DataFrame(X[:, keep] / scale[keep] * factor, columns=names)
    fixed = (np.zeros(len(keep)), np.ones(len(keep)))  # already scaled, never centred
    design = Design(
        model_a, model_b, y, Z if len(keep) else None, weights, scaling=fixed if len(keep) else None
    )
    settings = FitSettings(features=tuple(names) or None, reg=strength_reg, components="refuse")
    start = None if init is None else init.result
    try:  # only the estimators are read: no rating tables (tables=False)
        result = fit_design(design, settings, raw=False, init=start, tables=False)
    except DataError:
        joined = join_parts(design)
        if joined is None:  # connected: the error is about something else
            raise
        result = fit_design(joined, settings, raw=False, init=start, tables=False)
    est = result.controlled
    gamma = np.zeros(len(scale))
    used = [features.index(f) for f in est.feature_names_]
    gamma[used] = (
        np.asarray(est.coef_, dtype=np.float64) * factor[[names.index(f) for f in est.feature_names_]]
    )
    coef = np.zeros(len(scale))
    coef[used] = gamma[used] / scale[used]
    strength = {str(m): float(LN10 * b) for m, b in zip(est.models_, est.beta_, strict=True)}
    return LinearFit(strength, coef, gamma, result, bool(est.converged_))


def join_parts(design: Design) -> Design | None:
    """A disconnected design made one graph by a weight-0 battle from the largest part to each other part.

    The vote model has one set of style coefficients for every battle, so its fit spans every part of the
    comparison graph (``fit_design`` fits one connected graph at a time). A weight-0 battle adds nothing to the
    likelihood, its gradient or its Hessian, so the optimum is the joint penalised fit: shared style
    coefficients, and each part's strengths identified by the penalty (their mean is 0 per part). ``None``
    when the design is connected.
    """
    from ..rating.design import components, encode_models

    enc = encode_models(design.model_a, design.model_b)
    comp = components(enc.a, enc.b, len(enc.models))
    parts = int(comp.max()) + 1 if len(comp) else 1
    if parts == 1:
        return None
    first = [enc.models[int(np.flatnonzero(comp == c)[0])] for c in range(parts)]
    k = parts - 1
    X = design.X
    if X is not None:
        X = pd.concat([X, pd.DataFrame(np.zeros((k, X.shape[1])), columns=X.columns)], ignore_index=True)
    w = np.ones(len(design)) if design.weights is None else np.asarray(design.weights, dtype=np.float64)
    return Design(
        np.concatenate([np.asarray(design.model_a, dtype=object), np.array(first[:1] * k, dtype=object)]),
        np.concatenate([np.asarray(design.model_b, dtype=object), np.array(first[1:], dtype=object)]),
        np.concatenate([np.asarray(design.pref_a, dtype=np.float64), np.full(k, 0.5)]),
        X,
        np.concatenate([w, np.zeros(k)]),
        scaling=design.scaling,
    )


def fit_logistic(
    D: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None, ridge: float = 1e-6
) -> np.ndarray:
    """Logistic regression on a small dense design (soft labels, frequency weights), Newton's method."""
    D = np.asarray(D, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
    beta = np.zeros(D.shape[1])
    eye = ridge * np.eye(D.shape[1])
    for _ in range(60):
        p = expit(D @ beta)
        g = D.T @ (w * (p - y)) + ridge * beta
        H = (D * (w * p * (1 - p))[:, None]).T @ D + eye
        step = np.linalg.solve(H, g)
        beta -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta
