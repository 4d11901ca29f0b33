"""Per-response extraction as a pure function over a batch of records.

:func:`extract_batch` takes lists of texts and prompts and returns plain column lists. It has no side effects,
reads no global configuration and depends only on its inputs and the shipped pattern files, so the runner can
map it over chunks in worker processes (or a distributed engine can map it over record batches) and get results
identical to a serial run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from .registry import ENGLISH_FEATURES, FEATURE_BY_NAME, REFUSAL_NOT_APPLICABLE, families_for

#: Bump when any feature's definition changes: it is part of every cache key.
EXTRACTOR_VERSION = "3"


_SURROGATE = re.compile("[\ud800-\udfff]")


def _valid_unicode(text: str) -> str:
    """Lone surrogates (a JSON ``"\\ud800"`` escape decodes to one) become U+FFFD.

    The loaders reject such records; this keeps direct callers from crashing in spaCy or tiktoken, which
    encode to UTF-8.
    """
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub("\ufffd", text)


@lru_cache(maxsize=64)
def _plan(wanted: tuple[str, ...]) -> tuple[frozenset[str], bool, bool, bool, bool]:
    """``(families, wants tokens, wants the LMArena counts, wants other verbosity features, needs the
    script)`` of a request: worked out once per feature list, not once per response."""
    fams = frozenset(families_for(list(wanted)))
    lmarena = any(n in wanted for n in ("header_count", "list_count", "bold_count"))
    other_verbosity = any(FEATURE_BY_NAME[n].family == "verbosity" and n != "tokens" for n in wanted)
    needs_script = "script" in wanted or any(n in ENGLISH_FEATURES for n in wanted)
    return fams, "tokens" in wanted, lmarena, other_verbosity, needs_script


def not_applicable(wanted: Sequence[str]) -> dict[str, Any]:
    """The values of the English-only features among ``wanted`` on prose not in Latin script: NaN, and
    ``"n/a"`` for the refusal label (see :mod:`.scripts`)."""
    return {
        n: (REFUSAL_NOT_APPLICABLE if n == "refusal" else math.nan) for n in wanted if n in ENGLISH_FEATURES
    }


def extract_one(text: str, prompt: str | None, features: Sequence[str]) -> dict[str, Any]:
    """Every requested feature of one response (``prompt`` gives context to the detectors).

    Shared intermediate results (the prose with code removed, its word list) are computed once and only when
    a requested feature needs them, so the ``lmarena`` set costs a tokenizer pass and four regexes.
    """
    from .markdown import count_links, count_tables, lmarena_counts, strip_fenced_code

    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if prompt is not None and not isinstance(prompt, str):
        prompt = None
    text = _valid_unicode(text)
    prompt = None if prompt is None else _valid_unicode(prompt)
    wanted = tuple(features)
    fams, want_tokens, want_lmarena, other_verbosity, needs_script = _plan(wanted)
    values: dict[str, Any] = {}
    if want_tokens:
        from .tokens import count_tokens

        values["tokens"] = count_tokens(text)
    if want_lmarena:
        values["header_count"], values["list_count"], values["bold_count"] = lmarena_counts(text)
    if all(n in values for n in wanted):
        return {name: values[name] for name in wanted}

    from .scripts import ENGLISH_SCRIPTS, dominant_script, non_ascii

    prose, n_code = strip_fenced_code(text)
    rest = non_ascii(prose)  # what the script and the non-English word and sentence rules look at
    english = True
    if needs_script:
        values["script"] = script = dominant_script(prose, rest)
        english = script in ENGLISH_SCRIPTS
    words: list[str] | None = None
    if "verbosity" in fams or "tone" in fams:
        from .verbosity import prose_words

        words = prose_words(prose, rest)
    if "structure" in fams:
        values.update(code_blocks=n_code, tables=count_tables(prose), links=count_links(prose))
    if other_verbosity:
        from .verbosity import verbosity_features

        values.update(verbosity_features(text, prose, words, english, rest))
    if "emoji" in fams:
        from .emojis import count_emoji

        values["emoji_count"] = count_emoji(text)
    if "tone" in fams:
        from .tone import tone_features

        values.update(tone_features(prose, len(words or ()), english))
    if not english:
        values.update(not_applicable(wanted))
        return {name: values[name] for name in wanted}
    if "flattery" in fams or "refusal" in fams:
        from .detectors import detect_flattery, detect_refusal
        from .detectors.units import Prepared

        prep = Prepared(prose)
        if "flattery" in fams:
            values.update(detect_flattery(prose, prompt, prep))
        if "refusal" in fams:
            values.update(detect_refusal(prose, prompt, prep))
    return {name: values[name] for name in wanted}


def clear_memos() -> None:
    """Forget what this process memoised about texts seen so far (VADER scores of sentences, hyphenations of
    words the CMU dictionary lacks). Values never depend on these memos; timing a cold start does."""
    from . import tone, verbosity

    tone._MEMO.clear()
    verbosity.clear_syllable_memo()


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
