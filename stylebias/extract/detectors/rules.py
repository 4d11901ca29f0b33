"""Which patterns of a detector fire in which sentence unit of a reply, every constraint applied.

One function for both detectors and for the tests of the YAML ``examples``/``counterexamples``: the word
prefilter picks the candidate patterns per unit, the spaCy rule component matches them and checks the
in-sentence constraints (``sentence_start``, ``block_negation``, ``whole_unit``...), and this module adds the
ones that need the reply or the prompt (``opener_only``, ``needs_you``, ``suppress_if_prompt``, quotes).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .patterns import DetectorSpec, anchor_words, could_match, load_detector
from .pipeline import run
from .units import Prepared, in_quote

_SECOND_PERSON = frozenset({"you", "your", "yours", "yourself", "you're", "youre"})

#: unit index -> [(pattern id, label), ...] in match order
Hits = dict[int, list[tuple[str, str]]]


def unit_candidates(
    detector: str,
    prep: Prepared,
    labels: frozenset[str] | None = None,
    exclude: frozenset[str] = frozenset(),
) -> dict[int, list[str]]:
    """Pattern ids (with one of ``labels``, none of ``exclude``) the word prefilter leaves possible per unit."""
    spec = load_detector(detector)
    possible = [
        p
        for p in prep.reply_candidates(spec)
        if (labels is None or p.label in labels) and p.label not in exclude
    ]
    out: dict[int, list[str]] = {}
    if not possible:
        return out
    groups = _groups(detector, tuple(p.id for p in possible))
    for i in range(len(prep.units)):
        pats, anchors = groups[i >= spec.opener_sentences]
        raw = prep.raw_of(i)
        if not pats or (anchors is not None and anchors.isdisjoint(raw)):
            continue  # no pattern's anchor word in this unit (checked on the raw tokens: no set built)
        live = [p for p in pats if p.anchor_raw is None or not p.anchor_raw.isdisjoint(raw)]
        if not live:
            continue
        view = prep.view_of(i)
        ids = [
            p.id
            for p in live
            if not (p.sentence_start and p.start_words is not None and view.first not in p.start_words)
            and could_match(p, view)
        ]
        if ids:
            out[i] = ids
    return out


def unit_hits(
    detector: str,
    prep: Prepared,
    prompt: str | None,
    labels: frozenset[str] | None = None,
    exclude: frozenset[str] = frozenset(),
) -> Hits:
    """Pattern hits per unit for the patterns with one of ``labels`` (all when None) and none of ``exclude``."""
    spec = load_detector(detector)
    found = unit_candidates(detector, prep, labels, exclude)
    if not found:
        return {}
    cand = list(found)
    cand_ids = list(found.values())
    units = prep.units
    out: Hits = {}
    ctx = _contexts(spec, prompt)
    for i, doc in zip(cand, run(detector, [units[i] for i in cand], cand_ids), strict=True):
        kept = []
        for pid, label, start, _end in doc._.stylebias_hits:
            if _keeps(spec, pid, i, doc, start, ctx) and (pid, label) not in kept:
                kept.append((pid, label))
        if kept:
            out[i] = kept
    return out


@lru_cache(maxsize=4096)
def _groups(detector: str, ids: tuple[str, ...]) -> tuple[tuple[list[Any], frozenset[str] | None], ...]:
    """``(patterns, their anchor words)`` for opener units and for later units (opener-only patterns cannot
    fire after the opener), cached per set of reply candidates: the same few sets recur."""
    spec = load_detector(detector)
    possible = [spec.by_id[i] for i in ids]
    later = [p for p in possible if not p.opener_only]
    return (possible, anchor_words(possible)), (later, anchor_words(later))


def _contexts(spec: DetectorSpec, prompt: str | None) -> dict[str, bool]:
    return {c: spec.prompt_matches(c, prompt) for c in spec.prompt_contexts}


def _keeps(spec: DetectorSpec, pid: str, i: int, doc, start: int, ctx: dict[str, bool]) -> bool:
    p = spec.by_id[pid]
    if p.suppress_if_prompt and ctx.get(p.suppress_if_prompt):
        return False
    opener = i < spec.opener_sentences
    if p.opener_only and not opener:
        return False
    if p.needs_you or p.needs_your or (p.needs_you_or_opener and not opener):
        before = {t.lower_ for t in doc[:start]}
        if p.needs_you and before.isdisjoint(_SECOND_PERSON):
            return False
        if p.needs_your and before.isdisjoint(("your", "yours")):
            return False
        if p.needs_you_or_opener and not opener and before.isdisjoint(_SECOND_PERSON):
            return False
    # inside a quotation or a dialogue line: sample text, not the assistant addressing the user
    return not in_quote(doc, start)


def reply_hits(detector: str, text: str, prompt: str | None = None) -> Hits:
    """:func:`unit_hits` of a whole reply text (code blocks removed first, as in extraction)."""
    from ..markdown import strip_fenced_code

    return unit_hits(detector, Prepared(strip_fenced_code(text)[0]), prompt)
