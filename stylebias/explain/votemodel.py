"""The vote model: LightGBM on antisymmetric pair features, with model strength as an offset.

P(A wins) = sigma(offset + g(x)), where

* ``offset`` is the Bradley-Terry strength difference ``ln10 * (beta_A - beta_B)`` of a style-controlled
  :class:`~stylebias.rating.StyleBT` fit (one fit per connected component of the comparison graph; a model
  the fit never saw gets 0, the prior mean of the penalised fit), or, for the style-only variant, a constant
  intercept logit(mean pref_a) of the training votes;
* ``g`` is a LightGBM model of the pair features made *side-blind*: it is trained on every battle both ways
  round (x, y, offset) and (-x, 1 - y, -offset), and predicts ``g(x) = (f(x) - f(-x)) / 2``. So g(0) = 0 exactly
  (no style difference, no style effect), g(-x) = -g(x) (swapping the screen sides swaps the prediction), and
  screen position can never be credited to style.

The objective is LightGBM's ``cross_entropy`` (labels in [0, 1]): soft preferences and ties (0.5) are used as
given, which is exactly the log-loss every model and baseline is scored on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from ..errors import UsageError
from ..rating.solver import LN10

EPS = 1e-15

#: Small, regularised, deterministic LightGBM settings (see docs/explain.md for why each).
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "cross_entropy",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "max_depth": 6,
    "min_data_in_leaf": 50,
    "lambda_l2": 1.0,
    "feature_fraction": 1.0,
    "bagging_fraction": 1.0,
    "max_bin": 255,
    "num_threads": 1,
    "deterministic": True,
    "force_row_wise": True,
    "seed": 0,
    "verbose": -1,
}
MAX_ROUNDS = 400
EARLY_STOPPING = 30


# ---------------------------------------------------------------------------------------------------- metrics
def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy of P(A wins) against pref_a (ties 0.5, soft values as given)."""
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    y = np.asarray(y, dtype=np.float64)
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log1p(-p))))


def brier(p: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error of P(A wins) against pref_a."""
    return float(np.mean((np.asarray(p, dtype=np.float64) - np.asarray(y, dtype=np.float64)) ** 2))


def auc(p: np.ndarray, y: np.ndarray) -> float:
    """Area under the ROC curve on non-tie battles (pref_a != 0.5; A won when pref_a > 0.5); NaN if one class."""
    from scipy.stats import rankdata

    y = np.asarray(y, dtype=np.float64)
    keep = y != 0.5
    pos = y[keep] > 0.5
    s = np.asarray(p, dtype=np.float64)[keep]
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    r = rankdata(s)
    return float((r[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def calibration(p: np.ndarray, y: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Equal-width bins of predicted P(A wins): count, mean prediction, mean observed pref_a (empty bins dropped)."""
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    n = np.bincount(idx, minlength=bins)
    sp = np.bincount(idx, p, minlength=bins)
    sy = np.bincount(idx, y, minlength=bins)
    keep = n > 0
    return pd.DataFrame(
        {
            "bin_low": edges[:-1][keep],
            "bin_high": edges[1:][keep],
            "battles": n[keep],
            "predicted": sp[keep] / n[keep],
            "observed": sy[keep] / n[keep],
        }
    )


def scores(p: np.ndarray, y: np.ndarray) -> dict[str, float]:
    return {"log_loss": log_loss(p, y), "brier": brier(p, y), "auc": auc(p, y)}


# ---------------------------------------------------------------------------------------------------- strength
@dataclass
class StrengthFit:
    """Style-controlled Bradley-Terry strengths (natural log-odds), one StyleBT per connected component."""

    strength: dict[str, float]
    fits: list[Any] = field(default_factory=list)  # StyleBT per component (for the BT + style baseline)
    component: dict[str, int] = field(default_factory=dict)

    def offset(self, model_a: Sequence[str], model_b: Sequence[str]) -> np.ndarray:
        """ln10 (beta_A - beta_B) per battle; a model the fit never saw counts as 0."""
        s = pd.Series(self.strength, dtype=np.float64)
        a = pd.Series(np.asarray(model_a, dtype=object)).map(s).fillna(0.0).to_numpy(dtype=np.float64)
        b = pd.Series(np.asarray(model_b, dtype=object)).map(s).fillna(0.0).to_numpy(dtype=np.float64)
        return a - b

    def bt_margin(self, model_a: Sequence[str], model_b: Sequence[str], X: pd.DataFrame) -> np.ndarray:
        """The BT + style baseline's log-odds: strength difference + its component's style term."""
        eta = self.offset(model_a, model_b)
        comp = pd.Series(np.asarray(model_a, dtype=object)).map(self.component)
        comp_b = pd.Series(np.asarray(model_b, dtype=object)).map(self.component)
        comp = comp.fillna(comp_b).fillna(-1).to_numpy(dtype=np.int64)
        for c, bt in enumerate(self.fits):
            rows = np.flatnonzero(comp == c)
            if len(rows) and len(bt.coef_):
                z = (
                    X.iloc[rows][bt.feature_names_].to_numpy(np.float64) - bt.feature_mean_
                ) / bt.feature_scale_
                eta[rows] += z @ bt.coef_
        return eta


def fit_strength(
    model_a: Sequence[str],
    model_b: Sequence[str],
    pref_a: np.ndarray,
    X: pd.DataFrame | None,
    reg: float = 0.5,
    side_blind: bool = True,
) -> StrengthFit:
    """Fit StyleBT (style-controlled, FastChat objective) per connected component; strengths in log-odds.

    ``side_blind=True`` (the vote model's offset) fits every battle both ways round with weight 1/2 each, so
    the pair features have mean exactly 0, StyleBT's centring is a no-op and ``beta`` is each model's strength
    at *zero* style difference, with no screen-side term. (Plain StyleBT centres z at the average style
    difference, which leaves a constant ``gamma . mean/scale`` acting as an A-side bias - on AlpacaEval, where
    A is always the baseline, it would count the baseline's length once in the offset and again in g.)
    ``side_blind=False`` is plain StyleBT, the BT + style baseline.
    """
    import warnings

    from ..rating import Design, FitSettings, fit_design

    A = np.asarray(model_a, dtype=object)
    B = np.asarray(model_b, dtype=object)
    y = np.asarray(pref_a, dtype=np.float64)
    design = Design(A, B, y, X)
    if side_blind:
        Xs = None if X is None else pd.concat([X, -X], ignore_index=True)
        yy = np.concatenate([y, 1 - y])
        design = Design(np.concatenate([A, B]), np.concatenate([B, A]), yy, Xs, np.full(len(yy), 0.5))
    strength: dict[str, float] = {}
    fits = []
    component: dict[str, int] = {}
    if len(y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # separation / dropped-feature notices belong to `rank`
            result = fit_design(design, FitSettings(reg=reg), raw=False)
        for part in result.all_parts():
            bt = part.controlled
            fits.append(bt)
            for m, beta in zip(bt.models_, bt.beta_, strict=True):
                strength[str(m)] = float(LN10 * beta)
                component[str(m)] = part.component
    return StrengthFit(strength, fits, component)


# ---------------------------------------------------------------------------------------------------- baselines
def fit_length_logistic(tokens: np.ndarray, y: np.ndarray, ridge: float = 1e-6) -> tuple[float, float]:
    """Logistic regression of pref_a on the length pair feature with an intercept (Newton, soft labels)."""
    x = np.asarray(tokens, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    D = np.column_stack([np.ones_like(x), x])
    w = np.zeros(2)
    for _ in range(50):
        p = expit(D @ w)
        g = D.T @ (p - y) + ridge * w
        H = (D * (p * (1 - p))[:, None]).T @ D + ridge * np.eye(2)
        step = np.linalg.solve(H, g)
        w -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(w[0]), float(w[1])


# ---------------------------------------------------------------------------------------------------- LightGBM
def _augment(X: np.ndarray, y: np.ndarray, init: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.vstack([X, -X]), np.concatenate([y, 1 - y]), np.concatenate([init, -init])


def train_booster(
    X: np.ndarray,
    y: np.ndarray,
    init: np.ndarray,
    params: dict[str, Any],
    rounds: int,
    valid: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> Any:
    """Train on the side-swapped augmentation; with ``valid``, stop early on its (augmented) log-loss."""
    import lightgbm as lgb

    Xa, ya, ia = _augment(X, y, init)
    train = lgb.Dataset(Xa, label=ya, init_score=ia, params={"verbose": -1}, free_raw_data=True)
    kwargs: dict[str, Any] = {}
    if valid is not None:
        Xv, yv, iv = _augment(*valid)
        vset = lgb.Dataset(Xv, label=yv, init_score=iv, reference=train, params={"verbose": -1})
        kwargs = {
            "valid_sets": [vset],
            "callbacks": [lgb.early_stopping(EARLY_STOPPING, first_metric_only=True, verbose=False)],
        }
    p = {**params, "metric": "cross_entropy"}
    return lgb.train(p, train, num_boost_round=rounds, **kwargs)


def side_blind_margin(booster: Any, X: np.ndarray) -> np.ndarray:
    """g(x) = (f(x) - f(-x)) / 2: the style part of the log-odds, exactly antisymmetric."""
    if booster is None or X.shape[0] == 0:
        return np.zeros(X.shape[0])
    both = booster.predict(np.vstack([X, -X]), raw_score=True)
    n = X.shape[0]
    return (both[:n] - both[n:]) / 2.0


@dataclass
class VoteModel:
    """A fitted vote model: LightGBM booster, feature list, strength offsets (or intercept), settings, metrics.

    ``predict_proba(model_a, model_b, X)`` = sigma(offset + g(X)). ``contributions(X)`` = per-feature TreeSHAP of
    g (LightGBM's built-in TreeSHAP, symmetrised the same way), so ``offset + contributions.sum(1)`` is the margin.
    """

    features: list[str]
    booster: Any
    strength: dict[str, float]
    intercept: float = 0.0
    use_strength: bool = True
    params: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_PARAMS))
    num_rounds: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    trained_on: dict[str, Any] = field(default_factory=dict)

    def matrix(self, X: pd.DataFrame) -> np.ndarray:
        missing = [f for f in self.features if f not in X.columns]
        if missing:
            raise UsageError(f"the vote model needs feature(s) {', '.join(missing)} that were not computed")
        return X[self.features].to_numpy(dtype=np.float64)

    def offset(self, model_a: Sequence[str], model_b: Sequence[str]) -> np.ndarray:
        if not self.use_strength:
            return np.full(len(model_a), self.intercept)
        return StrengthFit(self.strength).offset(model_a, model_b)

    def style_margin(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        arr = self.matrix(X) if isinstance(X, pd.DataFrame) else np.asarray(X, dtype=np.float64)
        return side_blind_margin(self.booster, arr)

    def decision_function(
        self, model_a: Sequence[str], model_b: Sequence[str], X: pd.DataFrame
    ) -> np.ndarray:
        return self.offset(model_a, model_b) + self.style_margin(X)

    def predict_proba(self, model_a: Sequence[str], model_b: Sequence[str], X: pd.DataFrame) -> np.ndarray:
        """P(A wins) per battle."""
        return expit(self.decision_function(model_a, model_b, X))

    def contributions(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Per-feature TreeSHAP values of g on the log-odds scale, shape (n, K); rows sum to g(x)."""
        arr = self.matrix(X) if isinstance(X, pd.DataFrame) else np.asarray(X, dtype=np.float64)
        n, k = arr.shape
        if self.booster is None or n == 0:
            return np.zeros((n, k))
        both = self.booster.predict(np.vstack([arr, -arr]), pred_contrib=True)
        return (both[:n, :k] - both[n:, :k]) / 2.0

    def model_string(self) -> str:
        return "" if self.booster is None else str(self.booster.model_to_string())


def fit_vote_model(
    model_a: Sequence[str],
    model_b: Sequence[str],
    pref_a: np.ndarray,
    X: pd.DataFrame,
    *,
    rounds: int,
    params: dict[str, Any] | None = None,
    use_strength: bool = True,
    strength: StrengthFit | None = None,
    reg: float = 0.5,
) -> VoteModel:
    """Fit on all given battles with a fixed number of rounds (chosen by cross-validation)."""
    params = {**DEFAULT_PARAMS, **(params or {})}
    y = np.asarray(pref_a, dtype=np.float64)
    features = list(X.columns)
    if use_strength:
        sf = strength if strength is not None else fit_strength(model_a, model_b, y, X, reg=reg)
        init = sf.offset(model_a, model_b)
        s, intercept = sf.strength, 0.0
    else:
        prior = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
        intercept = math.log(prior / (1 - prior))
        init = np.full(len(y), intercept)
        s = {}
    booster = train_booster(X.to_numpy(np.float64), y, init, params, max(int(rounds), 1))
    return VoteModel(features, booster, s, intercept, use_strength, params, int(rounds))
