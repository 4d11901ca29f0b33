"""The vote model's inputs: pair features, their attribution groups, prompt groups and grouped folds.

Attribution groups refine the extractor's families so the terminal can say "length" and mean length:
``verbosity`` is split into ``length`` (token/word/sentence/paragraph/char counts) and ``readability``
(Flesch scores, type-token ratio); ``structure`` is called ``markdown``. Every other family keeps its name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import UsageError

#: attribution group of each feature (features not listed fall back to their registry family)
GROUP_OF: dict[str, str] = {
    "tokens": "length",
    "words": "length",
    "sentences": "length",
    "paragraphs": "length",
    "chars": "length",
    "flesch_reading_ease": "readability",
    "grade_level": "readability",
    "mattr": "readability",
    "header_count": "markdown",
    "list_count": "markdown",
    "bold_count": "markdown",
    "code_blocks": "markdown",
    "tables": "markdown",
    "links": "markdown",
    "emoji_count": "emoji",
    "flattery_count": "flattery",
    "flattery": "flattery",
    "refusal": "refusal",
    "refusal_score": "refusal",
    "exclamations": "tone",
    "positivity": "tone",
}

#: display order of the groups and the words used for them in sentences
GROUP_ORDER: tuple[str, ...] = ("length", "markdown", "readability", "emoji", "flattery", "refusal", "tone")
GROUP_WORDS: dict[str, str] = {
    "length": "length",
    "markdown": "markdown",
    "readability": "readability",
    "emoji": "emoji",
    "flattery": "flattery",
    "refusal": "refusals",
    "tone": "tone",
}


def group_of(feature: str) -> str:
    """Attribution group of a feature name (its registry family when it is not in :data:`GROUP_OF`)."""
    if feature in GROUP_OF:
        return GROUP_OF[feature]
    from ..extract.registry import FEATURE_BY_NAME

    f = FEATURE_BY_NAME.get(feature)
    return f.family if f is not None else feature


def feature_groups(features: Sequence[str]) -> dict[str, list[str]]:
    """``{group: [features]}`` for the given features, groups in :data:`GROUP_ORDER` (others after)."""
    out: dict[str, list[str]] = {}
    for f in features:
        out.setdefault(group_of(f), []).append(f)
    order = [g for g in GROUP_ORDER if g in out] + [g for g in out if g not in GROUP_ORDER]
    return {g: out[g] for g in order}


def prompt_groups(prompts: pd.Series | Sequence[str | None]) -> np.ndarray:
    """Integer group id per battle: battles with the same prompt text share an id (null prompts: own id).

    Ids follow a hash of the text, not the row order, so the folds do not depend on how files were ordered.
    """
    keys = []
    for i, p in enumerate(prompts):
        if p is None or (isinstance(p, float) and np.isnan(p)):
            keys.append(f"\x00row{i}")
        else:
            keys.append(hashlib.blake2b(str(p).encode("utf-8"), digest_size=8).hexdigest())
    codes, _ = pd.factorize(pd.Series(keys), sort=True)
    return codes.astype(np.int64)


def grouped_folds(groups: np.ndarray, k: int, seed: int = 0) -> list[np.ndarray]:
    """Held-out index arrays of ``k`` folds; every group (prompt) falls in exactly one fold.

    GroupKFold-like: groups are shuffled with ``seed`` and dealt greedily to the currently smallest fold
    (largest groups first), so fold sizes stay balanced even when a few prompts have many battles.
    """
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    if k < 2:
        raise UsageError(f"--folds must be at least 2, got {k}")
    if n_groups < k:
        raise UsageError(f"cross-validation needs at least {k} distinct prompts, found {n_groups}")
    sizes = np.bincount(groups, minlength=n_groups)
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_groups)
    order = order[np.argsort(-sizes[order], kind="stable")]
    fold_of_group = np.empty(n_groups, dtype=np.int64)
    load = np.zeros(k, dtype=np.int64)
    for g in order:
        f = int(np.argmin(load))
        fold_of_group[g] = f
        load[f] += sizes[g]
    fold = fold_of_group[groups]
    return [np.flatnonzero(fold == f) for f in range(k)]
