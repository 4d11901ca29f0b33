"""Choose the vote model's complexity from the data: grouped cross-validation over a fixed list of candidates.

The candidates run from the simplest baseline to the richest model, so the choice can always fall back:

* ``prior``: P(A wins) = training mean of pref_a;
* ``length_only``: logistic regression on the length pair feature (``tokens``) with an intercept;
* ``linear``: side-blind Bradley-Terry + style (:mod:`stylebias.explain.linear`) on a grid of two penalties,
  one on the model strengths (:data:`STRENGTH_REGS`) and one on every style feature but length
  (:data:`STYLE_REGS`, ``inf`` = left out). The length feature keeps a light fixed penalty, so a large style
  penalty shrinks the model toward "strength + length" instead of toward nothing;
* ``trees``: the best linear model plus a side-blind LightGBM model of its residual, in two sizes
  (:data:`TREE_CONFIGS`); each fold's number of rounds is chosen on the other folds' held-out loss curves,
  never on its own.

:func:`select` scores every candidate by the pooled log-loss of its predictions on K folds grouped by prompt
(each fold fitted on the other folds only) and picks the lowest, unless picking among the richer candidates
does not beat length-only by more than two standard errors of the paired difference (:func:`choose`). It also
picks the penalty of plain ``StyleBT`` (the "BT + style" baseline) from :data:`BT_REGS` on the same folds.
The grids are fixed here, written before any real vote set was looked at, and are the same for every data set.

The held-out score of the whole procedure comes from :func:`stylebias.explain.cv.nested_cv`: the selection
is rerun inside every outer training fold, so the outer fold never influences which candidate is scored.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from ..errors import StyleBiasWarning, UsageError
from ..outputs import plain
from ..rating import FitSettings
from .design import grouped_folds
from .linear import LENGTH_FEATURE, LinearFit, feature_scale, fit_linear, fit_logistic, penalties
from .votemodel import (
    DEFAULT_PARAMS,
    EPS,
    MAX_ROUNDS,
    VoteModel,
    fit_strength,
    log_loss,
    staged_side_blind_margin,
    train_booster,
)

INF = math.inf
#: Held-out predictions of the residual trees are recorded every this many rounds.
ROUND_STEP = 5
#: Penalties on model strengths (base-10 units, as in Bradley-Terry; 0.5 is FastChat's).
STRENGTH_REGS: tuple[float, ...] = (0.5, 8.0, 128.0, 2048.0)
#: Penalties on the style features other than length (per SD of the pair feature); inf leaves them out.
STYLE_REGS: tuple[float, ...] = (1.0, 8.0, 64.0, 512.0, INF)
#: Penalties tried for plain StyleBT (the BT + style baseline and the BT view) with ``reg="auto"``; the first
#: is FitSettings' default (FastChat / LMArena's 0.5), the penalty of ``rank``.
BT_REGS: tuple[float, ...] = (FitSettings().reg, 4.0, 32.0, 256.0, 2048.0)
#: LightGBM settings of the residual trees: shallow stumps-like trees and the earlier default size.
TREE_CONFIGS: dict[str, dict[str, Any]] = {
    "small trees": {"num_leaves": 4, "max_depth": 2, "min_data_in_leaf": 40, "lambda_l2": 5.0},
    "trees": {"num_leaves": 15, "max_depth": 6, "min_data_in_leaf": 50, "lambda_l2": 1.0},
}
SEARCHES = ("auto", "linear")


@dataclass
class Votes:
    """The arrays every fit works on: models, pref_a, pair features (frame and array), length, prompt ids."""

    model_a: np.ndarray
    model_b: np.ndarray
    y: np.ndarray
    frame: pd.DataFrame
    tokens: np.ndarray
    groups: np.ndarray

    @property
    def X(self) -> np.ndarray:
        return self.frame.to_numpy(dtype=np.float64)

    @property
    def features(self) -> list[str]:
        return list(self.frame.columns)

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, rows: np.ndarray) -> Votes:
        return Votes(
            self.model_a[rows],
            self.model_b[rows],
            self.y[rows],
            self.frame.iloc[rows].reset_index(drop=True),
            self.tokens[rows],
            self.groups[rows],
        )


@dataclass(frozen=True)
class Spec:
    """One candidate: its kind and settings (see the module docstring)."""

    kind: str
    strength_reg: float = 0.0
    style_reg: float = 0.0
    tree: str = ""
    rounds: int = 0

    @property
    def label(self) -> str:
        if self.kind == "prior":
            return "prior (training mean of pref_a)"
        if self.kind == "length_only":
            return "length-only logistic"
        style = "length only" if math.isinf(self.style_reg) else f"style penalty {self.style_reg:g}"
        text = f"BT + style, linear (strength penalty {self.strength_reg:g}, {style})"
        if self.kind == "trees":
            text += f" + {self.tree} ({self.rounds} rounds)"
        return text

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values (an infinite style penalty, "left out", is ``null``) and the label."""
        return {**plain(asdict(self)), "label": self.label}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Spec:
        def reg(v: Any) -> float:
            return INF if v is None else float(v)

        return cls(
            str(d.get("kind", "trees")),
            reg(d.get("strength_reg", 0.0)),
            reg(d.get("style_reg", 0.0)),
            str(d.get("tree", "")),
            int(d.get("rounds", 0)),
        )


def check_reg(reg: Any) -> float | str:
    """The Bradley-Terry penalty request: ``"auto"`` (chosen from :data:`BT_REGS` by :func:`select`) or a
    finite number >= 0; anything else is a :class:`UsageError`."""
    if reg == "auto":
        return "auto"
    try:
        r = float(reg)
    except (TypeError, ValueError):
        raise UsageError(f"reg must be 'auto' or a number >= 0, got {reg!r}") from None
    FitSettings(reg=r).check()
    return r


def linear_specs() -> list[Spec]:
    """The linear grid, most penalised (simplest) first."""
    return [
        Spec("linear", s, t)
        for s in sorted(STRENGTH_REGS, reverse=True)
        for t in sorted(STYLE_REGS, reverse=True)
    ]


# ---------------------------------------------------------------------------------------------------- fitting
@contextlib.contextmanager
def quiet_fits() -> Iterator[None]:
    """Silence the Bradley-Terry fits' notices (separation, a disconnected training fold) around many fits.

    They belong to ``rank``; the explanation says once what concerns it (:func:`stylebias.explain.api`).
    Warning filters are process-wide, so this is entered in the calling thread, around any worker threads.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StyleBiasWarning)
        yield


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def tree_params(name: str, seed: int = 0) -> dict[str, Any]:
    if name not in TREE_CONFIGS:
        raise UsageError(f"unknown tree configuration {name!r}; choose from {', '.join(TREE_CONFIGS)}")
    return {**DEFAULT_PARAMS, **TREE_CONFIGS[name], "seed": seed}


def fit_spec(
    spec: Spec,
    v: Votes,
    *,
    weights: np.ndarray | None = None,
    seed: int = 0,
    scale: np.ndarray | None = None,
    init: LinearFit | None = None,
) -> VoteModel:
    """Fit one candidate on ``v`` (optionally with frequency weights, e.g. a bootstrap draw).

    ``scale``: the pair features' root mean square to standardise with (default: of ``v``, unweighted);
    ``init``: a linear fit to warm-start the Bradley-Terry part from.
    """
    features = v.features
    cand = spec.to_json()
    w = weights
    if spec.kind == "prior":
        mean = float(np.average(v.y, weights=w)) if w is None or w.sum() > 0 else 0.5
        return VoteModel(features, None, {}, _logit(mean), False, candidate=cand)
    if spec.kind == "length_only":
        if LENGTH_FEATURE not in features:
            raise UsageError(f"the length-only candidate needs the {LENGTH_FEATURE!r} feature")
        j = features.index(LENGTH_FEATURE)
        b = fit_logistic(np.column_stack([np.ones(len(v)), v.X[:, j]]), v.y, w)
        return VoteModel(
            features, None, {}, float(b[0]), False, coef={LENGTH_FEATURE: float(b[1])}, candidate=cand
        )
    X = v.X
    lin = fit_linear(
        v.model_a,
        v.model_b,
        v.y,
        X,
        features,
        penalties(features, spec.style_reg),
        spec.strength_reg,
        scale=scale,
        weights=w,
        init=init,
    )
    coef = {f: float(c) for f, c in zip(features, lin.coef, strict=True)}
    booster = None
    params = dict(DEFAULT_PARAMS)
    if spec.kind == "trees" and spec.rounds > 0:
        params = tree_params(spec.tree, seed)
        margin = lin.margin(v.model_a, v.model_b, X)
        booster = train_booster(X, v.y, margin, params, spec.rounds, weights=w)
    return VoteModel(
        features,
        booster,
        dict(lin.strength),
        0.0,
        True,
        params=params,
        num_rounds=spec.rounds if booster is not None else 0,
        coef=coef,
        candidate=cand,
    )


# ---------------------------------------------------------------------------------------------------- selection
#: The richer candidates replace length-only only when picking among them lowers the held-out log-loss by more
#: than this many standard errors of the paired, prompt-clustered difference (about a one-sided 2 % test).
SE_RULE = 2.0


def clustered_se(d: np.ndarray, groups: np.ndarray) -> float:
    """Standard error of mean(d) with battles clustered by prompt (sums per prompt are the units)."""
    g = np.unique(groups, return_inverse=True)[1]
    G = int(g.max()) + 1 if len(g) else 0
    n = len(d)
    if G < 2 or n == 0:
        return math.inf
    sums = np.bincount(g, d, minlength=G)
    sizes = np.bincount(g, minlength=G)
    resid = sums - sizes * d.mean()
    return float(math.sqrt(G / (G - 1) * float(resid @ resid)) / n)


def battle_loss(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log1p(-p))


def cross_fitted_choice(
    specs: list[Spec], pred: dict[Spec, np.ndarray], y: np.ndarray, folds: list[np.ndarray]
) -> np.ndarray:
    """Held-out predictions of "take the candidate with the lowest loss", chosen without the held-out fold.

    For fold k the candidate is the one with the lowest pooled loss on the *other* folds; its predictions on
    fold k are used. So the score of the procedure "pick the best of many" is not the optimistic minimum.
    """
    losses = np.stack([battle_loss(pred[s], y) for s in specs])  # (candidates, n)
    per_fold = np.stack([losses[:, test].sum(axis=1) for test in folds])  # (folds, candidates)
    total = per_fold.sum(axis=0)
    out = np.empty(len(y))
    for k, test in enumerate(folds):
        out[test] = pred[specs[int(np.argmin(total - per_fold[k]))]][test]
    return out


def reference(specs: list[Spec]) -> Spec:
    """The safe default the richer candidates must beat: length-only, or the prior without a length feature."""
    return Spec("length_only") if Spec("length_only") in specs else Spec("prior")


def choose(
    specs: list[Spec],
    pred: dict[Spec, np.ndarray],
    y: np.ndarray,
    groups: np.ndarray,
    folds: list[np.ndarray],
) -> tuple[Spec, pd.DataFrame, dict[str, Any]]:
    """The candidate with the lowest held-out loss, unless choosing one does not clearly beat length-only.

    The richer candidates replace the length-only baseline only when the procedure "pick the best of them"
    (scored by :func:`cross_fitted_choice`, so picking among many is paid for) has a lower held-out loss than
    length-only by more than :data:`SE_RULE` standard errors of the paired per-battle difference, clustered
    by prompt; then the lowest-loss candidate is chosen. With a few hundred votes most differences are
    noise, and the baseline every reader compares against stays; with more votes the data decide. Returns
    the choice, a table of every candidate (lowest loss first: ``log_loss``, ``vs_reference`` = its loss minus
    length-only's) and the test (``reference``, ``pick_log_loss``, ``reference_log_loss``, ``se``,
    ``passed``). Without a length feature among the candidates the prior is the reference.
    """
    losses = {s: battle_loss(pred[s], y) for s in specs}
    mean = {s: float(losses[s].mean()) for s in specs}
    ref = reference(specs)
    rich = [s for s in specs if s != ref]
    chosen = min(rich, key=lambda s: (mean[s], specs.index(s))) if rich else ref
    picked = battle_loss(cross_fitted_choice(rich, pred, y, folds), y) if rich else losses[ref]
    d = picked - losses[ref]
    se = clustered_se(d, groups) if rich else 0.0
    passed = bool(rich) and bool(d.mean() < -SE_RULE * se)
    test: dict[str, Any] = {
        "reference": ref.label,
        "pick_log_loss": float(picked.mean()),
        "reference_log_loss": mean[ref],
        "se": se,
        "passed": passed,
    }
    if not passed:
        chosen = ref
    rows = []
    for s in specs:
        rows.append(
            {**s.to_json(), "log_loss": mean[s], "vs_reference": float((losses[s] - losses[ref]).mean())}
        )
    table = pd.DataFrame(rows).sort_values(["log_loss", "label"], kind="stable").reset_index(drop=True)
    table["chosen"] = [lab == chosen.label for lab in table["label"]]
    return chosen, table, test


@dataclass
class Selection:
    """What :func:`select` chose, and every candidate's cross-validated log-loss (pooled over the folds)."""

    chosen: Spec
    scores: pd.DataFrame  # label, kind, ..., log_loss, vs_reference, chosen; lowest loss first
    bt_reg: float | None = None
    bt_scores: dict[float, float] = field(default_factory=dict)
    folds: int = 0
    test: dict[str, Any] = field(default_factory=dict)  # richer candidates vs length-only (see choose)


def _compact(groups: np.ndarray) -> np.ndarray:
    return np.unique(groups, return_inverse=True)[1].astype(np.int64)


def _tree_fold_predictions(
    v: Votes,
    folds: list[np.ndarray],
    margins: list[tuple[np.ndarray, np.ndarray]],
    params: dict[str, Any],
) -> tuple[int, np.ndarray]:
    """Held-out predictions of linear + residual trees, the number of rounds chosen without the held-out fold.

    Every fold trains :data:`MAX_ROUNDS` rounds on its training battles and records its held-out predictions
    every :data:`ROUND_STEP` rounds. Fold k then uses the rounds that minimise the pooled loss of the *other*
    folds (cross-fitting), so no fold's own votes choose its rounds and the candidate's score is not the
    optimistic minimum of a noisy curve. Returns (rounds minimising the pooled loss of all folds, for the fit
    on all battles; the held-out predictions).
    """
    n = len(v)
    X = v.X
    checkpoints = list(range(0, MAX_ROUNDS + 1, ROUND_STEP))
    C = len(checkpoints)
    curve = np.empty((C, n))
    for test, (init_tr, init_te) in zip(folds, margins, strict=True):
        train = np.setdiff1d(np.arange(n), test, assume_unique=True)
        booster = train_booster(X[train], v.y[train], init_tr, params, MAX_ROUNDS)
        curve[:, test] = expit(init_te[None, :] + staged_side_blind_margin(booster, X[test], ROUND_STEP))
    loss = battle_loss(curve, v.y[None, :])  # (C, n)
    per_fold = np.stack([loss[:, test].sum(axis=1) for test in folds])  # (folds, C)
    total = per_fold.sum(axis=0)
    out = np.empty(n)
    for k, test in enumerate(folds):
        c_k = int(np.argmin(total - per_fold[k]))
        out[test] = curve[c_k, test]
    return checkpoints[int(np.argmin(total))], out


def select(
    v: Votes,
    folds: int = 5,
    seed: int = 0,
    *,
    search: str = "auto",
    bt_regs: tuple[float, ...] | None = BT_REGS,
) -> Selection:
    """Score every candidate by grouped K-fold CV on ``v`` and pick the lowest log-loss (module docstring).

    ``search="linear"`` leaves the tree candidates out (faster). ``bt_regs`` = penalties to try for plain
    StyleBT (``None``: do not choose one).
    """
    if search not in SEARCHES:
        raise UsageError(f"search must be one of {', '.join(SEARCHES)}, got {search!r}")
    n = len(v)
    specs: list[Spec] = [Spec("prior")]
    if LENGTH_FEATURE in v.features:
        specs.append(Spec("length_only"))
    n_groups = len(np.unique(v.groups))
    if n_groups < 2:  # nothing to cross-validate on: keep the safe default
        ref = reference(specs)
        table = pd.DataFrame([{**ref.to_json(), "log_loss": math.nan, "vs_reference": 0.0, "chosen": True}])
        note = {"reference": ref.label, "passed": False, "note": f"{n_groups} prompt: no cross-validation"}
        return Selection(ref, table, (bt_regs or (None,))[0], {}, 0, note)
    folds = min(folds, n_groups)
    test_sets = grouped_folds(_compact(v.groups), folds, seed)
    X = v.X
    lin_specs = linear_specs()
    specs += lin_specs
    pred = {s: np.empty(n) for s in specs}
    bt_pred = {r: np.empty(n) for r in (bt_regs or ())}
    fits: list[dict[Spec, LinearFit]] = []
    for test in test_sets:
        train = np.setdiff1d(np.arange(n), test, assume_unique=True)
        tr = v.subset(train)
        pred[Spec("prior")][test] = float(np.clip(tr.y.mean(), EPS, 1 - EPS))
        if Spec("length_only") in pred:
            b = fit_logistic(np.column_stack([np.ones(len(tr)), tr.tokens]), tr.y)
            pred[Spec("length_only")][test] = expit(b[0] + b[1] * v.tokens[test])
        scale = feature_scale(tr.X)
        fold_fits: dict[Spec, LinearFit] = {}
        init: LinearFit | None = None
        for s in lin_specs:
            fit = fit_linear(
                tr.model_a,
                tr.model_b,
                tr.y,
                tr.X,
                v.features,
                penalties(v.features, s.style_reg),
                s.strength_reg,
                scale=scale,
                init=init,
            )
            init = fit
            fold_fits[s] = fit
            pred[s][test] = expit(fit.margin(v.model_a[test], v.model_b[test], X[test]))
        fits.append(fold_fits)
        for r in bt_pred:
            sf = fit_strength(tr.model_a, tr.model_b, tr.y, tr.frame, FitSettings(reg=r), side_blind=False)
            bt_pred[r][test] = expit(sf.bt_margin(v.model_a[test], v.model_b[test], v.frame.iloc[test]))
    score = {s: log_loss(pred[s], v.y) for s in specs}
    best_lin = min(lin_specs, key=lambda s: score[s])
    if search == "auto":
        margins = []
        for test, fold_fits in zip(test_sets, fits, strict=True):
            train = np.setdiff1d(np.arange(n), test, assume_unique=True)
            fit = fold_fits[best_lin]
            margins.append(
                (
                    fit.margin(v.model_a[train], v.model_b[train], X[train]),
                    fit.margin(v.model_a[test], v.model_b[test], X[test]),
                )
            )
        for name in TREE_CONFIGS:
            rounds, p_trees = _tree_fold_predictions(v, test_sets, margins, tree_params(name, seed))
            if rounds > 0:
                s = Spec("trees", best_lin.strength_reg, best_lin.style_reg, name, rounds)
                specs.append(s)
                pred[s] = p_trees
                score[s] = log_loss(p_trees, v.y)
    chosen, table, test = choose(specs, pred, v.y, v.groups, test_sets)
    bt_scores = {r: log_loss(p, v.y) for r, p in bt_pred.items()}
    bt_reg = min(bt_scores, key=lambda r: (bt_scores[r], r)) if bt_scores else None
    return Selection(chosen, table, bt_reg, bt_scores, folds, test)
