"""Who gained what from style: exact Shapley values over feature groups, TreeSHAP per feature, per model.

**Style-neutral prediction.** The vote model with every style pair feature set to 0 (both answers alike in
style) and the strength offset kept: sigma(offset), because the side-blind style part g(0) = 0.

**Group points.** The game v(S) = sigma(offset + g(x_S)), where x_S keeps the pair features of the groups in S
and sets the others to 0. Its exact Shapley values (all 2^G subsets of the G groups) split the battle's
predicted minus style-neutral P(A wins) into one share per group, and they add up to it exactly (efficiency).
Only groups with a non-zero pair feature in a battle can change v (the others are dummy players with Shapley
value 0), so each battle needs 2^(active groups) predictions, not 2^G: battles are bucketed by their
active-group mask and each bucket's game is played by its active groups.

**Per model.** A model's share of a battle is seen from its side: P(it wins) is P(A wins) when it was A and
1 - P(A wins) when it was B, so every group point and SHAP value flips sign for its B battles. Averaging over
the battles it played gives observed, predicted and style-neutral win rates and the points each group bought
(predicted - neutral = sum of group points, exactly).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import expit

from ..progress import task
from .votemodel import VoteModel

CHUNK = 4096


def _shapley_weights(g: int) -> np.ndarray:
    """w[s] = s! (g - s - 1)! / g!: weight of a coalition of size s not containing the player."""
    return np.array([math.factorial(s) * math.factorial(g - s - 1) / math.factorial(g) for s in range(g)])


def group_shapley(
    vote: VoteModel,
    X: pd.DataFrame,
    offset: np.ndarray,
    groups: dict[str, list[str]],
) -> pd.DataFrame:
    """Exact Shapley values of the feature groups on the probability scale, one row per battle.

    Rows add up to ``sigma(offset + g(x)) - sigma(offset)`` (within float rounding).
    """
    names = list(groups)
    G = len(names)
    n = len(X)
    arr = vote.matrix(X)
    col = {f: j for j, f in enumerate(vote.features)}
    gcols = [np.array([col[f] for f in groups[g] if f in col], dtype=np.int64) for g in names]
    if vote.booster is None:  # linear style part: the game only needs each group's linear term
        w = vote.coef_vector
        terms = np.column_stack([arr[:, c] @ w[c] for c in gcols]) if G else np.zeros((n, 0))
        return pd.DataFrame(linear_group_shapley(offset, terms), columns=names, index=X.index)
    active = np.zeros(n, dtype=np.int64)
    for i, cols in enumerate(gcols):
        if len(cols):
            active |= (np.abs(arr[:, cols]).max(axis=1) > 0).astype(np.int64) << i
    # Groups a battle does not use are dummy players (their marginal contribution is always 0), so each
    # battle's game is played by its active groups only: 2^(active) predictions, the same Shapley values.
    phi = np.zeros((n, G))
    masks, inverse = np.unique(active, return_inverse=True)
    with task("group Shapley values", total=len(masks)) as advance:
        for m_i, mask in enumerate(masks):
            players = [i for i in range(G) if int(mask) >> i & 1]
            k = len(players)
            bucket = np.flatnonzero(inverse == m_i)
            if k == 0:
                advance(1)
                continue
            keeps = []
            for S in range(1 << k):
                keep = np.zeros(arr.shape[1], dtype=bool)
                for j, i in enumerate(players):
                    if S >> j & 1:
                        keep[gcols[i]] = True
                keeps.append(keep)
            C = shapley_matrix(k)
            # bounded memory: at most CHUNK battles x (subsets) x (features) at a time
            for start in range(0, len(bucket), CHUNK):
                rows = bucket[start : start + CHUNK]
                block = np.vstack([np.where(keep, arr[rows], 0.0) for keep in keeps])
                margin = vote.style_margin(block).reshape(len(keeps), len(rows))
                value = expit(offset[rows][None, :] + margin)  # (subsets, rows)
                phi[np.ix_(rows, players)] = value.T @ C
            advance(1)
    return pd.DataFrame(phi, columns=names, index=X.index)


def shapley_matrix(g: int) -> np.ndarray:
    """C (2^g, g) with Shapley values = v @ C for a game given by its values v on all 2^g coalitions.

    phi_i = sum over S without i of w(|S|) (v(S + i) - v(S)), so coalition T gets +w(|T| - 1) in column i when
    it contains i and -w(|T|) when it does not.
    """
    w = _shapley_weights(g)
    C = np.zeros((1 << g, g))
    for T in range(1 << g):
        size = bin(T).count("1")
        for i in range(g):
            C[T, i] = w[size - 1] if T >> i & 1 else (-w[size] if size < g else 0.0)
    return C


def linear_group_shapley(base: np.ndarray, terms: np.ndarray) -> np.ndarray:
    """Exact group Shapley values of v(S) = sigma(base + sum of ``terms[:, g]`` for g in S), shape (n, G).

    ``terms`` holds each group's additive log-odds term per battle; rows add up to
    ``sigma(base + terms.sum(1)) - sigma(base)``. All 2^G subsets at once, in chunks of :data:`CHUNK` battles.
    """
    n, G = terms.shape
    phi = np.zeros((n, G))
    if G == 0 or n == 0:
        return phi
    subsets = np.array([[S >> i & 1 for i in range(G)] for S in range(1 << G)], dtype=np.float64)
    C = shapley_matrix(G)
    for start in range(0, n, CHUNK):
        rows = slice(start, min(start + CHUNK, n))
        phi[rows] = expit(base[rows][:, None] + terms[rows] @ subsets.T) @ C
    phi[terms == 0] = 0.0  # a group with no term in a battle is a dummy player: exactly 0, not rounding
    return phi


def own_side_means(
    index_a: np.ndarray, index_b: np.ndarray, n_models: int, values: np.ndarray, complement: bool
) -> np.ndarray:
    """Per model, the mean of ``values`` over its battles seen from its side.

    A's side keeps the value; B's side gets ``1 - value`` (``complement``, for probabilities) or ``-value``
    (for points). ``values`` is (n,) or (n, c); the result is (n_models,) or (n_models, c).
    """
    v = np.asarray(values, dtype=np.float64)
    flat = v.ndim == 1
    v2 = v[:, None] if flat else v
    played = np.bincount(index_a, minlength=n_models) + np.bincount(index_b, minlength=n_models)
    out = np.empty((n_models, v2.shape[1]))
    for j in range(v2.shape[1]):
        col = v2[:, j]
        b_side = (1.0 - col) if complement else -col
        out[:, j] = np.bincount(index_a, col, minlength=n_models) + np.bincount(
            index_b, b_side, minlength=n_models
        )
    out /= np.maximum(played, 1)[:, None]
    return out[:, 0] if flat else out


def side_sign(model_a: np.ndarray, model_b: np.ndarray, model: str) -> tuple[np.ndarray, np.ndarray]:
    """(rows the model played, +1 where it was A / -1 where it was B)."""
    is_a = model_a == model
    is_b = model_b == model
    rows = np.flatnonzero(is_a | is_b)
    return rows, np.where(is_a[rows], 1.0, -1.0)


def per_model(
    model_a: np.ndarray,
    model_b: np.ndarray,
    pref_a: np.ndarray,
    p: np.ndarray,
    p_neutral: np.ndarray,
    phi_groups: pd.DataFrame,
    shap: np.ndarray,
    features: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per model: (summary table, group points in win-rate points, mean feature SHAP in log-odds), own side.

    A battle a model plays against itself (same name both sides) counts once with sign +1 and nets to 0.5.
    """
    models = sorted(set(map(str, model_a)) | set(map(str, model_b)))
    rows_out = []
    gp = np.zeros((len(models), phi_groups.shape[1]))
    fs = np.zeros((len(models), len(features)))
    G = phi_groups.to_numpy()
    for k, m in enumerate(models):
        rows, s = side_sign(model_a, model_b, m)
        side = (1 - s) / 2  # 0 for A, 1 for B: own = side + s * value_for_A
        observed = float(np.mean(side + s * pref_a[rows]))
        predicted = float(np.mean(side + s * p[rows]))
        neutral = float(np.mean(side + s * p_neutral[rows]))
        gp[k] = 100.0 * (s[:, None] * G[rows]).mean(axis=0)
        fs[k] = (s[:, None] * shap[rows]).mean(axis=0)
        rows_out.append(
            {
                "model": m,
                "battles": len(rows),
                "observed": observed,
                "predicted": predicted,
                "neutral": neutral,
                "style_points": 100.0 * (predicted - neutral),
            }
        )
    summary = pd.DataFrame(rows_out)
    group_points = pd.DataFrame(gp, index=pd.Index(models, name="model"), columns=list(phi_groups.columns))
    feature_shap = pd.DataFrame(fs, index=pd.Index(models, name="model"), columns=features)
    return summary, group_points, feature_shap
