"""Turn battles into the arrays the solver works on: model indices, outcomes, standardised features.

The Bradley-Terry design matrix has exactly two nonzeros per battle in the model columns (+ln 10 for A,
-ln 10 for B), so it is never materialised: battles are stored as (model_a index, model_b index) and every
sum over battles that touches a model goes through ``np.bincount`` on a *pair* index (one id per distinct
ordered (A, B) pair). Summing per pair first and then per model turns 1.7M-long scatters into a few thousand.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..errors import DataError, StyleBiasWarning

#: Relative spread below which a feature column counts as constant (dropped with a warning).
ZERO_VARIANCE_RTOL = 1e-12


@dataclass(frozen=True)
class Encoded:
    """Battles as integer model indices plus the distinct ordered pairs they use."""

    models: list[str]
    a: np.ndarray  # int32 index of model_a per battle
    b: np.ndarray  # int32 index of model_b per battle
    pair: np.ndarray  # int32 id of the ordered (a, b) pair per battle; ids are in (a, b) order
    pair_a: np.ndarray  # int32 model_a index per pair id
    pair_b: np.ndarray  # int32 model_b index per pair id


def encode_models(model_a: Any, model_b: Any, extra: Sequence[str] = ()) -> Encoded:
    """Index models (sorted by name) and the ordered pairs the battles use.

    Sorting by name makes every downstream array, and so every output, independent of input row order.
    Uses hashing (``pd.factorize``, fast on pandas' Arrow-backed strings) rather than sorting the battles.
    ``extra`` names models to index even if no battle has them (a saved board's models held fixed).
    """
    sa = model_a if isinstance(model_a, pd.Series) else pd.Series(np.asarray(model_a, dtype=object))
    sb = model_b if isinstance(model_b, pd.Series) else pd.Series(np.asarray(model_b, dtype=object))
    n = len(sa)
    parts = [sa.reset_index(drop=True), sb.reset_index(drop=True)]
    if len(extra):
        parts.append(pd.Series(np.asarray(list(extra), dtype=object)))
    codes, uniques = pd.factorize(pd.concat(parts, ignore_index=True))
    codes = codes[: 2 * n]
    if (codes < 0).any():
        i = int(np.flatnonzero(codes < 0)[0]) % max(n, 1)
        raise DataError(f"battle {i + 1} has a missing model name")
    names = [str(u) for u in uniques]
    order = np.argsort(np.asarray(names, dtype=object), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    codes = rank[codes]
    a, b = codes[:n], codes[n:]
    n_models = len(names)
    key = a * n_models + b
    if n_models * n_models <= 50_000_000:
        present = np.bincount(key, minlength=n_models * n_models) > 0
        ids = np.flatnonzero(present)
        lookup = np.cumsum(present) - 1
        pair = lookup[key]
    else:  # very many models: sort the keys instead of a dense table
        ids, pair = np.unique(key, return_inverse=True)
    return Encoded(
        models=[names[i] for i in order],
        a=a.astype(np.int32),
        b=b.astype(np.int32),
        pair=np.asarray(pair, dtype=np.int32).ravel(),
        pair_a=(ids // n_models).astype(np.int32),
        pair_b=(ids % n_models).astype(np.int32),
    )


def components(a: np.ndarray, b: np.ndarray, n_models: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Connected-component label per model of the comparison graph (0 = the component with most battles).

    ``a``/``b`` are the two models of each battle, or of each distinct pair with ``weights`` = battles per
    pair. Labels are ordered by battle count (then by the first model's index) so they are deterministic.
    """
    if n_models == 0:
        return np.zeros(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n_models, n_models))
    n_comp, labels = connected_components(graph, directed=False)
    if n_comp == 1:
        return np.zeros(n_models, dtype=np.int64)
    battles = np.bincount(labels[a], weights, minlength=n_comp)
    first = np.full(n_comp, n_models)
    np.minimum.at(first, labels, np.arange(n_models))
    order = np.lexsort((first, -battles))
    relabel = np.empty(n_comp, dtype=np.int64)
    relabel[order] = np.arange(n_comp)
    return relabel[labels]


@dataclass(frozen=True)
class Standardised:
    """Standardised feature matrix and how it was made (kept so others can map back to raw units)."""

    Z: np.ndarray  # (n, k) float64, Fortran order (columns contiguous for per-feature scatters)
    names: list[str]
    mean: np.ndarray
    scale: np.ndarray
    dropped: list[str]


def standardise(
    X: np.ndarray,
    names: list[str],
    weights: np.ndarray | None = None,
    fixed: tuple[np.ndarray, np.ndarray] | None = None,
) -> Standardised:
    """Centre and scale each column by its mean and *population* std (``np.std``, ddof=0), as FastChat does.

    With frequency ``weights`` the weighted mean and std are used, so a battle of weight 2 standardises
    exactly like two copies of it. ``fixed`` = ``(mean, scale)`` made elsewhere (FastChat's, from the full
    data before resampling) is applied as it is: no column is dropped.

    Constant columns carry no information and would divide by zero (FastChat then fits NaNs); they are
    dropped with a :class:`StyleBiasWarning`. Non-finite values are a data error, reported by column.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != len(names):
        raise ValueError(f"feature matrix has shape {X.shape} but {len(names)} names")
    bad = ~np.isfinite(X)
    if bad.any():
        col, row = np.argwhere(bad.T)[0]
        raise DataError(
            f"feature {names[col]!r} is not finite ({float(X[row, col])}) in battle {row + 1} "
            f"({int(bad[:, col].sum())} such values in that column)"
        )
    if fixed is not None:
        mean, scale = (np.asarray(v, dtype=np.float64) for v in fixed)
        return Standardised(np.asfortranarray((X - mean) / scale), list(names), mean, scale, [])
    if not len(X) or (weights is not None and weights.sum() <= 0):
        mean = scale = np.zeros(X.shape[1])
    elif weights is None:
        mean, scale = X.mean(axis=0), X.std(axis=0)
    else:
        mean = np.average(X, axis=0, weights=weights)
        scale = np.sqrt(np.average((X - mean) ** 2, axis=0, weights=weights))
    magnitude = np.maximum(np.abs(X).max(axis=0, initial=0.0), 1e-300)
    keep, dropped = _informative(names, scale, magnitude)
    Z = np.asfortranarray((X[:, keep] - mean[keep]) / scale[keep])
    kept = [n for n, k in zip(names, keep, strict=True) if k]
    mean, scale = mean[keep], scale[keep]
    redundant = _collinear(Z, weights)
    if redundant:
        idx, dropped = _drop_redundant(kept, redundant, dropped)
        Z = np.asfortranarray(Z[:, idx])
        kept, mean, scale = [kept[j] for j in idx], mean[idx], scale[idx]
    return Standardised(Z=Z, names=kept, mean=mean, scale=scale, dropped=dropped)


def _informative(names: list[str], scale: np.ndarray, magnitude: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Keep-mask of the columns that vary, and the names of the constant ones (warned about)."""
    keep = scale > ZERO_VARIANCE_RTOL * magnitude
    dropped = [n for n, k in zip(names, keep, strict=True) if not k]
    if dropped:
        warnings.warn(
            f"dropped {len(dropped)} feature(s) with zero variance in these battles "
            f"(no information, and standardising would divide by zero): {', '.join(dropped)}",
            StyleBiasWarning,
            stacklevel=4,
        )
    return keep, dropped


def _drop_redundant(
    kept: list[str], redundant: dict[int, int], dropped: list[str]
) -> tuple[list[int], list[str]]:
    """Positions (in ``kept``) that stay once the collinear columns go, and the dropped names (warned)."""
    idx = [j for j in range(len(kept)) if j not in redundant]
    warnings.warn(
        "dropped feature(s) that are exact linear combinations of earlier ones in these battles "
        "(their separate effects are not identifiable): "
        + ", ".join(f"{kept[j]} (~ {kept[redundant[j]]})" for j in sorted(redundant)),
        StyleBiasWarning,
        stacklevel=4,
    )
    return idx, dropped + [kept[j] for j in sorted(redundant)]


#: A feature whose variance left after regressing on the earlier features is below this share is redundant.
COLLINEAR_RTOL = 1e-9


def _collinear(Z: np.ndarray, weights: np.ndarray | None) -> dict[int, int]:
    """Columns of standardised ``Z`` that are (numerically) linear combinations of earlier columns.

    Greedy Gram-Schmidt on the correlation matrix, in column order: the first of a collinear group is
    kept. Returns {dropped column: the kept column it leans on most}.
    """
    K = Z.shape[1]
    if K < 2:
        return {}
    w = None if weights is None else weights / weights.sum()
    C = np.empty((K, K))
    for i in range(K):
        for j in range(i, K):
            prod = Z[:, i] * Z[:, j]
            C[i, j] = C[j, i] = float(prod.mean() if w is None else np.einsum("i,i->", prod, w))
    return _collinear_in(C)


def _collinear_in(C: np.ndarray) -> dict[int, int]:
    """The greedy pass of :func:`_collinear` over a correlation matrix ``C``."""
    K = len(C)
    kept: list[int] = []
    redundant: dict[int, int] = {}
    for j in range(K):
        if kept:
            S = C[np.ix_(kept, kept)]
            c = C[kept, j]
            coef = np.linalg.lstsq(S, c, rcond=None)[0]
            residual = C[j, j] - float(c @ coef)
            if residual <= COLLINEAR_RTOL * C[j, j]:
                main = kept[int(np.argmax(np.abs(coef)))]
                redundant[j] = main
                continue
        kept.append(j)
    return redundant


# -- standardisation from moments: for battles that are never in one place ------------------------------


@dataclass(frozen=True)
class Moments:
    """Weighted moments of the raw pair features over some battles, combinable across chunks.

    ``weight`` = sum of the battle weights, ``mean`` the weighted mean, ``comoment`` the weighted sum of
    ``(x - mean)(x - mean)^T`` and ``magnitude`` the largest ``|x|`` per column. :meth:`combine` is Chan,
    Golub and LeVeque's pairwise update, so moments summed over partitions in any grouping equal the
    moments of all the battles up to rounding.
    """

    weight: float
    mean: np.ndarray
    comoment: np.ndarray
    magnitude: np.ndarray

    @classmethod
    def of(cls, X: np.ndarray, weights: np.ndarray | None = None) -> Moments:
        X = np.asarray(X, dtype=np.float64)
        K = X.shape[1]
        W = float(len(X)) if weights is None else float(np.sum(weights))
        if not len(X) or W <= 0:
            return cls(0.0, np.zeros(K), np.zeros((K, K)), np.zeros(K))
        mean = X.mean(axis=0) if weights is None else np.average(X, axis=0, weights=weights)
        D = X - mean
        DW = D if weights is None else D * np.asarray(weights, dtype=np.float64)[:, None]
        return cls(W, mean, DW.T @ D, np.abs(X).max(axis=0))

    def combine(self, other: Moments) -> Moments:
        if other.weight <= 0:
            return self
        if self.weight <= 0:
            return other
        W = self.weight + other.weight
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.weight / W)
        comoment = self.comoment + other.comoment + np.outer(delta, delta) * (self.weight * other.weight / W)
        return Moments(W, mean, comoment, np.maximum(self.magnitude, other.magnitude))


@dataclass(frozen=True)
class Scaling:
    """A standardisation decided from :class:`Moments`: the kept names, their mean and scale, the dropped."""

    names: list[str]
    mean: np.ndarray
    scale: np.ndarray
    dropped: list[str]


def scaling_from_moments(moments: Moments, names: list[str]) -> Scaling:
    """What :func:`standardise` would decide for the battles behind ``moments``: the same population
    mean and std, and the same rules (and warnings) for constant and collinear columns."""
    K = len(names)
    if moments.weight <= 0:
        mean = scale = np.zeros(K)
    else:
        mean = moments.mean
        scale = np.sqrt(np.maximum(np.diag(moments.comoment), 0.0) / moments.weight)
    magnitude = np.maximum(moments.magnitude, 1e-300)
    keep, dropped = _informative(names, scale, magnitude)
    kept = [n for n, k in zip(names, keep, strict=True) if k]
    mean, scale = mean[keep], scale[keep]
    if len(kept) >= 2:
        cov = moments.comoment[np.ix_(keep, keep)] / moments.weight
        redundant = _collinear_in(cov / np.outer(scale, scale))
        if redundant:
            idx, dropped = _drop_redundant(kept, redundant, dropped)
            kept, mean, scale = [kept[j] for j in idx], mean[idx], scale[idx]
    return Scaling(kept, np.array(mean, dtype=np.float64), np.array(scale, dtype=np.float64), dropped)
