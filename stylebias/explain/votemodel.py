"""The vote model: P(A wins) = sigma(offset + w . x + g(x)), and the metrics every predictor is scored with.

* ``offset`` is the model-strength difference ``ln10 (beta_A - beta_B)`` of a side-blind Bradley-Terry fit
  (a model the fit never saw gets 0, the prior mean of the penalised fit), or a constant intercept for the
  models without strengths (the prior and the length-only logistic);
* ``w . x`` is a linear style term on the raw antisymmetric pair features (:mod:`stylebias.explain.linear`);
* ``g`` is an optional LightGBM model of what the linear terms miss, made *side-blind*: it is trained on every
  battle both ways round (x, y, init) and (-x, 1 - y, -init), with the linear margin as ``init``, and predicts
  ``g(x) = (f(x) - f(-x)) / 2``. So g(0) = 0 exactly, g(-x) = -g(x), and screen position can never be
  credited to style.

Which of these pieces a fitted model has, and how strongly each is penalised, is chosen from the data by
grouped cross-validation (:mod:`stylebias.explain.select`). The tree objective is LightGBM's
``cross_entropy`` (labels in [0, 1]): soft preferences and ties (0.5) are used as given, which is exactly the
log-loss every model and baseline is scored on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from ..errors import UsageError
from ..rating import FitSettings
from ..rating.solver import LN10

EPS = 1e-15

#: Deterministic LightGBM settings shared by every tree configuration (see docs/explain.md for why each).
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "cross_entropy",
    "learning_rate": 0.1,
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
MAX_ROUNDS = 200
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
def lookup(values: dict[str, float], keys: Sequence[str], default: float = 0.0) -> np.ndarray:
    """``values[k]`` for every key (``default`` for unknown keys), vectorised without a string-dtype copy."""
    index = pd.Index(list(values), dtype=object)
    pos = index.get_indexer(pd.Index(np.asarray(keys, dtype=object), dtype=object))
    table = np.append(np.fromiter(values.values(), dtype=np.float64, count=len(values)), default)
    return table[np.where(pos >= 0, pos, len(values))]


@dataclass
class StrengthFit:
    """Style-controlled Bradley-Terry strengths (natural log-odds), one StyleBT per connected component."""

    strength: dict[str, float]
    fits: list[Any] = field(default_factory=list)  # StyleBT per component (for the BT + style baseline)
    component: dict[str, int] = field(default_factory=dict)

    def offset(self, model_a: Sequence[str], model_b: Sequence[str]) -> np.ndarray:
        """ln10 (beta_A - beta_B) per battle; a model the fit never saw counts as 0."""
        return lookup(self.strength, model_a) - lookup(self.strength, model_b)

    def bt_margin(self, model_a: Sequence[str], model_b: Sequence[str], X: pd.DataFrame) -> np.ndarray:
        """The BT + style baseline's log-odds: strength difference + its component's style term."""
        eta = self.offset(model_a, model_b)
        known = {m: float(c) for m, c in self.component.items()}
        comp_a = lookup(known, model_a, -1.0)
        comp = np.where(comp_a >= 0, comp_a, lookup(known, model_b, -1.0)).astype(np.int64)
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
    settings: FitSettings | None = None,
    side_blind: bool = True,
) -> StrengthFit:
    """Fit StyleBT (style-controlled, FastChat objective) per connected component; strengths in log-odds.

    ``settings`` are the fit's (:class:`~stylebias.rating.FitSettings`; default: ``rank``'s, reg 0.5).
    ``side_blind=True`` fits every battle both ways round with weight 1/2 each, so the pair features have
    mean exactly 0, StyleBT's centring is a no-op and ``beta`` is each model's strength at *zero* style
    difference, with no screen-side term; it equals the linear vote model with one penalty for every feature
    (:func:`stylebias.explain.linear.fit_linear`). (Plain StyleBT centres z at the average style difference,
    which leaves a constant ``gamma . mean/scale`` acting as an A-side bias - on AlpacaEval, where A is
    always the baseline, it would count the baseline's length once in the offset and again in the style
    term.) ``side_blind=False`` is plain StyleBT, the BT + style baseline.
    """
    import warnings

    from ..rating import Design, fit_design

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
            result = fit_design(design, settings or FitSettings(), raw=False, tables=False)
        for part in result.all_parts():
            bt = part.controlled
            fits.append(bt)
            for m, beta in zip(bt.models_, bt.beta_, strict=True):
                strength[str(m)] = float(LN10 * beta)
                component[str(m)] = part.component
    return StrengthFit(strength, fits, component)


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
    weights: np.ndarray | None = None,
) -> Any:
    """Train on the side-swapped augmentation; with ``valid``, stop early on its (augmented) log-loss."""
    import lightgbm as lgb

    Xa, ya, ia = _augment(X, y, init)
    wa = None if weights is None else np.concatenate([weights, weights])
    train = lgb.Dataset(Xa, label=ya, init_score=ia, weight=wa, params={"verbose": -1}, free_raw_data=True)
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
    """g(x) = (f(x) - f(-x)) / 2: the trees' part of the log-odds, exactly antisymmetric."""
    if booster is None or X.shape[0] == 0:
        return np.zeros(X.shape[0])
    both = booster.predict(np.vstack([X, -X]), raw_score=True, num_threads=1)
    n = X.shape[0]
    return (both[:n] - both[n:]) / 2.0


def _leaf_values(booster: Any, leaves: np.ndarray) -> np.ndarray:
    """(trees, max leaf id + 1) table of the outputs of the leaves that ``leaves`` (n, trees) reaches."""
    T = leaves.shape[1]
    table = np.zeros((T, int(leaves.max()) + 1 if leaves.size else 1))
    for t in range(T):
        for leaf in np.unique(leaves[:, t]):
            table[t, leaf] = booster.get_leaf_output(t, int(leaf))
    return table


def staged_side_blind_margin(booster: Any, X: np.ndarray, step: int) -> np.ndarray:
    """g(x) after 0, step, 2 step, ... trees, shape (checkpoints, n), from one leaf-index prediction.

    One ``pred_leaf`` call and the leaf-value table replace a prediction per checkpoint (LightGBM's per-call
    overhead dominates on small folds).
    """
    n = X.shape[0]
    T = booster.num_trees()
    checkpoints = np.arange(0, T + 1, step)
    if n == 0 or T == 0:
        return np.zeros((len(checkpoints), n))
    leaves = booster.predict(np.vstack([X, -X]), pred_leaf=True, num_threads=1).reshape(2 * n, T)
    values = _leaf_values(booster, leaves)[np.arange(T)[None, :], leaves]  # (2n, T)
    g = (values[:n] - values[n:]) / 2.0
    cum = np.concatenate([np.zeros((n, 1)), np.cumsum(g, axis=1)], axis=1)  # (n, T + 1)
    return cum[:, checkpoints].T


# ---------------------------------------------------------------------------------------------------- the model
@dataclass
class VoteModel:
    """A fitted vote model: strengths (or an intercept), linear style coefficients, optional trees, settings.

    ``predict_proba(model_a, model_b, X)`` = sigma(offset + X . coef + g(X)). ``contributions(X)`` = per-feature
    log-odds contributions of the style part: ``coef_k x_k`` plus the trees' TreeSHAP (LightGBM's built-in,
    symmetrised the same way as g), so ``offset + contributions.sum(1)`` is the margin. ``candidate`` records
    what was chosen (``kind``: ``prior``, ``length_only``, ``linear`` or ``trees``; penalties; tree settings;
    ``label``).
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
    coef: dict[str, float] = field(default_factory=dict)
    candidate: dict[str, Any] = field(default_factory=dict)

    @property
    def coef_vector(self) -> np.ndarray:
        return np.array([float(self.coef.get(f, 0.0)) for f in self.features], dtype=np.float64)

    @property
    def kind(self) -> str:
        return str(self.candidate.get("kind", "trees" if self.booster is not None else "linear"))

    def uses_group(self, features: Sequence[str]) -> bool:
        """Whether any of ``features`` can move a prediction (a non-zero coefficient or a tree split on it)."""
        if any(self.coef.get(f, 0.0) != 0.0 for f in features):
            return True
        if self.booster is None:
            return False
        gain = self.booster.feature_importance(importance_type="split")
        return any(gain[self.features.index(f)] > 0 for f in features if f in self.features)

    def matrix(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        if not isinstance(X, pd.DataFrame):
            return np.asarray(X, dtype=np.float64)
        missing = [f for f in self.features if f not in X.columns]
        if missing:
            raise UsageError(f"the vote model needs feature(s) {', '.join(missing)} that were not computed")
        return X[self.features].to_numpy(dtype=np.float64)

    def offset(self, model_a: Sequence[str], model_b: Sequence[str]) -> np.ndarray:
        if not self.use_strength:
            return np.full(len(model_a), self.intercept)
        return StrengthFit(self.strength).offset(model_a, model_b)

    def style_margin(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """The style part of the log-odds, linear + trees; 0 where every pair feature is 0."""
        arr = self.matrix(X)
        out = arr @ self.coef_vector if self.coef else np.zeros(arr.shape[0])
        return out + side_blind_margin(self.booster, arr)

    def decision_function(
        self, model_a: Sequence[str], model_b: Sequence[str], X: pd.DataFrame | np.ndarray
    ) -> np.ndarray:
        return self.offset(model_a, model_b) + self.style_margin(X)

    def predict_proba(
        self, model_a: Sequence[str], model_b: Sequence[str], X: pd.DataFrame | np.ndarray
    ) -> np.ndarray:
        """P(A wins) per battle."""
        return expit(self.decision_function(model_a, model_b, X))

    def contributions(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Per-feature log-odds contributions of the style part, shape (n, K); rows sum to the style margin."""
        arr = self.matrix(X)
        n, k = arr.shape
        out = arr * self.coef_vector[None, :] if self.coef else np.zeros((n, k))
        if self.booster is None or n == 0:
            return out
        both = self.booster.predict(np.vstack([arr, -arr]), pred_contrib=True, num_threads=1)
        return out + (both[:n, :k] - both[n:, :k]) / 2.0

    def model_string(self) -> str:
        return "" if self.booster is None else str(self.booster.model_to_string())
