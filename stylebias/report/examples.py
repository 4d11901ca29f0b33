"""Example battles per model: the ones where style moved the vote most, with the prompt and both answers.

"Moved the vote" is measured the way the cards measure style: the fitted probability that the model wins
this battle, minus the probability the same fit gives when both answers have the same style (every pair
feature 0, the cards' style-neutral definition). With the vote model's explanation available its per-battle
numbers are used (``ExplainResult.p`` and ``p_neutral``, the chosen vote model); otherwise the
style-controlled Bradley-Terry fit's: ``σ(η) − σ(η − s)`` with ``s = γ·(x / sd)`` the style part of the
linear predictor against identical style. One pass over the battles picks every model's largest |change|
(linear in the number of battles).

Answers are cut to :data:`MAX_CHARS` characters with a note saying how much is shown; they are plain data
here and escaped when the page is rendered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

#: Example battles shown per model.
PER_MODEL = 3
#: Characters of a prompt or answer shown before it is cut (the page stays a few hundred kB on the demo).
MAX_CHARS = 1200


def clip(text: Any, limit: int = MAX_CHARS) -> tuple[str, int]:
    """``(shown text, full length)``: the first ``limit`` characters (missing text is empty)."""
    full = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    return full[:limit], len(full)


def explain_moves(result: Any, battles: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Per battle, the vote model's P(A wins) and its style-neutral P(A wins), when its battles are these."""
    p, p0, seen = (
        getattr(result, "p", None),
        getattr(result, "p_neutral", None),
        getattr(result, "battles", None),
    )
    if p is None or p0 is None or seen is None or len(seen) != len(battles):
        return None
    same = (
        seen["model_a"].to_numpy(dtype=object) == battles["model_a"].astype(str).to_numpy(dtype=object)
    ).all()
    if not same:
        return None
    return np.asarray(p, dtype=np.float64), np.asarray(p0, dtype=np.float64)


def bt_moves(parts: list[Any], battles: pd.DataFrame, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per battle, the style-controlled Bradley-Terry fit's P(A wins) and its P(A wins) with identical style
    (NaN: a battle no part rated)."""
    after, before = np.full(len(battles), np.nan), np.full(len(battles), np.nan)
    for part in parts:
        est = part.controlled
        rows = np.arange(len(battles)) if part.battle_rows is None else np.asarray(part.battle_rows)
        if not len(est.coef_) or not len(rows):
            continue
        a, b = (
            battles["model_a"].to_numpy(dtype=object)[rows],
            battles["model_b"].to_numpy(dtype=object)[rows],
        )
        known = np.isin(a, est.models_) & np.isin(b, est.models_)
        rows, a, b = rows[known], a[known], b[known]
        x = X.iloc[rows][list(est.feature_names_)].to_numpy(dtype=np.float64)
        eta = est.decision_function(a, b, x)
        style = (x / est.feature_scale_) @ est.coef_
        after[rows], before[rows] = expit(eta), expit(eta - style)
    return after, before


def pick(battles: pd.DataFrame, move: np.ndarray, per_model: int = PER_MODEL) -> dict[str, list[int]]:
    """Per model, the rows of its ``per_model`` battles with the largest |move| (largest first, ties by row)."""
    n = len(battles)
    models = np.concatenate(
        [
            battles["model_a"].astype(str).to_numpy(dtype=object),
            battles["model_b"].astype(str).to_numpy(dtype=object),
        ]
    )
    rows = np.concatenate([np.arange(n), np.arange(n)])
    size = np.abs(np.concatenate([move, move]))
    ok = np.isfinite(size)
    frame = pd.DataFrame({"model": models[ok], "row": rows[ok], "size": size[ok]})
    frame = frame.sort_values(["model", "size", "row"], ascending=[True, False, True], kind="stable")
    top = frame.groupby("model", sort=False).head(per_model)
    return {str(m): list(g["row"]) for m, g in top.groupby("model", sort=False)}


def example(battles: pd.DataFrame, row: int, model: str, after: float, before: float) -> dict[str, Any]:
    """One example battle from ``model``'s side: prompt, its answer and the opponent's, its share of the
    vote, and its win probability with its style (``after``, A's view) and with identical style (``before``)."""
    r = battles.iloc[row]
    side_a = str(r["model_a"]) == model
    own, other = ("response_a", "response_b") if side_a else ("response_b", "response_a")
    share = float(r["pref_a"]) if side_a else 1.0 - float(r["pref_a"])
    out: dict[str, Any] = {
        "battle": None if pd.isna(r.get("battle_id")) else str(r.get("battle_id")),
        "side": "A" if side_a else "B",
        "opponent": str(r["model_b"] if side_a else r["model_a"]),
        "share": share,  # the model's share of this vote (1 won, 0 lost, 0.5 tie)
        # the model's win probability with the answers' style and with identical style
        "p": after if side_a else 1.0 - after,
        "p_neutral": before if side_a else 1.0 - before,
    }
    out["move"] = out["p"] - out["p_neutral"]
    for key, col in (("prompt", "prompt"), ("answer", own), ("opponent_answer", other)):
        out[key], out[f"{key}_chars"] = clip(r.get(col))
    return out


def style_examples(
    report: Any,
    battles: pd.DataFrame,
    features: Callable[[], pd.DataFrame | None],
    per_model: int = PER_MODEL,
) -> str | None:
    """Fill every card's ``examples``; returns a note for the page when there are none (and why).

    ``features()`` gives the battles' raw pair features (called only when the vote model's numbers are not
    there: it may extract them, from the feature cache when it is warm).
    """
    if not {"response_a", "response_b"} <= set(battles.columns) or battles["response_a"].isna().all():
        return "No example answers: these battles carry no answer texts (metadata only)."
    battles = battles.reset_index(drop=True)
    probs = None if report.explain is None else explain_moves(report.explain, battles)
    source = "vote model"
    if probs is None:
        X = features()
        if X is None:
            return "No example answers: this fit has no style features, so style moved no vote."
        probs = bt_moves(report.parts, battles, X)
        source = "Bradley-Terry + style"
    after, before = probs
    chosen = pick(battles, after - before, per_model)
    for card in report.cards:
        card.examples = [
            {**example(battles, i, card.model, float(after[i]), float(before[i])), "source": source}
            for i in chosen.get(card.model, [])
        ]
    return None
