"""Derived pair features: other pipelines' style terms computed from the two sides' per-response values.

The registry (:data:`~stylebias.extract.registry.DERIVED_FEATURES`) names each one, its inputs and its
formula; this module computes them. Inputs come from a battle's ``meta_*`` columns first when the feature
says so (Arena-Hard-Auto's terms are defined on its answers' own ``token_len`` and markdown counts, which
its loader puts there; its v2 ``token_len`` uses another tokenizer than stylebias's ``tokens``), otherwise,
and wherever those are missing, from the response texts. Everything else about a pair feature holds: one
float per battle, antisymmetric in A and B, not standardised.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from .registry import DERIVED_BY_NAME, TONE_LEVELS, resolve_features, tone_levels


def derived_pair_features(
    df: pd.DataFrame, names: list[str], *, jobs: int | None, cache: bool | str, chunk_size: int | None
) -> pd.DataFrame:
    """Pair features for ``names`` (derived and plain mixed), one float64 column each, in that order."""
    from .pairs import no_difference_where_not_applicable, pair_features

    plain = [n for n in names if n not in DERIVED_BY_NAME]
    out = pd.DataFrame(index=df.index)
    if plain:
        out = pair_features(df, plain, jobs=jobs, cache=cache, chunk_size=chunk_size)
    derived = [DERIVED_BY_NAME[n] for n in names if n in DERIVED_BY_NAME]
    inputs: list[str] = []
    for d in derived:
        inputs += [i for i in d.inputs if i not in inputs]
    meta_first = {i for d in derived if d.meta for i in d.inputs}
    a, b = side_values(df, inputs, meta_first, jobs=jobs, cache=cache, chunk_size=chunk_size)
    for d in derived:
        value = combine(d.formula, [a[i] for i in d.inputs], [b[i] for i in d.inputs])
        # an input not applicable on a side (an English measure of non-Latin text: NaN) makes the term so
        na = np.zeros(len(df), dtype=bool)
        for i in d.inputs:
            na |= np.isnan(a[i]) | np.isnan(b[i])
        value[na] = np.nan
        out[d.name] = value
    no_difference_where_not_applicable(out, [d.name for d in derived])
    return out[names]


def combine(formula: str, a: list[np.ndarray], b: list[np.ndarray]) -> np.ndarray:
    """One derived pair value per battle from the inputs of side A and side B (see the registry)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if formula == "count":
            return (a[0] - b[0]) / (a[0] + b[0] + 1.0)
        if formula == "share":
            return (a[0] - b[0]) / (a[0] + b[0])
        if formula == "density":
            da, db = a[0] / (a[1] + 1.0), b[0] / (b[1] + 1.0)
            return (da - db) / (da + db + 1.0)
    if formula.startswith("tone:"):
        level = TONE_LEVELS.index(formula.split(":", 1)[1])
        return (tone_levels(*a) == level).astype(np.float64) - (tone_levels(*b) == level).astype(np.float64)
    raise ValueError(f"unknown derived formula {formula!r}")


def side_values(
    df: pd.DataFrame,
    inputs: list[str],
    meta_first: set[str],
    *,
    jobs: int | None,
    cache: bool | str,
    chunk_size: int | None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per-side values of each input feature: ``meta_<f>_a/b`` where given (for ``meta_first`` inputs),
    extracted from the texts elsewhere; a battle with neither is a :class:`DataError` naming it."""
    from .runner import response_features

    n = len(df)
    a = {i: np.full(n, np.nan) for i in inputs}
    b = {i: np.full(n, np.nan) for i in inputs}
    todo = np.zeros((n, len(inputs)), dtype=bool)
    for j, name in enumerate(inputs):
        have = np.zeros(n, dtype=bool)
        if name in meta_first and f"meta_{name}_a" in df.columns and f"meta_{name}_b" in df.columns:
            ma = pd.to_numeric(df[f"meta_{name}_a"], errors="coerce").to_numpy(dtype=np.float64)
            mb = pd.to_numeric(df[f"meta_{name}_b"], errors="coerce").to_numpy(dtype=np.float64)
            have = np.isfinite(ma) & np.isfinite(mb)
            a[name][have], b[name][have] = ma[have], mb[have]
        todo[:, j] = ~have
    rows = np.flatnonzero(todo.any(axis=1))
    if len(rows):
        texts_a, texts_b = _texts(df, "a"), _texts(df, "b")
        missing = rows[[texts_a[r] is None or texts_b[r] is None for r in rows]]
        if len(missing):
            i = int(missing[0])
            wanted = [inputs[j] for j in np.flatnonzero(todo[i])]
            raise DataError.for_battle(
                f"battle has no response texts and no meta_* counts for {', '.join(wanted)} "
                f"({len(missing)} such battles)",
                df.iloc[i],
                i,
            )
        names = resolve_features([inputs[j] for j in np.flatnonzero(todo[rows].any(axis=0))])
        prompts = df["prompt"].iloc[rows].tolist() if "prompt" in df.columns else [None] * len(rows)
        resp = response_features(
            [texts_a[r] for r in rows] + [texts_b[r] for r in rows],
            prompts + prompts,
            features=names,
            jobs=jobs,
            cache=cache,
            chunk_size=chunk_size,
        )
        k = len(rows)
        for name in names:
            vals = resp[name].to_numpy(dtype=np.float64)  # counts, scores and 0/1 flags: numbers already
            j = inputs.index(name)
            fill = todo[rows, j]
            a[name][rows[fill]] = vals[:k][fill]
            b[name][rows[fill]] = vals[k:][fill]
    return a, b


def _texts(df: pd.DataFrame, side: str) -> list[Any]:
    col = f"response_{side}"
    if col not in df.columns:
        return [None] * len(df)
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in df[col].tolist()]
