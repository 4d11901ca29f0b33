"""How many battles stand behind each style effect, what one unit of it is, and when it is too few to tell.

A style coefficient is learned only from battles whose two answers *differ* in that feature: a pair feature
of 0 says nothing about it. When a handful of battles differ (24 answers with a table, from two prompts),
the sandwich interval still comes out narrow — it treats every battle as independent, while battles on the
same prompt share whatever else made one answer better — and "helps" would be a verdict on two prompts.
So each effect carries its support (battles with a non-zero difference, and how many distinct prompts they
come from), and below :data:`MIN_SUPPORT_BATTLES` battles or :data:`MIN_SUPPORT_PROMPTS` prompts the
verdict is :data:`TOO_FEW` whatever the interval says.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

#: Fewer battles than this with a non-zero difference in a feature: its effect is "too few battles to tell".
MIN_SUPPORT_BATTLES = 30
#: Fewer distinct prompts than this among those battles (when prompts are known): likewise.
MIN_SUPPORT_PROMPTS = 10
#: The verdict below the minimum support.
TOO_FEW = "too few battles to tell"
#: Per kept feature: battles (summed frequency weights) whose pair feature is not 0, and their distinct
#: prompts (NaN when the battles carry no prompt).
SUPPORT_COLUMNS = ("battles_nonzero", "prompts_nonzero")

#: What one unit of a level or score pair feature (a − b) is; counts use the normalised difference.
_UNITS = {
    "flesch_reading_ease": "Flesch reading-ease points",
    "grade_level": "Flesch-Kincaid grade levels",
    "mattr": "type-token ratio (0-1)",
    "exclamations": "exclamation marks per 100 words",
    "positivity": "VADER sentiment (-1 to 1)",
    "refusal": "refusal levels (none 0, partial 1, full 2)",
    "refusal_score": "graded refusal (0-1)",
    "flattery": "flattery flag (0/1)",
}


def prompt_ids(prompts: Any) -> np.ndarray:
    """One integer id per battle for its prompt text (-1 where there is none, e.g. metadata-only data)."""
    codes, _ = pd.factorize(pd.Series(prompts, copy=False), use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64)


def feature_support(X: np.ndarray, weights: np.ndarray | None, prompts: np.ndarray | None) -> pd.DataFrame:
    """``battles_nonzero`` and ``prompts_nonzero`` per column of raw pair features ``X`` (one row each)."""
    nonzero = np.asarray(X, dtype=np.float64) != 0.0
    w = np.ones(len(nonzero)) if weights is None else np.asarray(weights, dtype=np.float64)
    battles = (w[:, None] * nonzero).sum(axis=0) if len(nonzero) else np.zeros(nonzero.shape[1])
    n_prompts = np.full(nonzero.shape[1], np.nan)
    if prompts is not None and len(prompts) and (np.asarray(prompts) >= 0).any():
        ids = np.asarray(prompts, dtype=np.int64)
        known = ids >= 0
        size = int(ids.max()) + 1
        for j in range(nonzero.shape[1]):
            used = nonzero[:, j] & known & (w > 0)
            n_prompts[j] = np.count_nonzero(np.bincount(ids[used], minlength=size))
    return pd.DataFrame({"battles_nonzero": battles, "prompts_nonzero": n_prompts})


def too_few(battles: float, prompts: float) -> bool:
    """True when an effect rests on fewer battles or prompts than the documented minimum."""
    if not math.isfinite(battles) or battles < MIN_SUPPORT_BATTLES:
        return True
    return math.isfinite(prompts) and prompts < MIN_SUPPORT_PROMPTS


def verdict(
    coef: float, low: float, high: float, battles: float = math.inf, prompts: float = math.nan
) -> str:
    """``helps``, ``hurts``, ``no clear effect`` (the interval holds 0) or :data:`TOO_FEW`."""
    if too_few(battles, prompts):
        return TOO_FEW
    if low <= 0 <= high:
        return "no clear effect"
    return "helps" if coef > 0 else "hurts"


def unit(name: str) -> str:
    """What one unit of the pair feature ``name`` is, for "1 SD = 0.34 <unit>" (counts use LMArena's
    normalised difference, levels and scores the plain difference)."""
    from ..extract.registry import FEATURE_BY_NAME

    label = name.replace("_", " ")
    feature = FEATURE_BY_NAME.get(name)
    if feature is None:
        return f"in the pair feature {label} (as given)"
    if feature.kind == "count":
        return f"normalised difference (a − b)/(a + b + 1) in {label}"
    return f"difference (a − b) in {_UNITS.get(name, label)}"


def describe_support(battles: float, prompts: float) -> str:
    """ "14,380 battles from 802 prompts" (or without prompts when they are unknown)."""
    shown = f"{battles:,.0f}" if float(battles).is_integer() else f"{battles:,.1f}"
    noun = "battle" if battles == 1 else "battles"
    if math.isfinite(prompts):
        return f"{shown} {noun} from {prompts:,.0f} prompt{'' if prompts == 1 else 's'}"
    return f"{shown} {noun}"
