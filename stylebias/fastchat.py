"""Drop-in replacements for FastChat's style-control functions: switch a leaderboard job by one import.

FastChat (``fastchat/serve/monitor/rating_systems.py``, used by ``elo_analysis.py``) computes LMArena's
style-controlled ratings with::

    compute_style_control(df, alpha=math.log(10.0), reg=0.5, init_rating=1000.0, scale=400.0, tol=1e-6)
        -> (ratings: pd.Series sorted best first, params: np.ndarray of style coefficients)
    compute_bootstrap_style_control(df, num_round, alpha=..., reg=0.5, init_rating=1000.0, scale=400.0,
                                    tol=1e-6, num_cpu=None)
        -> (bootstrap ratings: DataFrame num_round x models, columns by median best first,
            params: np.ndarray num_round x features)

This module has the same names, call shape and return shape::

    - from fastchat.serve.monitor.rating_systems import compute_style_control
    + from stylebias.fastchat import compute_style_control

Same numbers: the objective is FastChat's (summed log-loss, ties half a win, ``reg/2 * ||theta||^2``,
``alpha`` per rating unit, features = (a - b) / (a + b + 1) of the four ``conv_metadata`` counts
standardised with ``np.std``), and the Elo scaling including FastChat's anchor (``mixtral-8x7b-instruct-v0.1``
at 1114 when present). The bootstrap draws its resamples exactly as FastChat does -- ``np.random.randint(0,
n, (num_round, n))`` from NumPy's global generator, features standardised once on the full data -- so after
the same ``np.random.seed(...)`` the replicates are fits to the same resampled battles. The fit itself is
the package's one fit path (:func:`stylebias.rating.fit.fit_design` with a fixed standardisation, FastChat's
``alpha`` and the resamples as replicate weights).

What differs, on purpose:

* **Solved to convergence.** FastChat stops L-BFGS after 100 iterations (``gtol=tol``); here Newton's method
  with the exact Hessian runs until the largest step is below 1e-9 (replicates: 1e-8; typically 5-8 steps),
  so results equal the true optimum of FastChat's objective (see ``tests/test_fastchat_adapter.py``).
  ``tol`` is accepted for call compatibility.
* **No silent ties.** FastChat counts *any* winner label other than ``model_a``/``model_b`` as a tie; here
  only ``tie`` and ``tie (bothbad)`` are (plus ``both_bad``, the 140k release's label), and any other label,
  a missing model name or a malformed ``conv_metadata`` raises :class:`~stylebias.errors.DataError` naming
  the row. A constant feature (FastChat fits NaNs) and a disconnected comparison graph (whose parts share
  no rating scale) are ``DataError`` too.
* **Frames with texts.** A frame without ``conv_metadata`` but with ``conversation_a/b`` gets LMArena's four
  features from the texts (:func:`stylebias.pair_features`).
* ``style_elements`` and ``anchor_model_and_rating`` (which some FastChat forks add as parameters) are
  keyword-only here, so FastChat's positional call shape stays exactly the same.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .battles import PREF_FROM_WINNER
from .errors import DataError, UsageError
from .rows import WINNER_LABELS

STYLE_CONTROL_ELEMENTS_V1 = [
    "sum_assistant_a_tokens",
    "header_count_a",
    "list_count_a",
    "bold_count_a",
    "sum_assistant_b_tokens",
    "header_count_b",
    "list_count_b",
    "bold_count_b",
]

#: FastChat's ``scale_and_offset`` default anchor.
BASELINE_MODEL = "mixtral-8x7b-instruct-v0.1"
BASELINE_RATING = 1114.0

#: FastChat's winner labels (LMArena's and the 140k release's) and the share of the vote for A each means.
_OUTCOME = {label: PREF_FROM_WINNER[w] for label, w in WINNER_LABELS.items()}


# ---------------------------------------------------------------------------------------------- preprocessing
def preprocess_for_style(
    df: pd.DataFrame,
    apply_ratio: Sequence[int] = (1, 1, 1, 1),
    style_elements: Sequence[str] = STYLE_CONTROL_ELEMENTS_V1,
    add_one: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """``(matchups, features, outcomes, models)`` like FastChat's function of the same name.

    ``matchups`` (n x 2 int) index ``models`` (first-appearance order, as ``pd.factorize``); ``features``
    are standardised (n x k); ``outcomes`` are 1 / 0.5 / 0 for A win / tie / B win.
    """
    matchups, diff, outcomes, models = _style_matrix(df, style_elements, apply_ratio, add_one)
    mean, std = _standardisation(diff, style_elements)
    return matchups, (diff - mean) / std, outcomes, models


def _style_matrix(
    df: pd.DataFrame,
    style_elements: Sequence[str],
    apply_ratio: Sequence[int] = (1, 1, 1, 1),
    add_one: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """:func:`preprocess_for_style` before standardisation: the raw feature differences."""
    if not isinstance(df, pd.DataFrame):
        raise UsageError(f"expected a pandas DataFrame of battles, got {type(df).__name__}")
    missing = [c for c in ("model_a", "model_b", "winner") if c not in df.columns]
    if missing:
        raise DataError(f"battles frame lacks column(s) {', '.join(missing)}")
    n = len(df)
    if n == 0:
        raise DataError("no battles")
    names = pd.concat([df["model_a"], df["model_b"]], ignore_index=True)
    bad_name = names.isna() | ~names.map(lambda v: isinstance(v, str) and bool(v.strip()))
    if bad_name.any():
        i = int(np.flatnonzero(bad_name.to_numpy())[0]) % n
        raise DataError(f"row {i + 1}: missing or empty model name", record=i + 1)
    codes, uniques = pd.factorize(names)
    matchups = np.column_stack([codes[:n], codes[n:]]).astype(np.int64)
    outcomes = df["winner"].map(_OUTCOME).to_numpy(dtype=np.float64)
    if np.isnan(outcomes).any():
        i = int(np.flatnonzero(np.isnan(outcomes))[0])
        raise DataError(
            f"row {i + 1}: unknown winner label {df['winner'].iloc[i]!r} (expected model_a, model_b, tie, "
            "tie (bothbad)); FastChat would have counted it as a tie",
            record=i + 1,
        )
    if "conv_metadata" in df.columns:
        diff = _metadata_features(df, style_elements, apply_ratio, add_one)
    elif "conversation_a" in df.columns and list(style_elements) == STYLE_CONTROL_ELEMENTS_V1:
        diff = _text_features(df)
    else:
        raise DataError("battles frame has neither conv_metadata nor conversation_a/conversation_b")
    return matchups, diff, outcomes, [str(m) for m in uniques]


def _standardisation(diff: np.ndarray, style_elements: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """FastChat's ``(mean, np.std)`` per feature; a constant feature (FastChat fits NaNs) is an error."""
    mean, std = diff.mean(axis=0), diff.std(axis=0)
    if (std == 0).any():
        k = int(np.flatnonzero(std == 0)[0])
        raise DataError(
            f"style feature {k} ({style_elements[k]}) is constant in these battles; it cannot be standardised"
        )
    return mean, std


def _metadata_features(
    df: pd.DataFrame, style_elements: Sequence[str], apply_ratio: Sequence[int], add_one: bool
) -> np.ndarray:
    from .rows import Reject, count, is_null, maybe_json

    k = len(style_elements) // 2
    if len(style_elements) != 2 * k or k == 0:
        raise UsageError("style_elements must list the A-side elements, then the B-side elements")
    values = np.empty((len(df), 2 * k))
    for i, cm in enumerate(df["conv_metadata"].tolist()):
        try:
            cm = maybe_json(cm)
            if not isinstance(cm, dict):
                raise Reject(f"conv_metadata is {'missing' if is_null(cm) else type(cm).__name__}")
            for j, element in enumerate(style_elements):
                v = cm.get(element)
                if is_null(v):
                    raise Reject(f"conv_metadata lacks {element}")
                values[i, j] = count(v, element)
        except Reject as exc:
            raise DataError(f"row {i + 1}: {exc}", record=i + 1) from None
    a, b = values[:, :k], values[:, k:]
    diff = a - b
    total = a + b + (1.0 if add_one else 0.0)
    ratio = np.flatnonzero(np.asarray(apply_ratio))
    diff[:, ratio] = diff[:, ratio] / total[:, ratio]
    return diff


def _text_features(df: pd.DataFrame) -> np.ndarray:
    from .extract import pair_features
    from .formats.lmarena import battles_from_fastchat_frame

    bs = battles_from_fastchat_frame(df)
    if len(bs.rejects):
        r = bs.rejects.iloc[0]
        raise DataError(f"row {r['record']}: {r['reason']}", record=r["record"])
    return pair_features(bs.battles, "lmarena").to_numpy(dtype=np.float64)


# ---------------------------------------------------------------------------------------------- fitting
def _fit(
    df: pd.DataFrame,
    alpha: float,
    reg: float,
    init_rating: float,
    scale: float,
    anchor: tuple[str, float] | None,
    style_elements: Sequence[str] | None,
    *,
    num_round: int | None = None,
    num_cpu: int | None = None,
) -> tuple[Any, list[str]]:
    """The fitted :class:`~stylebias.rating.StyleBT` of FastChat's problem and the models in FastChat's order.

    FastChat's features with its own standardisation, its ``alpha``, its anchor rule, and for the bootstrap
    its resamples (``num_round`` draws of ``np.random.randint(0, n, n)``: the numbers of FastChat's one
    ``(num_round, n)`` draw), kept as battle counts; a disconnected comparison graph is refused.
    """
    from .rating import FitSettings
    from .rating.fit import Design, fit_design

    elements = list(style_elements or STYLE_CONTROL_ELEMENTS_V1)
    matchups, diff, outcomes, models = _style_matrix(df, elements)
    scaling = _standardisation(diff, elements)
    counts = None
    if num_round is not None:
        n = len(outcomes)
        counts = np.empty((num_round, n), dtype=np.int32)
        for r in range(num_round):
            counts[r] = np.bincount(np.random.randint(low=0, high=n, size=n), minlength=n)
    names = np.asarray(models, dtype=object)
    design = Design(
        names[matchups[:, 0]],
        names[matchups[:, 1]],
        outcomes,
        pd.DataFrame(diff, columns=elements[: diff.shape[1]]),
        scaling=scaling,
        model_scale=float(alpha),
        resamples=counts,
    )
    model, rating = anchor if anchor is not None else (BASELINE_MODEL, BASELINE_RATING)
    settings = FitSettings(
        reg=float(reg),
        ci="sandwich" if counts is None else "bootstrap",
        rounds=max(2, num_round or 0),  # FastChat allows one replicate; the resamples decide
        n_jobs=num_cpu,
        components="refuse",
        scale=float(scale),
        base=float(init_rating),
        anchor=(model, float(rating)) if model in models else None,
    )
    return fit_design(design, settings, raw=False).controlled, models


def compute_style_control(
    df: pd.DataFrame,
    alpha: float = math.log(10.0),
    reg: float = 0.5,
    init_rating: float = 1000.0,
    scale: float = 400.0,
    tol: float = 1e-6,
    *,
    style_elements: Sequence[str] | None = None,
    anchor_model_and_rating: tuple[str, float] | None = None,
) -> tuple[pd.Series, np.ndarray]:
    """Style-controlled Bradley-Terry ratings, FastChat's call and return shape (see the module doc).

    Returns ``(ratings, params)``: Elo ratings as a Series indexed by model, best first, and the style
    coefficients (log-odds per SD of each feature, in ``style_elements`` order).
    """
    bt, models = _fit(df, alpha, reg, init_rating, scale, anchor_model_and_rating, style_elements)
    ratings = pd.Series(bt.ratings_[models].to_numpy(), index=models).sort_values(ascending=False)
    return ratings, bt.coef_


def compute_bootstrap_style_control(
    df: pd.DataFrame,
    num_round: int,
    alpha: float = math.log(10.0),
    reg: float = 0.5,
    init_rating: float = 1000.0,
    scale: float = 400.0,
    tol: float = 1e-6,
    num_cpu: int | None = None,
    *,
    style_elements: Sequence[str] | None = None,
    anchor_model_and_rating: tuple[str, float] | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Bootstrap style-controlled ratings, FastChat's call and return shape (see the module doc).

    Returns ``(ratings, params)``: a DataFrame with one row per replicate and one column per model (columns
    ordered by median rating, best first) and an array ``num_round x features`` of style coefficients.
    Resamples come from ``np.random.randint`` on NumPy's global generator, exactly as FastChat draws them;
    replicates run in ``num_cpu`` threads (default: all cores) and start from the full-data optimum.
    """
    if not isinstance(num_round, int | np.integer) or num_round < 1:
        raise UsageError(f"num_round must be a positive integer, got {num_round!r}")
    bt, models = _fit(
        df,
        alpha,
        reg,
        init_rating,
        scale,
        anchor_model_and_rating,
        style_elements,
        num_round=int(num_round),
        num_cpu=num_cpu,
    )
    boot = bt.boot_ratings_[models]
    P = len(bt.models_)
    return boot[boot.median().sort_values(ascending=False).index], bt.boot_theta_[:, P : P + len(bt.coef_)]
