"""Pair features: one antisymmetric row per battle from the two responses' features.

``count`` features use LMArena's normalised difference (a - b) / (a + b + 1), bounded in (-1, 1) and insensitive
to absolute scale; ``level`` and ``score`` features use a - b. Both flip sign exactly when A and B swap, so the
fitted style coefficient means the same thing whichever side a model sat on. Nothing is standardised here: the
rating fit does that, once, on the training battles.

Metadata-only battles (LMArena releases without texts) carry ``meta_*`` columns; the ``lmarena`` features are
read from them, row by row, wherever a response text is missing. Every other feature needs the texts.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, UsageError
from .registry import DERIVED_BY_NAME, FEATURE_BY_NAME, FEATURE_SETS, REFUSAL_LEVELS, resolve_features

#: Features that can be read from LMArena ``conv_metadata`` (``meta_<name>_a`` / ``meta_<name>_b``).
META_FEATURES: tuple[str, ...] = FEATURE_SETS["lmarena"]


def pair_values(a: np.ndarray, b: np.ndarray, kind: str) -> np.ndarray:
    """Combine per-side values into the pair value for one feature kind (see :mod:`.registry`)."""
    a = np.asarray(a, dtype="float64")
    b = np.asarray(b, dtype="float64")
    if kind == "count":
        return (a - b) / (a + b + 1.0)
    return a - b


def _battle_frame(battles: Any) -> pd.DataFrame:
    df = getattr(battles, "battles", battles)
    if not isinstance(df, pd.DataFrame):
        raise UsageError(f"pair_features needs a BattleSet or a DataFrame, not {type(battles).__name__}")
    for col in ("response_a", "response_b"):
        if col not in df.columns:
            df = df.assign(**{col: None})
    return df


def numeric_side(values: pd.Series, name: str) -> np.ndarray:
    """Per-response feature values as float (refusal labels become their ordinal codes, ``"n/a"`` NaN)."""
    if name == "refusal":
        return values.map(REFUSAL_LEVELS).to_numpy(dtype="float64")
    return values.to_numpy(dtype="float64")


def no_difference_where_not_applicable(
    out: pd.DataFrame, columns: list[str] | None = None, *, warn: bool = True
) -> None:
    """A pair where either side's feature is not applicable (an English measure of a response not in Latin
    script: NaN) gets the value 0, no measured difference, in place, with a warning saying how many.

    That is what the battle would contribute if the feature did not exist, so the fit learns the feature's
    effect from the battles where both sides were measured and every battle stays in the fit. ``warn=False``
    for the same battles once more (the detector-error correction rebuilds these columns dozens of times).
    """
    from ..errors import StyleBiasWarning

    counts = {}
    for name in out.columns if columns is None else columns:
        bad = out[name].isna().to_numpy()
        if bad.any():
            counts[name] = int(bad.sum())
            out.loc[bad, name] = 0.0
    if counts and warn:
        warnings.warn(
            "English-only features not applicable to a response not in Latin script count as no difference: "
            + ", ".join(f"{n} in {k:,} battle(s)" for n, k in counts.items()),
            StyleBiasWarning,
            stacklevel=3,
        )


def pair_features(
    battles: Any,
    features: str | list[str] | tuple[str, ...] | None = "lmarena",
    *,
    jobs: int | None = 1,
    cache: bool | str = True,
    chunk_size: int | None = None,
) -> pd.DataFrame:
    """Pair features for every battle: a DataFrame with the battles' index and one float64 column per feature.

    Args:
        battles: a :class:`stylebias.BattleSet` or a battle table (``response_a``, ``response_b``, optional
            ``prompt`` and ``meta_*`` columns).
        features: ``"lmarena"`` (tokens, header_count, list_count, bold_count), ``"full"``, a family name, a
            comma list or a list of names (see :func:`resolve_features`).
        jobs: worker processes for text extraction (``None``/``0`` = all cores); results do not depend on it.
        cache: use the on-disk feature cache (``True``), skip it (``False``) or use this cache directory.
        chunk_size: responses per extraction batch (default: runner's choice).

    Raises:
        DataError: a battle has no response text and the requested features cannot come from ``meta_*``.
    """
    from .runner import response_features

    names = resolve_features(features)
    labels = [n for n in names if n in FEATURE_BY_NAME and FEATURE_BY_NAME[n].kind == "label"]
    if labels:
        raise UsageError(f"{', '.join(labels)}: a per-response label, not a style feature of a battle")
    df = _battle_frame(battles)
    if any(n in DERIVED_BY_NAME for n in names):  # other pipelines' terms (registry.DERIVED_FEATURES)
        from .derived import derived_pair_features

        return derived_pair_features(df, names, jobs=jobs, cache=cache, chunk_size=chunk_size)
    n = len(df)
    out = pd.DataFrame(index=df.index)
    if n == 0:
        for name in names:
            out[name] = pd.Series(dtype="float64")
        return out

    has_a = df["response_a"].notna().to_numpy()
    has_b = df["response_b"].notna().to_numpy()
    has_text = has_a & has_b
    if not has_text.all():
        needs_text = [f for f in names if f not in META_FEATURES]
        first = int(np.flatnonzero(~has_text)[0])
        if needs_text:
            raise DataError(
                f"features {', '.join(needs_text)} need response texts, but {int((~has_text).sum())} battle(s) "
                f"are metadata-only (first: battle {df['battle_id'].iloc[first] if 'battle_id' in df else first}). "
                "Use --features lmarena with metadata-only data.",
                file=_source_of(df, first),
                record=_record_of(df, first),
            )
        missing = [f"meta_{f}_{s}" for f in names for s in ("a", "b") if f"meta_{f}_{s}" not in df.columns]
        if missing:
            raise DataError(
                f"battle has no response text and no {', '.join(missing)} metadata to read style counts from",
                file=_source_of(df, first),
                record=_record_of(df, first),
            )
        meta_rows = ~has_text
        for f in names:
            for s in ("a", "b"):
                bad = meta_rows & df[f"meta_{f}_{s}"].isna().to_numpy()
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    raise DataError(
                        f"battle has no response text and meta_{f}_{s} is missing ({int(bad.sum())} such battles)",
                        file=_source_of(df, i),
                        record=_record_of(df, i),
                    )

    side_a = np.full((n, len(names)), np.nan)
    side_b = np.full((n, len(names)), np.nan)
    if has_text.any():
        idx = np.flatnonzero(has_text)
        prompts = df["prompt"].iloc[idx].tolist() if "prompt" in df.columns else [None] * len(idx)
        texts = df["response_a"].iloc[idx].tolist() + df["response_b"].iloc[idx].tolist()
        resp = response_features(
            texts, prompts + prompts, features=names, jobs=jobs, cache=cache, chunk_size=chunk_size
        )
        k = len(idx)
        for j, name in enumerate(names):
            vals = numeric_side(resp[name], name)
            side_a[idx, j] = vals[:k]
            side_b[idx, j] = vals[k:]
    if not has_text.all():
        idx = np.flatnonzero(~has_text)
        for j, name in enumerate(names):
            side_a[idx, j] = df[f"meta_{name}_a"].to_numpy(dtype="float64")[idx]
            side_b[idx, j] = df[f"meta_{name}_b"].to_numpy(dtype="float64")[idx]

    for j, name in enumerate(names):
        out[name] = pair_values(side_a[:, j], side_b[:, j], FEATURE_BY_NAME[name].kind)
    no_difference_where_not_applicable(out)
    return out


def _source_of(df: pd.DataFrame, i: int) -> str | None:
    if "source_file" in df.columns and df["source_file"].iloc[i] is not None:
        return str(df["source_file"].iloc[i])
    return None


def _record_of(df: pd.DataFrame, i: int) -> int | str:
    if "source_record" in df.columns and df["source_record"].iloc[i] is not None:
        return df["source_record"].iloc[i]
    return f"row {i + 1}"
