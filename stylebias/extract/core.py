"""Per-response extraction as a pure function over a batch of records.

:func:`extract_batch` takes lists of texts and prompts and returns plain column lists. It has no side effects,
reads no global configuration and depends only on its inputs and the shipped pattern files, so the runner can
map it over chunks in worker processes (or a distributed engine can map it over record batches) and get results
identical to a serial run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .registry import FEATURE_BY_NAME, families_for

#: Bump when any feature's definition changes: it is part of every cache key.
EXTRACTOR_VERSION = "1"


def _family_values(family: str, text: str, prose: str, n_code: int, prompt: str | None) -> dict[str, Any]:
    if family == "structure":
        from .markdown import count_links, count_tables, lmarena_counts

        h, li, b = lmarena_counts(text)
        return {
            "header_count": h,
            "list_count": li,
            "bold_count": b,
            "code_blocks": n_code,
            "tables": count_tables(prose),
            "links": count_links(prose),
        }
    if family == "verbosity":
        from .verbosity import verbosity_features

        return verbosity_features(text, prose)
    if family == "emoji":
        from .emojis import count_emoji

        return {"emoji_count": count_emoji(text)}
    if family == "tone":
        from .tone import tone_features

        return tone_features(prose)
    if family == "flattery":
        from .detectors import detect_flattery

        return detect_flattery(prose, prompt)
    if family == "refusal":
        from .detectors import detect_refusal

        return detect_refusal(prose, prompt)
    raise ValueError(f"unknown feature family {family!r}")


def extract_one(text: str, prompt: str | None, features: Sequence[str]) -> dict[str, Any]:
    """Every requested feature of one response (``prompt`` gives context to the detectors)."""
    from .markdown import strip_fenced_code

    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if prompt is not None and not isinstance(prompt, str):
        prompt = None
    wanted = list(features)
    fams = families_for(wanted)
    values: dict[str, Any] = {}
    if "tokens" in wanted:
        from .tokens import count_tokens

        values["tokens"] = count_tokens(text)
    needs_prose = any(f != "verbosity" or any(n != "tokens" for n in wanted) for f in fams)
    prose, n_code = strip_fenced_code(text) if needs_prose else (text, 0)
    for fam in fams:
        if fam == "verbosity" and all(n == "tokens" or FEATURE_BY_NAME[n].family != fam for n in wanted):
            continue
        values.update(_family_values(fam, text, prose, n_code, prompt))
    return {name: values[name] for name in wanted}


def extract_batch(
    texts: Sequence[str], prompts: Sequence[str | None] | None, features: Sequence[str]
) -> dict[str, list[Any]]:
    """Features of a batch of responses as ``{feature: [value per text]}``: a pure function (see module doc)."""
    names = list(features)
    cols: dict[str, list[Any]] = {n: [] for n in names}
    if prompts is None:
        prompts = [None] * len(texts)
    for text, prompt in zip(texts, prompts, strict=True):
        row = extract_one(text, prompt, names)
        for n in names:
            cols[n].append(row[n])
    return cols
