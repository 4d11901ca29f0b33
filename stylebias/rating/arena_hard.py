"""Arena-Hard-Auto's own scores, computed as its ``show_result.py`` computes them (``--parity``).

stylebias's baseline-anchored score (:mod:`.baseline`) is read off its own exact fits. This module
reproduces the numbers upstream prints instead, so a maintainer can check stylebias against the board they
know before switching to stylebias's reading. Read from ``lmarena/arena-hard-auto``: v0.1 at ``3071ef9``
(``show_result.py``, ``utils_math.py``), v2 at ``196f6b8`` (``show_result.py``, ``utils/math_utils.py``).

Both generations build one battle row per counted outcome: a strong verdict (``A>>B``) is the same battle
``weight`` = 3 times, in the order the judgment files are read (``glob`` over the judge folder, unsorted:
the directory's own listing order; then line order; v0.1 game 1 before game 2, v2 game 2 before game 1).
Every bootstrap draw indexes those rows with numpy's legacy global generator; here a
``numpy.random.RandomState(seed)`` makes the same calls in the same order, and each drawn row adds one to
the weight of the stylebias battle it came from, so the fits see exactly upstream's resampled data.

**v0.1** (``arena-hard-v0.1``; upstream seeds ``np.random.seed(42)`` when ``utils_math`` is imported):

* plain: unpenalised Bradley-Terry (``compute_mle_elo``: ``LogisticRegression(penalty=None)``); score from
  the full-data fit; 95 % interval from the 2.5/97.5 percentiles of 100 refits on ``battles.sample(frac=1,
  replace=True)`` draws (``get_bootstrap_result``), each column turned into a win rate with the baseline's
  value in the same column (``get_win_rate_column``). Upstream's bootstrap always anchors ``gpt-4-0314``
  (``kwargs[baseline_model] = baseline_model`` keys the dict by the name): with another baseline its
  replicates are unanchored and the interval too narrow; reproduced, with a note in the result;
* style: L2-penalised BT (``fit_bt``: sklearn's default ``C = 1`` on rows duplicated twice, which is
  stylebias's ``reg = 0.5`` on the summed log-loss), features ``arena-hard-v0.1`` standardised over the
  battles (``np.std``), score from the full-data fit; 100 refits on ``np.random.choice(n, n)`` draws with the
  full-data standardisation (``get_bootstrap_result_style_control``), 2.5/97.5 percentiles.

**v2** (``arena-hard-v2``; upstream seeds nothing, so ``--seed`` stands in for its unseeded run):

* plain: no model; per model the mean outcome of 100 resamples of its own rows
  (``groupby("model").sample(frac=1, replace=True)``); score = the mean of the 100 means, interval = their
  5 % and 95 % quantiles (a 90 % interval);
* style: features ``arena-hard`` (length share and markdown densities) standardised with the unbiased std
  (``torch.std``); 100 fits on ``np.random.randint(0, N, (100, N))`` draws, each by ``torch.optim.LBFGS(lr=0.1,
  max_iter=50)`` with no line search from every parameter at 0.5 (``fit_pairwise_model``), unpenalised, in
  natural-log units; score = the median of the 100 win rates, interval = 5 % / 95 % quantiles. The fits stop
  after 50 fixed steps, short of the optimum: :func:`lbfgs_fixed_steps` is a numpy port of that optimiser.
  Upstream scores one question category per run (``-c``).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from ..errors import DataError, UsageError
from .baseline import win_rate
from .design import encode_models
from .likelihood import HalfTies
from .solver import LN10, PairLayout, Problem, newton

#: The name v0.1's bootstrap always anchors (``get_bootstrap_result``'s default ``baseline_model``).
V01_ANCHOR = "gpt-4-0314"
#: v0.1 seeds numpy's global generator at import (``utils_math.py``: ``np.random.seed(42)``).
V01_SEED = 42
#: v2's optimiser: ``torch.optim.LBFGS(lr=0.1, max_iter=50, tolerance_grad=1e-9, tolerance_change=1e-9)``.
V2_LBFGS = {"lr": 0.1, "max_iter": 50, "tol": 1e-9, "history": 100, "start": 0.5}
LEVELS = {"arena-hard-v0.1": 0.95, "arena-hard-v2": 0.90}


# ------------------------------------------------------------------------------------------- row order
def upstream_rows(battles: pd.DataFrame, parity: str) -> np.ndarray:
    """Upstream's battle rows as positions into ``battles``: one entry per counted outcome, in its order.

    Files in ``glob`` order per judge folder (judge folders by name), then line, then game (v0.1: game 1
    first; v2: game 2 first), each repeated ``weight`` times. Battles without a ``<line>:g<game>`` record
    (built elsewhere) keep their order.
    """
    files = battles["source_file"].astype(str).to_numpy() if "source_file" in battles else None
    records = battles["source_record"].astype(str) if "source_record" in battles else None
    n = len(battles)
    if files is None or records is None:
        order = np.arange(n)
    else:
        parts = records.str.extract(r"^(\d+):g(\d+)$")
        line = pd.to_numeric(parts[0], errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
        game = pd.to_numeric(parts[1], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
        if parity == "arena-hard-v2":
            game = -game
        rank = _file_ranks(files)
        order = np.lexsort((np.arange(n), game, line, rank))
    reps = _weights(battles).astype(np.int64)
    if not np.allclose(reps, _weights(battles)):
        raise DataError("upstream's scores count whole battles: every weight must be a whole number")
    return np.repeat(order, reps[order])


def _file_ranks(files: np.ndarray) -> np.ndarray:
    """Rank of each battle's file: judge folders by name, files as ``glob(f"{folder}/*jsonl")`` lists them."""
    uniq = sorted(set(files.tolist()), key=lambda f: (os.path.dirname(f), f))
    pos: dict[str, tuple[str, int, str]] = {}
    for folder in sorted({os.path.dirname(f) for f in uniq}):
        listing = {os.path.normpath(p): k for k, p in enumerate(glob.glob(os.path.join(folder, "*jsonl")))}
        for f in uniq:
            if os.path.dirname(f) == folder:
                pos[f] = (folder, listing.get(os.path.normpath(f), len(listing)), f)
    ranked = {f: r for r, f in enumerate(sorted(uniq, key=lambda f: pos[f]))}
    return np.array([ranked[f] for f in files], dtype=np.int64)


def _weights(battles: pd.DataFrame) -> np.ndarray:
    if "weight" not in battles:
        return np.ones(len(battles))
    return pd.to_numeric(battles["weight"], errors="coerce").to_numpy(dtype=np.float64)


# ------------------------------------------------------------------------------------------- problems
def _problem(
    a: np.ndarray, b: np.ndarray, y: np.ndarray, Z: np.ndarray | None, L: float, reg: float
) -> tuple[Problem, list[str], np.ndarray]:
    """The likelihood of these battles (pair-sorted, as the solver wants them) and the sort order."""
    enc = encode_models(a, b)
    order = np.argsort(enc.pair, kind="stable")
    layout = PairLayout.from_sorted(enc.pair[order], enc.pair_a, enc.pair_b, len(enc.models))
    Zs = None if Z is None or Z.shape[1] == 0 else Z[order]
    return Problem(layout, y[order], Zs, HalfTies(), reg, np.ones(len(y)), L), enc.models, order


def _counts(owner: np.ndarray, draw: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(owner[draw], minlength=n).astype(np.float64)


def lbfgs_fixed_steps(
    fun: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    *,
    lr: float = 0.1,
    max_iter: int = 50,
    tol: float = 1e-9,
    history: int = 100,
) -> np.ndarray:
    """``torch.optim.LBFGS(lr, max_iter, tolerance_grad=tol, tolerance_change=tol, history_size=history)``
    without a line search, one ``step(closure)`` (``torch/optim/lbfgs.py``), ported to numpy (float64).

    The first step is ``min(1, 1/|g|_1) * lr`` along ``-g``, every later one ``lr`` along the two-loop
    L-BFGS direction; it stops after ``max_iter`` iterations (or ``max_iter * 5 / 4`` evaluations, a tiny
    gradient, step or change of the loss) whether or not it has reached the optimum.
    """
    x = np.array(x0, dtype=np.float64, copy=True)
    max_eval = max_iter * 5 // 4
    loss, g = fun(x)
    evals = 1
    if np.abs(g).max() <= tol:
        return x
    dirs: list[np.ndarray] = []
    stps: list[np.ndarray] = []
    ro: list[float] = []
    h_diag = 1.0
    d = prev_g = None
    t = lr
    for n_iter in range(1, max_iter + 1):
        if n_iter == 1:
            d = -g
        else:
            yv = g - prev_g
            s = d * t
            ys = float(yv @ s)
            if ys > 1e-10:
                if len(dirs) == history:
                    dirs.pop(0)
                    stps.pop(0)
                    ro.pop(0)
                dirs.append(yv)
                stps.append(s)
                ro.append(1.0 / ys)
                h_diag = ys / float(yv @ yv)
            q = -g
            al = [0.0] * len(dirs)
            for k in range(len(dirs) - 1, -1, -1):
                al[k] = float(stps[k] @ q) * ro[k]
                q = q - al[k] * dirs[k]
            r = q * h_diag
            for k in range(len(dirs)):
                r = r + (al[k] - float(dirs[k] @ r) * ro[k]) * stps[k]
            d = r
        prev_g = g.copy()
        prev_loss = loss
        t = min(1.0, 1.0 / float(np.abs(g).sum())) * lr if n_iter == 1 else lr
        if float(g @ d) > -tol:
            break
        x = x + t * d
        if n_iter != max_iter:
            loss, g = fun(x)
            evals += 1
        if n_iter == max_iter or evals >= max_eval:
            break
        if np.abs(g).max() <= tol or np.abs(d * t).max() <= tol or abs(loss - prev_loss) < tol:
            break
    return x


def _fun(problem: Problem) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        t = problem.terms(theta)
        return problem.objective(theta), problem.gradient(theta, t).copy()

    return f


# ------------------------------------------------------------------------------------------- scores
def parity_scores(
    battles: pd.DataFrame,
    X: pd.DataFrame | None,
    parity: str,
    baseline: str,
    *,
    seed: int,
    rounds: int,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``score_raw*`` and ``score*`` columns (percent) as ``show_result.py`` prints them, and the facts.

    ``battles``: the battle table (every battle must involve ``baseline``); ``X``: its raw pair features in
    the same row order (the parity's feature set). Returns one row per model and the ``baseline`` JSON
    block's extra fields (level, seed, rounds, style coefficients in upstream's sign, notes).
    """
    b = battles.reset_index(drop=True)
    a_side, b_side = b["model_a"].astype(str).to_numpy(), b["model_b"].astype(str).to_numpy()
    if parity == "arena-hard-v2" and "category" in b and b["category"].nunique(dropna=False) > 1:
        cats = ", ".join(sorted(map(str, b["category"].unique())))
        raise UsageError(
            f"--parity arena-hard-v2 scores one question category at a time, as show_result.py -c does; these "
            f"battles have several ({cats}): add --by category"
        )
    plays = (a_side == baseline) | (b_side == baseline)
    if not plays.all():
        i = int(np.flatnonzero(~plays)[0])
        raise DataError(
            f"--parity {parity}: every battle must involve the baseline {baseline!r}, as upstream's do; "
            f"{int((~plays).sum())} do not (first: {a_side[i]} vs {b_side[i]})",
            file=str(b["source_file"].iloc[i]) if "source_file" in b else None,
            record=b["source_record"].iloc[i] if "source_record" in b else None,
        )
    flip = a_side == baseline
    model = np.where(flip, b_side, a_side)
    y = np.where(flip, 1.0 - b["pref_a"].to_numpy(dtype=np.float64), b["pref_a"].to_numpy(dtype=np.float64))
    Z = None
    if X is not None and X.shape[1]:
        Z = np.where(flip[:, None], -X.to_numpy(dtype=np.float64), X.to_numpy(dtype=np.float64))
    owner = upstream_rows(b, parity)
    base = np.full(len(b), baseline, dtype=object)
    model = model.astype(object)
    if parity == "arena-hard-v0.1":
        raw, notes_raw = _v01_plain(model, base, y, owner, baseline, rounds)
        ctrl, coefs = _v01_style(model, base, y, Z, owner, baseline, rounds) if Z is not None else (raw, [])
        seed_used = V01_SEED
    else:
        raw, notes_raw = _v2_plain(model, y, owner, baseline, seed, rounds)
        ctrl, coefs = (
            _v2_style(model, base, y, Z, owner, baseline, seed, rounds) if Z is not None else (raw, [])
        )
        seed_used = seed
    out = raw.rename(columns={"score": "score_raw", "low": "score_raw_low", "high": "score_raw_high"})
    out = out.merge(ctrl.rename(columns={"low": "score_low", "high": "score_high"}), on="model", how="outer")
    info = {
        "level": LEVELS[parity],
        "seed": seed_used,
        "rounds": rounds,
        "rows": int(len(owner)),
        "style_coefficients": [float(c) for c in coefs],
        "notes": notes_raw,
    }
    return out, info


def _frame(
    models: list[str], score: np.ndarray, low: np.ndarray, high: np.ndarray, baseline: str
) -> pd.DataFrame:
    out = pd.DataFrame({"model": models, "score": score, "low": low, "high": high})
    out.loc[out["model"] == baseline, ["score", "low", "high"]] = 50.0
    return out


def _standardised(X: np.ndarray, owner: np.ndarray, ddof: int) -> np.ndarray:
    """Features centred and scaled over upstream's rows (each battle counted as often as it repeats):
    v0.1 ``np.std`` (``ddof=0``), v2 ``torch.std`` (unbiased, ``ddof=1``). A constant column is an error
    (upstream divides by zero and fits NaNs)."""
    w = np.bincount(owner, minlength=len(X)).astype(np.float64)
    total = w.sum()
    mean = (w @ X) / total
    sd = np.sqrt((w @ (X - mean) ** 2) / (total - ddof))
    if not (np.isfinite(sd).all() and (sd > 0).all()):
        raise DataError("--parity: a style feature has no spread in these battles (upstream fits NaNs)")
    return (X - mean) / sd


def _ratings(beta: np.ndarray) -> np.ndarray:
    return 400.0 * beta + 1000.0  # utils_math.py: SCALE * coef + INIT_RATING (log10 units)


def _v01_fit(problem: Problem, w: np.ndarray, start: np.ndarray) -> np.ndarray:
    theta, _ = newton(problem.with_weights(w), start, xtol=1e-10, max_iter=200)
    return theta


def _v01_plain(
    model: np.ndarray, base: np.ndarray, y: np.ndarray, owner: np.ndarray, baseline: str, rounds: int
) -> tuple[pd.DataFrame, list[str]]:
    """compute_mle_elo (full data) + get_bootstrap_result, with the anchor as upstream has it."""
    problem, models, order = _problem(model, base, y, None, LN10, 0.0)
    n, P = len(y), len(models)
    inv = np.empty(n, dtype=np.int64)
    inv[order] = np.arange(n)
    owner_s = inv[owner]
    full = _v01_fit(problem, _counts(owner_s, np.arange(len(owner)), n), np.zeros(P))
    bi = models.index(baseline)
    score = win_rate(LN10 * (full[:P] - full[bi]))
    anchored = baseline == V01_ANCHOR
    rs = np.random.RandomState(V01_SEED)
    boot = np.empty((rounds, P))
    for r in range(rounds):
        theta = _v01_fit(
            problem, _counts(owner_s, rs.choice(len(owner), size=len(owner), replace=True), n), full
        )
        beta = theta[:P] - (theta[bi] if anchored else theta[:P].mean())
        boot[r] = _ratings(beta)
    lo, hi = np.percentile(boot, 2.5, axis=0), np.percentile(boot, 97.5, axis=0)
    notes = []
    if not anchored:
        notes.append(
            f"v0.1's plain bootstrap anchors {V01_ANCHOR!r}, not the baseline {baseline!r} "
            "(get_bootstrap_result): its replicates are unanchored and its interval too narrow; reproduced"
        )
    low = win_rate(LN10 * (lo - lo[bi]) / 400.0)
    high = win_rate(LN10 * (hi - hi[bi]) / 400.0)
    return _frame(models, score, low, high, baseline), notes


def _v01_style(
    model: np.ndarray,
    base: np.ndarray,
    y: np.ndarray,
    X: np.ndarray,
    owner: np.ndarray,
    baseline: str,
    rounds: int,
) -> tuple[pd.DataFrame, np.ndarray]:
    """construct_style_matrices + fit_bt (C = 1) + get_bootstrap_result_style_control."""
    Z = _standardised(X, owner, ddof=0)  # np.std over the counted rows
    problem, models, order = _problem(model, base, y, Z, LN10, 0.5)
    n = len(y)
    P = len(models)
    inv = np.empty(n, dtype=np.int64)
    inv[order] = np.arange(n)
    owner_s = inv[owner]
    start = np.zeros(problem.dim)
    full = _v01_fit(problem, _counts(owner_s, np.arange(len(owner)), n), start)
    bi = models.index(baseline)
    score = win_rate(LN10 * (full[:P] - full[bi]))
    rs = np.random.RandomState(V01_SEED)
    boot = np.empty((rounds, P))
    for r in range(rounds):
        theta = _v01_fit(problem, _counts(owner_s, rs.choice(len(owner), size=len(owner)), n), full)
        boot[r] = theta[:P] - theta[bi]
    lo, hi = np.percentile(boot, 2.5, axis=0), np.percentile(boot, 97.5, axis=0)
    frame = _frame(models, score, win_rate(LN10 * lo), win_rate(LN10 * hi), baseline)
    return frame, full[P:]  # baseline minus model with the baseline winning: the same coefficients


def _v2_plain(
    model: np.ndarray, y: np.ndarray, owner: np.ndarray, baseline: str, seed: int, rounds: int
) -> tuple[pd.DataFrame, list[str]]:
    """print_leaderboard: per-model resample means, their mean and 5 % / 95 % quantiles."""
    rows_model = model[owner]
    shown = np.array([str(m).split("/")[-1] for m in rows_model], dtype=object)
    names = sorted(set(shown.tolist()))
    groups = {m: y[owner][shown == m] for m in names}
    rs = np.random.RandomState(seed)
    boot = np.empty((rounds, len(names)))
    for r in range(rounds):
        for j, m in enumerate(names):
            g = groups[m]
            boot[r, j] = g[rs.choice(len(g), size=len(g), replace=True)].mean()
    full_name = {str(m).split("/")[-1]: str(m) for m in rows_model}
    frame = _frame(
        [full_name[m] for m in names],
        100.0 * boot.mean(axis=0),
        100.0 * np.quantile(boot, 0.05, axis=0),
        100.0 * np.quantile(boot, 0.95, axis=0),
        baseline,
    )
    frame = pd.concat(
        [frame, _frame([baseline], np.array([50.0]), np.array([50.0]), np.array([50.0]), baseline)]
    )
    return frame.drop_duplicates("model").reset_index(drop=True), []


def _v2_style(
    model: np.ndarray,
    base: np.ndarray,
    y: np.ndarray,
    X: np.ndarray,
    owner: np.ndarray,
    baseline: str,
    seed: int,
    rounds: int,
) -> tuple[pd.DataFrame, np.ndarray]:
    """print_leaderboard_with_style_features + bootstrap_pairwise_model + to_winrate_probabilities."""
    n = len(y)
    problem, models, order = _problem(model, base, y, _standardised(X, owner, ddof=1), 1.0, 0.0)
    P = len(models)
    inv = np.empty(n, dtype=np.int64)
    inv[order] = np.arange(n)
    owner_s = inv[owner]
    rs = np.random.RandomState(seed)
    draws = rs.randint(low=0, high=len(owner), size=(rounds, len(owner)))
    start = np.full(problem.dim, V2_LBFGS["start"])
    opts = {k: V2_LBFGS[k] for k in ("lr", "max_iter", "tol", "history")}
    coefs = np.empty((rounds, problem.dim))
    for r in range(rounds):
        replicate = problem.with_weights(_counts(owner_s, draws[r], n))
        coefs[r] = lbfgs_fixed_steps(_fun(replicate), start, **opts)
    bi = models.index(baseline)
    probs = expit(coefs[:, :P] - coefs[:, [bi]])
    q = np.quantile(probs, [0.5, 0.05, 0.95], axis=0)
    frame = _frame(models, 100.0 * q[0], 100.0 * q[1], 100.0 * q[2], baseline)
    return frame, np.median(coefs[:, P:], axis=0)
