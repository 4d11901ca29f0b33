"""How sure: intervals for every per-model number the explanation shows, and the Bradley-Terry view of them.

**Vote model (bootstrap over prompts).** Each replicate draws the prompts with replacement (every battle on a
drawn prompt comes along, as often as its prompt was drawn), refits the *chosen* candidate with its chosen
settings on those weights, and recomputes every model's predicted and style-neutral win rate and group points
on the original battles. The percentile interval of the replicates is reported (95 % by default). The
selection itself is not rerun per replicate, so the interval is conditional on the chosen settings.

**Bradley-Terry view, same definition.** The style-controlled ``StyleBT`` fit of the BT view answers the same
question as the vote model: its predicted win rate, its style-neutral win rate (every pair feature at 0, same
opponents and sides) and the exact group Shapley split of the difference, on the same probability scale.
Intervals come from the fit's own uncertainty: its bootstrap replicates when it has them, else draws from the
normal approximation with its sandwich covariance.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..progress import task, use_reporter
from ..rating.solver import LN10
from .attribution import group_shapley, linear_group_shapley, own_side_means
from .linear import feature_scale
from .select import Spec, Votes, fit_spec, quiet_fits
from .votemodel import VoteModel

LEVEL = 0.95


@dataclass
class Attribution:
    """Per-model predicted and style-neutral win rates (own side) and group points (win-rate points)."""

    predicted: np.ndarray  # (M,) or (R, M)
    neutral: np.ndarray
    points: np.ndarray  # (M, G) or (R, M, G)

    @classmethod
    def of(cls, index: Index, p0: np.ndarray, phi: np.ndarray) -> Attribution:
        """Per-model numbers from per-battle style-neutral probabilities ``p0`` and group contributions
        ``phi`` (battles x groups; the prediction is ``p0`` plus their sum), each model on its own side."""
        a, b, m = index.a, index.b, len(index.models)
        return cls(
            own_side_means(a, b, m, p0 + phi.sum(axis=1), complement=True),
            own_side_means(a, b, m, p0, complement=True),
            100.0 * own_side_means(a, b, m, phi, complement=False),
        )


@dataclass
class Index:
    """Battles as model indices into a fixed model list."""

    models: list[str]
    a: np.ndarray
    b: np.ndarray

    @classmethod
    def of(cls, models: list[str], model_a: np.ndarray, model_b: np.ndarray) -> Index:
        idx = pd.Index(models)
        return cls(models, idx.get_indexer(model_a), idx.get_indexer(model_b))


def attribute(vote: VoteModel, v: Votes, groups: dict[str, list[str]], index: Index) -> Attribution:
    """One fitted vote model's per-model numbers on the battles of ``v``."""
    offset = vote.offset(v.model_a, v.model_b)
    p0 = 1.0 / (1.0 + np.exp(-offset))
    phi = group_shapley(vote, v.frame, offset, groups).to_numpy()
    return Attribution.of(index, p0, phi)


def cluster_weights(groups: np.ndarray, seed: int, replicate: int) -> np.ndarray:
    """Bootstrap frequency weights: prompts drawn with replacement, each battle weighted by its prompt's count."""
    g = np.unique(groups, return_inverse=True)[1]
    n_groups = int(g.max()) + 1 if len(g) else 0
    rng = np.random.default_rng([seed, replicate])
    counts = np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups)
    return counts[g].astype(np.float64)


def bootstrap_attribution(
    spec: Spec,
    v: Votes,
    groups: dict[str, list[str]],
    index: Index,
    *,
    rounds: int,
    seed: int = 0,
    n_jobs: int | None = None,
) -> Attribution:
    """Replicates (R, M) / (R, M, G) of the chosen candidate refitted on prompt-bootstrap weights.

    Replicate r draws its weights from the seed sequence (seed, r) and LightGBM runs single-threaded and
    deterministic, so the replicates, and the intervals, do not depend on ``n_jobs`` (worker threads; None or
    0 = every core). NumPy, the solver's BLAS and LightGBM release the GIL, so threads run in parallel.
    """
    from concurrent.futures import ThreadPoolExecutor

    from ..rating.estimator import one_blas_thread

    M, G = len(index.models), len(groups)
    pred = np.empty((rounds, M))
    neu = np.empty((rounds, M))
    pts = np.empty((rounds, M, G))
    scale = feature_scale(v.X)  # every replicate standardises like the fit on all battles

    def one(r: int) -> tuple[int, Attribution]:
        with use_reporter(None):
            vote = fit_spec(spec, v, weights=cluster_weights(v.groups, seed, r), seed=seed, scale=scale)
            return r, attribute(vote, v, groups, index)

    workers = max(1, min(rounds, n_jobs if n_jobs and n_jobs > 0 else (os.cpu_count() or 1)))
    with (
        task("bootstrap intervals (prompts resampled)", total=rounds) as advance,
        one_blas_thread(),
        quiet_fits(),
    ):
        if workers == 1:
            results = map(one, range(rounds))
        else:
            pool = ThreadPoolExecutor(max_workers=workers)
            results = pool.map(one, range(rounds))
        for r, att in results:
            pred[r], neu[r], pts[r] = att.predicted, att.neutral, att.points
            advance(1)
        if workers > 1:
            pool.shutdown()
    return Attribution(pred, neu, pts)


def percentile(draws: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    q = np.nanquantile(draws, [0.5 - level / 2, 0.5 + level / 2], axis=0)
    return q[0], q[1]


# ---------------------------------------------------------------------------------------------------- BT view
def _bt_terms(
    est: object,
    X: pd.DataFrame,
    groups: dict[str, list[str]],
    ia: np.ndarray,
    ib: np.ndarray,
    theta: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(base log-odds at no style difference, per-group linear terms) of a StyleBT at parameters ``theta``."""
    P = est.n_models_  # type: ignore[attr-defined]
    names = list(est.feature_names_)  # type: ignore[attr-defined]
    K = len(names)
    beta, gamma = theta[:P], theta[P : P + K]
    mean = np.asarray(est.feature_mean_, dtype=np.float64)  # type: ignore[attr-defined]
    scale = np.asarray(est.feature_scale_, dtype=np.float64)  # type: ignore[attr-defined]
    base = LN10 * (beta[ia] - beta[ib]) - (float(gamma @ (mean / scale)) if K else 0.0)
    terms = np.zeros((len(ia), len(groups)))
    if K:
        raw = X[names].to_numpy(dtype=np.float64) / scale
        for g, (_, fs) in enumerate(groups.items()):
            cols = [names.index(f) for f in fs if f in names]
            if cols:
                terms[:, g] = raw[:, cols] @ gamma[cols]
    return base, terms


def _bt_once(
    est: object,
    X: pd.DataFrame,
    groups: dict[str, list[str]],
    ia: np.ndarray,
    ib: np.ndarray,
    sub: Index,
    theta: np.ndarray,
) -> Attribution:
    """Per-model numbers of one StyleBT parameter vector on its component's battles."""
    base, terms = _bt_terms(est, X, groups, ia, ib, theta)
    phi = linear_group_shapley(base, terms)
    p0 = 1.0 / (1.0 + np.exp(-base))
    return Attribution.of(sub, p0, phi)


def _bt_draws(est: object, rounds: int, seed: int) -> np.ndarray:
    """Parameter draws of a fitted StyleBT: its bootstrap replicates, else normal draws with its covariance."""
    boot = getattr(est, "boot_theta_", None)
    if boot is not None and len(boot) >= 2:
        return np.asarray(boot, dtype=np.float64)
    theta = np.asarray(est.theta_, dtype=np.float64)  # type: ignore[attr-defined]
    V = np.asarray(est.covariance_, dtype=np.float64)  # type: ignore[attr-defined]
    vals, vecs = np.linalg.eigh((V + V.T) / 2)
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    rng = np.random.default_rng([seed, 7919])
    return theta + rng.standard_normal((rounds, len(theta))) @ root.T


def bt_attribution(
    rank: object,
    v: Votes,
    groups: dict[str, list[str]],
    index: Index,
    *,
    rounds: int = 200,
    seed: int = 0,
) -> tuple[Attribution, Attribution | None]:
    """The BT view's predicted / style-neutral win rates and group points (point values, draws or None).

    One fit per component of the comparison graph (``rank.all_parts()``); a model's numbers come from the fit
    of its component, over the battles inside that component. Models the BT view did not rate get NaN.
    """
    M, G = len(index.models), len(groups)
    point = Attribution(np.full(M, np.nan), np.full(M, np.nan), np.full((M, G), np.nan))
    draws = (
        Attribution(
            np.full((rounds, M), np.nan), np.full((rounds, M), np.nan), np.full((rounds, M, G), np.nan)
        )
        if rounds
        else None
    )
    for part in rank.all_parts():  # type: ignore[attr-defined]
        est = part.controlled
        pos = pd.Index(est.models_)
        ia, ib = pos.get_indexer(v.model_a), pos.get_indexer(v.model_b)
        rows = np.flatnonzero((ia >= 0) & (ib >= 0))
        if not len(rows):
            continue
        sub = Index(index.models, index.a[rows], index.b[rows])
        mine = np.unique(np.concatenate([sub.a, sub.b]))
        X = v.frame.iloc[rows]

        at = _bt_once(est, X, groups, ia[rows], ib[rows], sub, np.asarray(est.theta_, dtype=np.float64))
        point.predicted[mine], point.neutral[mine], point.points[mine] = (
            at.predicted[mine],
            at.neutral[mine],
            at.points[mine],
        )
        if draws is not None:
            thetas = _bt_draws(est, rounds, seed)
            for r in range(min(rounds, len(thetas))):
                d = _bt_once(est, X, groups, ia[rows], ib[rows], sub, thetas[r])
                draws.predicted[r, mine], draws.neutral[r, mine], draws.points[r, mine] = (
                    d.predicted[mine],
                    d.neutral[mine],
                    d.points[mine],
                )
    return point, draws
