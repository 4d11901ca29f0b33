"""Independent restatement of Arena-Hard-Auto's ``show_result.py`` scoring, both generations, numpy/scipy/pandas only.

The test oracle of ``tests/test_arena_hard_scores.py``. It was written from upstream's code, not from stylebias's,
and checked against upstream's own ``show_result.py`` run on fixtures of ``tests/_arena_hard_fixture.py``: equal
to the printed digit for v0.1 plain, within 0.1 points for v0.1 style control and for v2 with numpy's global seed
fixed (upstream v2 seeds nothing; sklearn stops at tol 1e-4, torch computes in float32). It shares no code with
stylebias.

Written from the upstream code (lmarena/arena-hard-auto), read with ``git show``:

* **v0.1** = commit ``3071ef95d913bb5cd632641db336a3b6c7fe4bdd`` (2025-03-19, the last commit before the v2
  re-layout ``9a1d386``): ``show_result.py``, ``utils_math.py``, ``utils.py``.
* **v2**   = commit ``196f6b826783b3da7310e361a805fa36f0be83f3`` (HEAD; ``show_result.py`` last changed in
  ``404392d`` "v2.0 release"): ``show_result.py``, ``utils/math_utils.py``, ``utils/judge_utils.py``.

Every function names the upstream function and line it restates (``file:function:line`` at those commits). The
point is a test oracle for stylebias: the same inputs in upstream's own intermediate shapes, the same numbers out
(win rate vs the baseline in 0-100, ratings, bootstrap intervals with upstream's seeding), without importing
upstream code, sklearn or torch. Where upstream uses an optimiser that stops early (v2: torch L-BFGS, lr 0.1, 50
iterations, no line search) a numpy port of that optimiser is provided next to the exact optimum, so a test can
say which one it is matching.

Command line (prints the tables as upstream prints them)::

    python reference.py v0.1 BENCH_DIR [--judge gpt-4-1106-preview] [--baseline gpt-4-0314]
                        [--mode plain|style|length|markdown] [--seed 42] [--rounds 100]
    python reference.py v2   BENCH_DIR [--judge gpt-4.1 ...] [--category hard_prompt]
                        [--control length markdown] [--seed N] [--rounds 100] [--optimizer torch|exact]

``BENCH_DIR`` is the folder holding ``question.jsonl``, ``model_answer/`` and ``model_judgment/`` (upstream's
``data/<bench_name>``).
"""

from __future__ import annotations

import argparse
import glob as _glob
import json
import math
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit, log1p

V01_COMMIT = "3071ef95d913bb5cd632641db336a3b6c7fe4bdd"
V2_COMMIT = "196f6b826783b3da7310e361a805fa36f0be83f3"

# ==============================================================================================================
# v0.1
# ==============================================================================================================

#: utils_math.py:12-35
STYLE_CONTROL_ELEMENTS = [
    "sum_assistant_a_tokens",
    "header_count_a",
    "list_count_a",
    "bold_count_a",
    "sum_assistant_b_tokens",
    "header_count_b",
    "list_count_b",
    "bold_count_b",
]
LENGTH_CONTROL_ELEMENTS = ["sum_assistant_a_tokens", "sum_assistant_b_tokens"]
MARKDOWN_CONTROL_ELEMENTS = [
    "header_count_a",
    "list_count_a",
    "bold_count_a",
    "header_count_b",
    "list_count_b",
    "bold_count_b",
]
#: show_result.py:__main__:166-196 - (elements, apply_ratio) per mode
V01_MODES = {
    "style": (STYLE_CONTROL_ELEMENTS, [1, 1, 1, 1]),
    "length": (LENGTH_CONTROL_ELEMENTS, [1]),
    "markdown": (MARKDOWN_CONTROL_ELEMENTS, [1, 1, 1]),
}
#: utils_math.py:compute_mle_elo:38 and get_bootstrap_result:72 default; the bootstrap always anchors on this
#: name (see :func:`bootstrap_plain_v01`).
V01_DEFAULT_BASELINE = "gpt-4-0314"

# show_result.py:get_battles_from_row:33-46 (game 1: baseline is A) and 75-88 (game 2: baseline is B)
_GAME1 = {
    "A=B": ("tie", False),
    "A>B": ("model_a", False),
    "A>>B": ("model_a", True),
    "B>A": ("model_b", False),
    "B>>A": ("model_b", True),
}
_GAME2 = {
    "A=B": ("tie", False),
    "A>B": ("model_b", False),
    "A>>B": ("model_b", True),
    "B>A": ("model_a", False),
    "B>>A": ("model_a", True),
}


def _glob_jsonl(folder: str) -> list[str]:
    """Upstream reads judgment folders with ``glob(f"{dir}/*jsonl")`` *unsorted* (os.listdir order); the row order
    decides which battles each bootstrap draw picks, so we keep that order (show_result.py:118, v2 :17)."""
    return _glob.glob(os.path.join(folder, "*jsonl"))


def _read_jsonl(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(ln) for ln in fh if ln.strip()]


def load_judgments_v01(bench_dir: str, judge: str) -> list[dict]:
    """show_result.py:get_battles_from_judgment:116-118 (concat of every file of the judge, glob order)."""
    folder = os.path.join(bench_dir, "model_judgment", judge)
    if not os.path.isdir(folder):
        raise FileNotFoundError(folder)  # upstream: assert os.path.exists(judge_dir)
    rows: list[dict] = []
    for f in _glob_jsonl(folder):
        rows.extend(_read_jsonl(f))
    return rows


def load_metadata_v01(bench_dir: str) -> dict[str, dict]:
    """show_result.py:get_battles_from_judgment:121-129: ``{model_id of the file's first row: {question_id:
    conv_metadata}}`` for every ``model_answer/*.jsonl``; a file without ``conv_metadata`` is an assertion error."""
    out: dict[str, dict] = {}
    for f in _glob.glob(os.path.join(bench_dir, "model_answer", "*.jsonl")):
        rows = _read_jsonl(f)
        if not all("conv_metadata" in r for r in rows):
            raise AssertionError(f"{f}: You must have conv_metadata attributes in your model answer")
        out[rows[0]["model_id"]] = {r["question_id"]: r["conv_metadata"] for r in rows}
    return out


def load_answers_v01(bench_dir: str) -> dict[str, dict]:
    """utils.py:load_model_answers:55-74: ``{file basename: {question_id: row}}`` (sorted glob; last row wins)."""
    out: dict[str, dict] = {}
    for f in sorted(_glob.glob(os.path.join(bench_dir, "model_answer", "*.jsonl"))):
        out[os.path.basename(f)[:-6]] = {r["question_id"]: r for r in _read_jsonl(f)}
    return out


def battles_v01(
    judgments: list[dict],
    baseline: str = V01_DEFAULT_BASELINE,
    weight: int = 3,
    first_game_only: bool = False,
    metadata: dict[str, dict] | None = None,
) -> pd.DataFrame:
    """show_result.py:get_battles_from_row:25-105 applied to every judgment row, exploded (:131-132).

    Each judgment gives up to two battles, both with ``model_a`` = the baseline, ``model_b`` = the judged model.
    Game 1 (``games[0]``) is read as is; game 2 (``games[1]``, answers swapped) with A and B exchanged. A strong
    verdict (``A>>B``/``B>>A``) is the same battle repeated ``weight`` times (default 3). Any other ``score`` -
    ``None`` (no verdict) *and* any alias such as ``A<B`` or ``B<<A`` - gets weight 0, i.e. the game is silently
    dropped. With ``metadata`` (style control) each battle carries ``conv_metadata`` with the baseline's counts as
    ``*_a`` and the model's as ``*_b``; a judged model or question with no answer metadata is a ``KeyError``
    exactly where upstream crashes (:51-58).
    """
    out: list[dict] = []
    for row in judgments:
        qid, model = row["question_id"], row["model"]
        conv = None
        if metadata:
            a = metadata[baseline][qid]
            b = metadata[model][qid]
            conv = {
                "sum_assistant_a_tokens": a["token_len"],
                "sum_assistant_b_tokens": b["token_len"],
                "header_count_a": a["header_count"],
                "header_count_b": b["header_count"],
                "list_count_a": a["list_count"],
                "list_count_b": b["list_count"],
                "bold_count_a": a["bold_count"],
                "bold_count_b": b["bold_count"],
            }
        for g, table in ((0, _GAME1), (1, _GAME2)):
            if g == 1 and first_game_only:
                break
            score = row["games"][g]["score"]
            rec = {"question_id": qid, "model_a": baseline, "model_b": model}
            if score in table:
                rec["winner"], strong = table[score]
                w = weight if strong else 1
            else:
                w = 0
            if conv is not None:
                rec["conv_metadata"] = conv
            out.extend([rec] * w)
    return pd.DataFrame(out)


def _logistic_fit(X: np.ndarray, Y: np.ndarray, C: float | None, max_iter: int = 200) -> np.ndarray:
    """argmin_w  sum_i logloss(y_i, x_i.w) [+ ||w||^2 / (2C)]  - the objective of sklearn's
    ``LogisticRegression(fit_intercept=False, penalty=None | 'l2', C)`` (lbfgs), solved by damped Newton to
    machine precision. Unpenalised, the model-strength direction along the all-ones vector is flat; steps are
    projected off the null space of X, which keeps w in the span of the data, as lbfgs started at 0 does (so
    unanchored ratings have mean 1000, as upstream's)."""
    n, p = X.shape
    w = np.zeros(p)
    lam = 0.0 if C is None else 1.0 / C

    def f(w: np.ndarray) -> float:
        z = X @ w
        # logloss = log(1 + e^z) - y z, stable
        return float(np.sum(np.logaddexp(0.0, z) - Y * z) + 0.5 * lam * w @ w)

    # Directions the data cannot see (the common shift of all model strengths when nothing anchors it): keep
    # every step out of them, so the fit is the minimum-norm optimum - the one lbfgs started at 0 returns
    # (its iterates are sums of gradients, which have no component there).
    null = None
    if lam == 0.0:
        _, sv, Vt = np.linalg.svd(X, full_matrices=False)
        null = Vt[sv < 1e-10 * sv[0]]
    fw = f(w)
    for _ in range(max_iter):
        z = X @ w
        pr = expit(z)
        g = X.T @ (pr - Y) + lam * w
        if np.max(np.abs(g)) < 1e-10 * max(1.0, n):
            break
        H = (X * (pr * (1 - pr))[:, None]).T @ X + lam * np.eye(p)
        step = np.linalg.lstsq(H, g, rcond=None)[0]
        if null is not None and len(null):
            step = step - null.T @ (null @ step)
        t = 1.0
        while t > 1e-10:
            w_new = w - t * step
            f_new = f(w_new)
            if f_new <= fw - 1e-4 * t * (g @ step) or f_new <= fw:
                break
            t *= 0.5
        if abs(fw - f_new) <= 1e-15 * max(1.0, abs(fw)):
            w, fw = w_new, f_new
            break
        w, fw = w_new, f_new
    return w


def _design_v01(df: pd.DataFrame, base: float = 10.0) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """utils_math.py:compute_mle_elo:39-59 / construct_style_matrices:145-157,188-196: models in order of first
    appearance; battles duplicated; ``X[a] = +ln 10``, ``X[b] = -ln 10`` (the second write wins when a == b);
    ``Y = 1`` for a win of A in both copies; a tie (``tie`` or ``tie (bothbad)``) is an A win in the first copy
    and a B win in the second."""
    models = pd.concat([df["model_a"], df["model_b"]]).unique()
    models = pd.Series(np.arange(len(models)), index=models)
    df2 = pd.concat([df, df], ignore_index=True)
    n, p = df2.shape[0], len(models)
    X = np.zeros([n, p])
    X[np.arange(n), models[df2["model_a"]].to_numpy()] = +math.log(base)
    X[np.arange(n), models[df2["model_b"]].to_numpy()] = -math.log(base)
    Y = np.zeros(n)
    Y[(df2["winner"] == "model_a").to_numpy()] = 1.0
    tie = ((df2["winner"] == "tie") | (df2["winner"] == "tie (bothbad)")).to_numpy().copy()
    tie[len(tie) // 2 :] = False
    Y[tie] = 1.0
    return X, Y, models


def mle_elo_v01(
    df: pd.DataFrame, baseline: str = V01_DEFAULT_BASELINE, scale: float = 400, init: float = 1000
):
    """utils_math.py:compute_mle_elo:38-69: unpenalised BT (``penalty=None, tol=1e-8``), ``400*coef + 1000``,
    shifted so the baseline is 1000 *if it is among the models*. Returns ratings sorted descending."""
    X, Y, models = _design_v01(df)
    w = _logistic_fit(X, Y, C=None)
    elo = scale * w + init
    if baseline in models.index:
        elo += 1000 - elo[models[baseline]]
    return pd.Series(elo, index=models.index).sort_values(ascending=False)


def bootstrap_plain_v01(
    battles: pd.DataFrame,
    num_round: int = 100,
    rng: np.random.RandomState | None = None,
    anchor: str = V01_DEFAULT_BASELINE,
) -> pd.DataFrame:
    """utils_math.py:get_bootstrap_result:72-80: ``num_round`` resamples ``battles.sample(frac=1.0,
    replace=True)`` (pandas draws ``np.random.choice(n, n)`` from the *global* RNG, seeded 42 at import of
    utils_math.py:10), each refitted by compute_mle_elo.

    Upstream bug kept: ``kwargs[baseline_model] = baseline_model`` keys the dict by the baseline's *name* and
    the ``in inspect.signature(...).parameters`` test is false anyway, so every bootstrap fit runs with the
    default anchor ``gpt-4-0314``. With ``--baseline X`` (X not gpt-4-0314) the bootstrap ratings are unanchored
    (mean 1000) and the CI columns compare the model's percentile with the baseline's own percentile."""
    rng = rng if rng is not None else np.random.RandomState(42)
    rows = []
    n = len(battles)
    for _ in range(num_round):
        idx = rng.choice(n, size=n, replace=True)
        rows.append(mle_elo_v01(battles.iloc[idx], baseline=anchor))
    df = pd.DataFrame(rows)
    return df[df.median().sort_values(ascending=False).index]


def style_matrices_v01(
    df: pd.DataFrame,
    base: float = 10.0,
    apply_ratio=(1, 1, 1, 1),
    style_elements=STYLE_CONTROL_ELEMENTS,
    add_one: bool = True,
) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """utils_math.py:construct_style_matrices:138-198.

    For each of the k features: value = ``x[e]`` if it is an int else ``sum(x[e].values())`` (header/list/bold
    dicts are summed over h1..h6, ordered/unordered, ``**``/``__``); ``diff = a - b``; where apply_ratio is set,
    ``diff / (a + b + 1)`` (add_one); then standardised over the 2n duplicated rows with ``np.std`` (ddof 0).
    Since ``a`` is always the baseline, the feature is (baseline - model)/(baseline + model + 1).
    """
    X, Y, models = _design_v01(df, base)
    df2 = pd.concat([df, df], ignore_index=True)
    k = len(style_elements) // 2
    p = len(models)
    X = np.concatenate([X, np.zeros((X.shape[0], k))], axis=1)

    def val(x: dict, e: str) -> int:
        return x[e] if type(x[e]) is int else sum(x[e].values())

    sv = np.array([[val(x, e) for x in df2["conv_metadata"]] for e in style_elements])
    diff = (sv[:k] - sv[k:]).astype(float)
    tot = (sv[:k] + sv[k:]).astype(float)
    if add_one:
        tot = tot + 1
    ratio = np.flatnonzero(apply_ratio)
    diff[ratio] /= tot[ratio]
    mean = diff.mean(axis=1)
    std = diff.std(axis=1)
    X[:, p:] = ((diff - mean[:, None]) / std[:, None]).T
    return X, Y, models


def fit_bt_v01(X: np.ndarray, Y: np.ndarray, models: pd.Series, baseline: str, scale=400, init=1000):
    """utils_math.py:fit_bt:119-135: ``LogisticRegression(fit_intercept=False)`` = **L2, C = 1.0** on all
    coefficients (model strengths in log10 units x ln10 columns, and style coefficients per SD), ratings
    ``400*coef + 1000`` shifted so the baseline is **1114**. Returns (ratings of the first len(models) columns
    sorted descending, style coefficients)."""
    p = len(models.index)
    w = _logistic_fit(X, Y, C=1.0)
    elo = scale * w + init
    if baseline not in models.index:
        raise AssertionError(f"baseline {baseline!r} not among the models")
    elo += 1114 - elo[models[baseline]]
    return pd.Series(elo[:p], index=models.index).sort_values(ascending=False), w[p:]


def bootstrap_style_v01(
    X: np.ndarray,
    Y: np.ndarray,
    battles: pd.DataFrame,
    models: pd.Series,
    num_round: int = 100,
    rng: np.random.RandomState | None = None,
    baseline: str = V01_DEFAULT_BASELINE,
) -> tuple[pd.DataFrame, list]:
    """utils_math.py:get_bootstrap_result_style_control:201-231: draw k = n battle indices
    (``np.random.choice(list(range(k)), k)``), a non-tie row enters twice (its first-half copy), a tie enters as
    its A-win and B-win rows; the style columns keep the *full-data* standardisation. Models absent from a draw
    are dropped from the ``models`` Series passed to fit_bt (upstream then slices the first p columns, which
    misaligns names if a model in the middle is absent - kept as is)."""
    rng = rng if rng is not None else np.random.RandomState(42)
    k = X.shape[0] // 2
    tie = ((battles["winner"] == "tie") | (battles["winner"] == "tie (bothbad)")).to_numpy()
    elos, coefs = [], []
    for _ in range(num_round):
        idx = rng.choice(k, size=k, replace=True)
        nt = idx[~tie[idx]]
        ti = np.concatenate([idx[tie[idx]], idx[tie[idx]] + k])
        _X = np.concatenate([X[nt], X[nt], X[ti]])
        _Y = np.concatenate([Y[nt], Y[nt], Y[ti]])
        states = ~_X[:, : len(models)].any(axis=0)
        elo, coef = fit_bt_v01(_X, _Y, models[~states], baseline=baseline)
        elos.append(elo)
        coefs.append(coef)
    df = pd.DataFrame(elos)
    return df[df.median().sort_values(ascending=False).index], coefs


def win_rate_v01(ratings: dict[str, float], baseline: str) -> dict[str, float]:
    """utils_math.py:predict_win_rate:93-110 + get_win_rate_column:113-116:
    ``round(100 / (1 + 10 ** ((r_baseline - r_model) / 400)), 2)``; the baseline itself is 50.0."""
    rb = ratings[baseline]
    return {
        m: 50.0 if m == baseline else round(100.0 / (1 + 10 ** ((rb - r) / 400)), 2)
        for m, r in ratings.items()
    }


@dataclass
class ResultV01:
    table: (
        pd.DataFrame
    )  # model, score (win rate), lower, upper, avg_tokens, rating, rating_lower, rating_upper
    ratings: pd.Series  # full-data fit (Elo scale, baseline anchored at 1000 plain / 1114 style)
    bootstrap: pd.DataFrame
    style_coef: np.ndarray | None = None
    mode: str = "plain"
    battles: pd.DataFrame = field(default_factory=pd.DataFrame)


def avg_tokens_v01(answers: dict[str, dict], model: str) -> int:
    """show_result.py:__main__:213-223: mean over the model's answer file of ``choices[0].turns[0].token_len``,
    else ``conv_metadata.token_len``; 0 when the model has no answer file (no crash in the plain path)."""
    if model not in answers:
        return 0
    tot = 0
    for row in answers[model].values():
        turn = row["choices"][0]["turns"][0]
        tot += turn["token_len"] if "token_len" in turn else row["conv_metadata"]["token_len"]
    return int(tot / len(answers[model]))


def score_v01(
    battles: pd.DataFrame,
    baseline: str = V01_DEFAULT_BASELINE,
    mode: str = "plain",
    num_rounds: int = 100,
    seed: int | None = 42,
    answers: dict[str, dict] | None = None,
) -> ResultV01:
    """show_result.py:__main__:166-239. ``mode``: plain | style | length | markdown (``--style-control``,
    ``--length-control-only``, ``--markdown-control-only``). Score = win rate vs the baseline from the full-data
    ratings; lower/upper = win rate of the 2.5th/97.5th percentile ratings (``np.percentile``, linear), each
    converted with the *same column's* baseline value."""
    rng = np.random.RandomState(seed) if seed is not None else np.random.RandomState()
    coef = None
    if mode == "plain":
        ratings = mle_elo_v01(battles, baseline=baseline)
        boot = bootstrap_plain_v01(battles, num_rounds, rng)
    else:
        elements, ratio = V01_MODES[mode]
        X, Y, models = style_matrices_v01(battles, apply_ratio=ratio, style_elements=elements)
        ratings, coef = fit_bt_v01(X, Y, models, baseline=baseline)
        boot, _ = bootstrap_style_v01(X, Y, battles, models, num_rounds, rng, baseline=baseline)
    rows = []
    for m in ratings.index:
        rows.append(
            {
                "model": m,
                "rating": ratings[m],
                "rating_lower": np.percentile(boot[m], 2.5),
                "rating_upper": np.percentile(boot[m], 97.5),
                "avg_tokens": avg_tokens_v01(answers or {}, m),
            }
        )
    t = pd.DataFrame(rows)
    for col, src in (("score", "rating"), ("lower", "rating_lower"), ("upper", "rating_upper")):
        wr = win_rate_v01(dict(zip(t["model"], t[src], strict=False)), baseline)
        t[col] = t["model"].map(wr)
    t = t.sort_values(by="model").sort_values(by="score", ascending=False)
    return ResultV01(t.reset_index(drop=True), ratings, boot, coef, mode, battles)


def format_v01(res: ResultV01) -> str:
    """show_result.py:__main__:173-174 (style coefficients) and 236-239 (one line per model)."""
    lines = []
    if res.style_coef is not None:
        elements = V01_MODES[res.mode][0]
        disp = {elements[i]: round(float(res.style_coef[i]), 3) for i in range(len(elements) // 2)}
        lines.append(f"Style Coefficients: {disp}")
    for _, r in res.table.iterrows():
        interval = str((round(r["lower"] - r["score"], 1), round(r["upper"] - r["score"], 1)))
        lines.append(
            f"{r['model']: <30} | score: {round(r['score'], 1): ^5} | 95% CI: {interval: ^12} | "
            f"average #tokens: {int(r['avg_tokens'])}"
        )
    return "\n".join(lines)


# ==============================================================================================================
# v2
# ==============================================================================================================

#: utils/judge_utils.py:JUDGE_SETTINGS:3-24 - the baseline is fixed per question category
V2_BASELINES = {
    "hard_prompt": "o3-mini-2025-01-31",
    "coding": "o3-mini-2025-01-31",
    "math": "o3-mini-2025-01-31",
    "creative_writing": "gemini-2.0-flash-001",
    "arena-hard-v0.1": "gpt-4-0314",
}


def label_to_score(weight: int = 3) -> dict[str, list[float]]:
    """show_result.py:load_judgments:37-48: score of assistant **A**; strong labels repeated ``weight`` times;
    ``A<B`` & co. are aliases. Any other label is a KeyError (upstream crashes)."""
    return {
        "A>B": [1],
        "A>>B": [1] * weight,
        "A=B": [0.5],
        "A<<B": [0] * weight,
        "A<B": [0],
        "B>A": [0],
        "B>>A": [0] * weight,
        "B=A": [0.5],
        "B<<A": [1] * weight,
        "B<A": [1],
    }


def load_judgments_v2(bench_dir: str, judges: list[str]) -> list[dict]:
    """show_result.py:load_judgments:12-25 (every judge's files, glob order, concatenated)."""
    rows: list[dict] = []
    for j in judges:
        for f in _glob_jsonl(os.path.join(bench_dir, "model_judgment", j)):
            rows.extend(_read_jsonl(f))
    return rows


def battles_v2(judgments: list[dict], weight: int = 3) -> tuple[pd.DataFrame, int]:
    """show_result.py:load_judgments:31-54. A judgment row is dropped *whole* if either game is null or has a
    null score. ``scores`` = game 2's A-score list (A = judged model) followed by ``1 - s`` for game 1's list
    (A = baseline), exploded: one row per (possibly repeated) outcome, 1 = model wins, 0.5 tie, 0 loss.
    Returns (battles[uid, model, category, scores], number of null judgments)."""
    l2s = label_to_score(weight)
    out, nulls = [], 0
    for r in judgments:
        g = r["games"]
        if g[0] is None or g[1] is None or g[0]["score"] is None or g[1]["score"] is None:
            nulls += 1
            continue
        scores = l2s[g[1]["score"]] + [1 - s for s in l2s[g[0]["score"]]]
        for s in scores:
            out.append({"uid": r["uid"], "model": r["model"], "category": r["category"], "scores": s})
    return pd.DataFrame(out, columns=["uid", "model", "category", "scores"]), nulls


def load_metadata_v2(bench_dir: str) -> dict[str, dict]:
    """show_result.py:get_model_style_metadata:59-65: ``{model of the file's first row: {uid: metadata}}``."""
    out: dict[str, dict] = {}
    for f in _glob.glob(os.path.join(bench_dir, "model_answer", "*.jsonl")):
        rows = _read_jsonl(f)
        out[rows[0]["model"]] = {r["uid"]: r["metadata"] for r in rows}
    return out


@dataclass
class ResultV2:
    table: pd.DataFrame  # Model, Scores (%), CI (%) as printed + score/lower/upper (0-1) + rating (Elo scale)
    category: str
    feature_coefs: np.ndarray | None = None
    bootstrap: np.ndarray | None = None


def _format_ci_v2(df: pd.DataFrame, baseline: str | None) -> pd.DataFrame:
    """show_result.py:format_confidence_interval:68-96."""
    lb = df.copy()
    lb["Scores (%)"] = lb["scores"].map(lambda x: round(x * 100, 1))
    lb["CI (%)"] = lb.apply(
        lambda r: (
            f"(-{round((r['scores'] - r['lower']) * 100, 1)} / +{round((r['upper'] - r['scores']) * 100, 1)})"
        ),
        axis=1,
    )
    if baseline:
        lb = pd.concat(
            [
                lb,
                pd.DataFrame(
                    {
                        "model": baseline,
                        "Scores (%)": 50.0,
                        "CI (%)": "(-0.0 / +0.0)",
                        "scores": 0.5,
                        "lower": 0.5,
                        "upper": 0.5,
                    },
                    index=[0],
                ),
            ]
        )
    lb = lb.rename(columns={"model": "Model"})
    return lb.sort_values(by="Scores (%)", ascending=False).reset_index(drop=True)


def score_v2_plain(
    battles: pd.DataFrame, category: str, num_rounds: int = 100, seed: int | None = None
) -> ResultV2:
    """show_result.py:print_leaderboard:99-121. No model is fitted: per model, 100 bootstrap resamples *within
    the model's own rows* (``groupby("model").sample(frac=1, replace=True)``: for each model in sorted order,
    ``np.random.choice(n_m, n_m)`` from the global RNG, **unseeded** upstream), the mean outcome of each; score =
    mean of the 100 means, CI = their 5 % and 95 % quantiles (a 90 % interval). The baseline is appended at 50.0."""
    baseline = V2_BASELINES[category]
    b = battles[battles["category"] == category]
    models = b["model"].map(lambda x: x.split("/")[-1]).to_numpy()
    vals = b["scores"].astype(float).to_numpy()
    rng = np.random.RandomState(seed) if seed is not None else np.random.RandomState()
    names = sorted(set(models))
    groups = {m: vals[models == m] for m in names}
    boot = np.empty((num_rounds, len(names)))
    for r in range(num_rounds):
        for j, m in enumerate(names):
            g = groups[m]
            boot[r, j] = g[rng.choice(len(g), size=len(g), replace=True)].mean()
    df = pd.DataFrame(
        {
            "model": names,
            "scores": boot.mean(axis=0),
            "lower": np.quantile(boot, 0.05, axis=0),
            "upper": np.quantile(boot, 0.95, axis=0),
            "sample_mean": [groups[m].mean() for m in names],
        }
    )
    t = _format_ci_v2(df, baseline)
    return ResultV2(t, category, None, boot)


def style_features_v2(
    battles: pd.DataFrame,
    metadata: dict[str, dict],
    control: tuple[str, ...] = ("length", "markdown"),
) -> np.ndarray:
    """show_result.py:print_leaderboard_with_style_features:125-176 (float32 like upstream's torch tensors).

    Per battle row (after the explode, so a strong verdict's 3 rows count 3 times in the mean/std):
    ``v = [token_len, sum(header_count), sum(list_count), sum(bold_count)]`` (metadata key order) for the model
    (m) and the category's baseline (b);
    length  = (m_len - b_len) / (m_len + b_len)                       (no +1: both 0 -> NaN -> assertion)
    density = count / (token_len + 1);  markdown_j = (m_d - b_d) / (m_d + b_d + 1)
    then each column standardised with the *unbiased* std (torch.std, ddof 1).
    Only ``length`` + ``markdown`` together is a working upstream mode: ``-f length`` alone keeps
    ``all_features[:, :1]`` (the first *model* column) and ``-f markdown`` drops it (upstream bug, :190-199)."""

    def vec(md: dict) -> list[float]:
        return [v if isinstance(v, int) else sum(v.values()) for v in md.values()]

    mf = np.array(
        [vec(metadata[m][u]) for m, u in zip(battles["model"], battles["uid"], strict=False)],
        dtype=np.float32,
    )
    bf = np.array(
        [
            vec(metadata[V2_BASELINES[c]][u])
            for c, u in zip(battles["category"], battles["uid"], strict=False)
        ],
        dtype=np.float32,
    )
    final = np.zeros_like(mf)
    final[:, 0] = (mf[:, 0] - bf[:, 0]) / (mf[:, 0] + bf[:, 0])
    md_m = mf[:, 1:] / (mf[:, :1] + 1)
    md_b = bf[:, 1:] / (bf[:, :1] + 1)
    final[:, 1:] = (md_m - md_b) / (md_m + md_b + 1)
    if np.isnan(final).any():
        raise AssertionError("NaN style feature (both answers have token_len 0?)")
    z = (final - final.mean(axis=0)) / final.std(axis=0, ddof=1)
    return z.astype(np.float32)


def one_hot_v2(models: list[str], baseline: str) -> tuple[np.ndarray, list[str]]:
    """utils/math_utils.py:one_hot_encode:246-262: columns = sorted(set(models + [baseline])); each row +1 at
    the model, then -1 at the baseline (so the baseline column is -1 in every row: it is the only reference)."""
    uniq = sorted(set(models + [baseline]))
    ix = {m: i for i, m in enumerate(uniq)}
    M = np.zeros((len(models), len(uniq)), dtype=np.float32)
    for r, m in enumerate(models):
        M[r, ix[m]] = 1
        M[r, ix[baseline]] = -1
    return M, uniq


def _bce_sum(F: np.ndarray, y: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    """utils/math_utils.py:bt_loss:67-80: ``binary_cross_entropy_with_logits(F @ x, y, reduction='sum')`` (y may
    be 0.5) and its gradient F^T (sigmoid(F x) - y), in the dtype of x."""
    z = F @ x
    loss = np.sum(np.maximum(z, 0) - z * y + log1p(np.exp(-np.abs(z))), dtype=x.dtype)
    grad = F.T @ (expit(z).astype(x.dtype) - y)
    return float(loss), grad.astype(x.dtype)


def lbfgs_torch(
    F: np.ndarray,
    y: np.ndarray,
    lr: float = 0.1,
    max_iter: int = 50,
    tol: float = 1e-9,
    history: int = 100,
    dtype=np.float32,
) -> np.ndarray:
    """numpy port of ``torch.optim.LBFGS(lr=0.1, max_iter=50, tolerance_grad=1e-9, tolerance_change=1e-9)``
    with no line search, one ``step(closure)`` (torch/optim/lbfgs.py:LBFGS.step), parameters initialised to
    0.5 (utils/math_utils.py:BTModel:41-50, fit_pairwise_model:109-154). It stops after 50 iterations whether
    or not it has converged: the first step is ``min(1, 1/|g|_1) * lr`` along -g, every later one ``lr`` = 0.1
    along the quasi-Newton direction, so it does not reach the optimum in general (see :func:`fit_exact_v2`)."""
    F = F.astype(dtype)
    y = y.astype(dtype)
    x = np.full(F.shape[1], 0.5, dtype=dtype)
    max_eval = max_iter * 5 // 4
    loss, g = _bce_sum(F, y, x)
    evals = 1
    if np.abs(g).max() <= tol:
        return x
    old_dirs: list[np.ndarray] = []
    old_stps: list[np.ndarray] = []
    ro: list = []
    H_diag = 1.0
    d = t = prev_g = None
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        if n_iter == 1:
            d = -g
        else:
            yv = g - prev_g
            s = d * dtype(t)
            ys = yv.dot(s)
            if ys > 1e-10:
                if len(old_dirs) == history:
                    old_dirs.pop(0)
                    old_stps.pop(0)
                    ro.pop(0)
                old_dirs.append(yv)
                old_stps.append(s)
                ro.append(dtype(1.0) / ys)
                H_diag = ys / yv.dot(yv)
            q = -g
            al = [None] * len(old_dirs)
            for i in range(len(old_dirs) - 1, -1, -1):
                al[i] = old_stps[i].dot(q) * ro[i]
                q = q - al[i] * old_dirs[i]
            r = q * H_diag
            for i in range(len(old_dirs)):
                be = old_dirs[i].dot(r) * ro[i]
                r = r + (al[i] - be) * old_stps[i]
            d = r.astype(dtype)
        prev_g = g.copy()
        prev_loss = loss
        t = min(1.0, 1.0 / float(np.abs(g).sum(dtype=dtype))) * lr if n_iter == 1 else lr
        gtd = float(g.dot(d))
        if gtd > -tol:
            break
        x = (x + dtype(t) * d).astype(dtype)
        ls = 0
        if n_iter != max_iter:
            loss, g = _bce_sum(F, y, x)
            ls = 1
        evals += ls
        if n_iter == max_iter or evals >= max_eval:
            break
        if np.abs(g).max() <= tol:
            break
        if np.abs(d * dtype(t)).max() <= tol:
            break
        if abs(loss - prev_loss) < tol:
            break
    return x


def fit_exact_v2(F: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The optimum upstream aims at: unpenalised soft-label logistic loss (ties y = 0.5), float64, minimum-norm
    solution (the all-models shift is flat; only differences to the baseline are read)."""
    return _logistic_fit(F.astype(float), y.astype(float), C=None)


def score_v2_style(
    battles: pd.DataFrame,
    metadata: dict[str, dict],
    category: str,
    control=("length", "markdown"),
    num_rounds: int = 100,
    seed: int | None = None,
    optimizer: str = "torch",
) -> ResultV2:
    """show_result.py:print_leaderboard_with_style_features:124-222 + utils/math_utils.py:
    bootstrap_pairwise_model:162-182 and to_winrate_probabilities:265-280.

    No full-data fit: 100 bootstrap fits on ``np.random.randint(0, N, (100, N))`` row draws (global RNG,
    unseeded upstream); win rate of model i = exp(c_i) / (exp(c_i) + exp(c_baseline)) = sigmoid(c_i - c_b)
    (natural-log units: Elo-scale rating = 400/ln 10 x c); printed score = the **median** of the 100 win rates,
    CI = 5 % / 95 % quantiles. Feature coefficients printed = per-feature median."""
    if tuple(sorted(control)) != ("length", "markdown"):
        raise ValueError("only '-f length markdown' is a working upstream mode (see style_features_v2)")
    baseline = V2_BASELINES[category]
    b = battles[battles["category"] == category].reset_index(drop=True)
    z = style_features_v2(b, metadata, control)
    models = b["model"].map(lambda x: x.split("/")[-1]).tolist()
    oh, uniq = one_hot_v2(models, baseline)
    F = np.concatenate([oh, z], axis=1)
    y = b["scores"].astype(np.float32).to_numpy()
    rng = np.random.RandomState(seed) if seed is not None else np.random.RandomState()
    idx = rng.randint(low=0, high=F.shape[0], size=(num_rounds, F.shape[0]))
    fit = lbfgs_torch if optimizer == "torch" else fit_exact_v2
    coefs = np.stack([np.asarray(fit(F[i], y[i]), dtype=np.float64) for i in idx])
    mc = coefs[:, : len(uniq)]
    bi = uniq.index(baseline)
    probs = np.exp(mc) / (np.exp(mc) + np.exp(mc[:, [bi]]))
    tab = pd.DataFrame(probs, columns=uniq)
    df = pd.DataFrame(
        {
            "model": uniq,
            "scores": tab.quantile(0.5).to_numpy(),
            "lower": tab.quantile(0.05).to_numpy(),
            "upper": tab.quantile(0.95).to_numpy(),
            "rating": 400 / math.log(10) * np.median(mc - mc[:, [bi]], axis=0),
        }
    )
    t = _format_ci_v2(df, None)
    return ResultV2(t, category, np.median(coefs[:, -4:], axis=0), coefs)


def format_v2(res: ResultV2) -> str:
    """show_result.py:print_leaderboard:120-121 / print_leaderboard_with_style_features:220-222."""
    out = [f"##### Category: {res.category} #####", res.table[["Model", "Scores (%)", "CI (%)"]].to_string()]
    if res.feature_coefs is not None:
        out.append("Feature Coefs: [" + ", ".join(f"{c:.4f}" for c in res.feature_coefs) + "]")
    return "\n".join(out)


# ==============================================================================================================
# command line
# ==============================================================================================================


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Arena-Hard-Auto show_result.py, restated")
    ap.add_argument("generation", choices=["v0.1", "v2"])
    ap.add_argument("bench_dir")
    ap.add_argument("--judge", nargs="+", default=None)
    ap.add_argument("--baseline", default=V01_DEFAULT_BASELINE)
    ap.add_argument("--mode", default="plain", choices=["plain", "style", "length", "markdown"])
    ap.add_argument("--weight", type=int, default=3)
    ap.add_argument("--first-game-only", action="store_true")
    ap.add_argument("--category", default="hard_prompt")
    ap.add_argument("--control", nargs="*", default=[])
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument(
        "--seed", type=int, default=None, help="v0.1 default 42 (upstream's), v2 default unseeded"
    )
    ap.add_argument("--optimizer", default="torch", choices=["torch", "exact"])
    a = ap.parse_args(argv)
    if a.generation == "v0.1":
        judge = (a.judge or ["gpt-4-1106-preview"])[0]
        meta = load_metadata_v01(a.bench_dir) if a.mode != "plain" else None
        b = battles_v01(load_judgments_v01(a.bench_dir, judge), a.baseline, a.weight, a.first_game_only, meta)
        res = score_v01(
            b, a.baseline, a.mode, a.rounds, 42 if a.seed is None else a.seed, load_answers_v01(a.bench_dir)
        )
        print(format_v01(res))
    else:
        b, nulls = battles_v2(load_judgments_v2(a.bench_dir, a.judge or ["gpt-4.1"]), a.weight)
        print(f"Number of null judgments found: {nulls}")
        if a.control:
            res2 = score_v2_style(
                b, load_metadata_v2(a.bench_dir), a.category, tuple(a.control), a.rounds, a.seed, a.optimizer
            )
        else:
            res2 = score_v2_plain(b, a.category, a.rounds, a.seed)
        print(format_v2(res2))


if __name__ == "__main__":
    main()
