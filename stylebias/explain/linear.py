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

The fit reuses the Bradley-Terry solver of :mod:`stylebias.rating` (Newton with the exact Hessian). Its single
penalty ``reg`` is turned into per-feature penalties by rescaling each column: ``reg_k/2 gamma_k^2`` on
column ``z_k`` equals ``reg/2 g_k^2`` on column ``z_k sqrt(reg/reg_k)`` with ``g_k = gamma_k sqrt(reg_k/reg)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from .votemodel import lookup

LN10 = math.log(10.0)

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
class LinearDesign:
    """Battles of one training set prepared once for many penalty settings (models encoded, pairs sorted)."""

    models: list[str]
    order: np.ndarray
    layout: object
    y: np.ndarray
    Z: np.ndarray  # pair features / scale, in pair order
    weights: np.ndarray | None

    @classmethod
    def build(
        cls,
        model_a: np.ndarray,
        model_b: np.ndarray,
        y: np.ndarray,
        X: np.ndarray,
        scale: np.ndarray,
        weights: np.ndarray | None = None,
    ) -> LinearDesign:
        from ..rating.design import encode_models
        from ..rating.solver import PairLayout

        enc = encode_models(model_a, model_b)
        order = np.argsort(enc.pair, kind="stable")
        layout = PairLayout.from_sorted(enc.pair[order], enc.pair_a, enc.pair_b, len(enc.models))
        safe = np.where(scale > 0, scale, 1.0)
        Z = np.asarray(X, dtype=np.float64)[order] / safe
        w = None if weights is None else np.asarray(weights, dtype=np.float64)[order]
        return cls(list(enc.models), order, layout, np.asarray(y, dtype=np.float64)[order], Z, w)

    def with_weights(self, weights: np.ndarray | None) -> LinearDesign:
        """Same battles, other frequency weights (given in the original row order), e.g. a bootstrap draw."""
        w = None if weights is None else np.asarray(weights, dtype=np.float64)[self.order]
        return LinearDesign(self.models, self.order, self.layout, self.y, self.Z, w)


@dataclass
class LinearFit:
    """Fitted strengths (natural log-odds) and style coefficients (log-odds per raw unit of the pair feature)."""

    strength: dict[str, float]
    coef: np.ndarray  # one per column of X (0 for a left-out feature)
    gamma: np.ndarray  # per SD (= coef * scale)
    theta: np.ndarray  # solver parameters (warm start for refits)
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
    design: LinearDesign,
    scale: np.ndarray,
    feature_reg: np.ndarray,
    strength_reg: float,
    init: LinearFit | None = None,
) -> LinearFit:
    """Penalised side-blind BT + style fit (module docstring); ``feature_reg`` inf leaves a feature out.

    Callers fitting many candidates limit BLAS to one thread once around the loop (as ``StyleBT.fit`` does
    per fit): the only BLAS work is the Cholesky factorisation of a small Hessian.
    """
    from ..rating.likelihood import tie_model
    from ..rating.solver import Problem, newton

    keep = np.flatnonzero(np.isfinite(feature_reg) & (scale > 0))
    factor = np.sqrt(strength_reg / feature_reg[keep])
    Z = design.Z[:, keep] * factor if len(keep) else None
    P = len(design.models)
    problem = Problem(design.layout, design.y, Z, tie_model("half"), strength_reg, design.weights)
    theta0 = np.zeros(P + len(keep))
    if init is not None and len(init.theta) == len(theta0):
        theta0 = init.theta
    theta, info = newton(problem, theta0, xtol=1e-8, max_iter=100)
    gamma = np.zeros(len(scale))
    gamma[keep] = theta[P:] * factor
    coef = np.zeros(len(scale))
    coef[keep] = gamma[keep] / scale[keep]
    strength = {m: float(LN10 * b) for m, b in zip(design.models, theta[:P], strict=True)}
    return LinearFit(strength, coef, gamma, theta, bool(info.converged))


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
