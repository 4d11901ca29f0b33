"""Ranks from intervals, by LMArena's rule, and the arrows that show how a rank moved."""

from __future__ import annotations

import numpy as np


def lmarena_ranks(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Rank = 1 + number of models whose lower bound exceeds this model's upper bound.

    Models whose intervals overlap share a rank, so a rank says "statistically beaten by this many".
    """
    low = np.asarray(low, dtype=np.float64)
    high = np.asarray(high, dtype=np.float64)
    sorted_low = np.sort(low)
    # count of lows strictly greater than each high
    beaten_by = len(low) - np.searchsorted(sorted_low, high, side="right")
    return (1 + beaten_by).astype(np.int64)


def shift_arrow(rank_raw: int, rank_controlled: int) -> str:
    """'↑3' when style control moves a model up 3 places, '↓2' down, '=' unchanged."""
    d = int(rank_raw) - int(rank_controlled)
    if d > 0:
        return f"↑{d}"
    if d < 0:
        return f"↓{-d}"
    return "="
