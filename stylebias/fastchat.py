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
features = (a - b) / (a + b + 1) of the four ``conv_metadata`` counts standardised with ``np.std``), and the
Elo scaling including FastChat's anchor (``mixtral-8x7b-instruct-v0.1`` at 1114 when present). The
bootstrap draws its resamples exactly as FastChat does -- ``np.random.randint(0, n, (num_round, n))`` from
NumPy's global generator, features standardised once on the full data -- so after the same
``np.random.seed(...)`` the replicates are fits to the same resampled battles.

What differs, on purpose:

* **Solved to convergence.** FastChat stops L-BFGS after 100 iterations (``gtol=tol``); here Newton's method
  with the exact Hessian runs until the largest step is below ``min(tol, 1e-9)`` (typically 5-8 steps), so
  results equal the true optimum of FastChat's objective (see ``tests/test_fastchat_adapter.py``). ``tol``
  is accepted for call compatibility.
* **No silent ties.** FastChat counts *any* winner label other than ``model_a``/``model_b`` as a tie; here
  only ``tie`` and ``tie (bothbad)`` are (plus ``both_bad``, the 140k release's label), and any other label,
  a missing model name or a malformed ``conv_metadata`` raises :class:`~stylebias.errors.DataError` naming
  the row. A constant feature (FastChat fits NaNs) is also a ``DataError``.
* **Frames with texts.** A frame without ``conv_metadata`` but with ``conversation_a/b`` gets LMArena's four
  features from the texts (:func:`stylebias.pair_features`).
* ``style_elements`` and ``anchor_model_and_rating`` (which some FastChat forks add as parameters) are
  keyword-only here, so FastChat's positional call shape stays exactly the same.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from .battles import PREF_FROM_WINNER
from .errors import DataError, UsageError
from .outputs import plain
from .progress import task
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
    mean, std = diff.mean(axis=0), diff.std(axis=0)
    if (std == 0).any():
        k = int(np.flatnonzero(std == 0)[0])
        raise DataError(
            f"style feature {k} ({style_elements[k]}) is constant in these battles; it cannot be standardised"
        )
    return matchups, (diff - mean) / std, outcomes, [str(m) for m in uniques]


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
                v = plain(cm.get(element), keep_nonfinite=True)
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
class _Design:
    """One problem in the solver's layout (battles sorted by ordered pair), reusable across resamples."""

    def __init__(
        self,
        matchups: np.ndarray,
        features: np.ndarray,
        outcomes: np.ndarray,
        n_models: int,
        alpha: float,
        reg: float,
    ) -> None:
        from .rating.design import encode_models
        from .rating.likelihood import HalfTies
        from .rating.solver import pair_sorted_problem

        enc = encode_models(matchups[:, 0].astype(str), matchups[:, 1].astype(str))
        # encode_models sorts models by name; map its indices back to our model codes
        self.index = np.array([int(m) for m in enc.models])
        self.problem, self.order = pair_sorted_problem(enc, outcomes, features, HalfTies(), reg, None, alpha)
        self.n_models = n_models
        self.P = len(enc.models)

    def solve(
        self, counts: np.ndarray | None = None, start: np.ndarray | None = None, xtol: float = 1e-9
    ) -> np.ndarray:
        """FastChat's parameter vector (ratings in model-code order, then style coefficients)."""
        from .rating.solver import Workspace, newton

        problem = self.problem
        if counts is not None:
            problem = problem.with_weights(counts[self.order].astype(np.float64), Workspace(len(self.order)))
        theta0 = np.zeros(problem.dim) if start is None else start
        theta, _ = newton(problem, theta0, xtol=xtol, max_iter=200)
        out = np.zeros(self.n_models + problem.K)
        out[self.index] = theta[: self.P]
        out[self.n_models :] = theta[self.P : self.P + problem.K]
        return out

    def internal(self, params: np.ndarray) -> np.ndarray:
        """FastChat's parameter vector -> the solver's order (for warm starts)."""
        theta = np.empty(self.problem.dim)
        theta[: self.P] = params[self.index]
        theta[self.P :] = params[self.n_models :]
        return theta


def _scale_and_offset(
    ratings: np.ndarray, models: list[str], scale: float, init_rating: float, anchor: tuple[str, float] | None
) -> np.ndarray:
    """FastChat's ``scale_and_offset``: Elo scale, then the baseline model pinned to its rating."""
    scaled = ratings * scale + init_rating
    model, rating = anchor if anchor is not None else (BASELINE_MODEL, BASELINE_RATING)
    if model in models:
        i = models.index(model)
        scaled = scaled + (rating - scaled[..., [i]])
    return scaled


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
    elements = list(style_elements or STYLE_CONTROL_ELEMENTS_V1)
    matchups, features, outcomes, models = preprocess_for_style(df, style_elements=elements)
    design = _Design(matchups, features, outcomes, len(models), float(alpha), float(reg))
    with task("fitting style control (FastChat objective)", total=None):
        params = design.solve(xtol=min(float(tol), 1e-9))
    ratings = params[: len(models)]
    scaled = _scale_and_offset(ratings, models, scale, init_rating, anchor_model_and_rating)
    series = pd.Series(scaled, index=models).sort_values(ascending=False)
    return series, params[len(models) :]


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
    elements = list(style_elements or STYLE_CONTROL_ELEMENTS_V1)
    matchups, features, outcomes, models = preprocess_for_style(df, style_elements=elements)
    design = _Design(matchups, features, outcomes, len(models), float(alpha), float(reg))
    xtol = min(float(tol), 1e-8)
    full = design.internal(design.solve(xtol=xtol))
    n = len(outcomes)
    boot_idxs = np.random.randint(low=0, high=n, size=(int(num_round), n))

    def one(idx: np.ndarray) -> np.ndarray:
        return design.solve(np.bincount(idx, minlength=n), start=full, xtol=xtol)

    workers = max(1, int(num_cpu) if num_cpu else (os.cpu_count() or 1))
    results: list[np.ndarray] = []
    with task("bootstrap style control (FastChat resamples)", total=int(num_round)) as advance:
        if workers == 1:
            for idx in boot_idxs:
                results.append(one(idx))
                advance(1)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for r in pool.map(one, boot_idxs):
                    results.append(r)
                    advance(1)
    params = np.array(results)
    ratings = params[:, : len(models)]
    scaled = _scale_and_offset(ratings, models, scale, init_rating, anchor_model_and_rating)
    boot = pd.DataFrame(scaled, columns=models)
    return boot[boot.median().sort_values(ascending=False).index], params[:, len(models) :]
