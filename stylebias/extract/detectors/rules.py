"""Which patterns of a detector fire in which sentence unit of a reply, every constraint applied.

One function for both detectors and for the tests of the YAML ``examples``/``counterexamples``: the word
prefilter picks the candidate patterns per unit, the spaCy rule component matches them and checks the
in-sentence constraints (``sentence_start``, ``block_negation``, ``whole_unit``...), and this module adds the
ones that need the reply or the prompt (``opener_only``, ``needs_you``, ``suppress_if_prompt``, quotes).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .patterns import DetectorSpec, could_match, load_detector, raw_forms
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
    """Pattern ids (with one of ``labels``, none of ``exclude``) the word prefilter leaves possible per unit.

    The required-word test of every pattern at once (:func:`_fitting`, once per unit and detector) leaves the
    few units where some pattern has a word for each of its fixed-word positions; only there is the unit's
    view built and each such pattern checked on word pairs and the sentence start (:func:`.could_match`).
    Ids come in the file's pattern order.
    """
    index = _bit_index(detector)
    g_open, g_later = _label_guards(detector, labels, exclude)
    n_open = load_detector(detector).opener_sentences
    out: dict[int, list[str]] = {}
    for i, fit in enumerate(_fitting(prep, detector)):
        fit &= g_open if i < n_open else g_later
        if not fit:
            continue
        view = prep.view_of(i)
        ids = []
        while fit:
            low = fit & -fit
            fit ^= low
            p = index.by_guard[low.bit_length()]
            if (
                not (p.sentence_start and p.start_words is not None and view.first not in p.start_words)
            ) and could_match(p, view):
                ids.append(p.id)
        if ids:
            out[i] = ids
    return out


@dataclass(frozen=True)
class _BitIndex:
    """Every pattern's fixed-word positions as bits of one integer, so one addition tests them all.

    Pattern ``k`` owns a block of bits, one per required position (:attr:`.PatternSpec.required_words`), and a
    guard bit above it. A unit's mask ORs the bits of the positions its tokens fill (``masks``: raw token ->
    bits; a contraction's raw form fills the positions of its spaCy parts, as in the unit's view). Adding
    ``ones`` (the lowest bit of each block) carries into a pattern's guard bit exactly when all its positions
    are filled, and the carry stops there (the guard bit of a mask is 0); ``& guards`` keeps those guard bits.
    A pattern with no fixed word has an empty block, so its guard is always set.
    """

    #: raw anchor words of all patterns (:meth:`.DetectorSpec.anchors`; None: a pattern has none)
    anchors: frozenset[str] | None
    words: frozenset[str]
    masks: dict[str, int]
    ones: int
    guards: int
    #: ``bit_length()`` of a pattern's guard bit -> the pattern
    by_guard: dict[int, Any]
    #: the guard bit of each pattern, in file order
    guard_of: tuple[int, ...]


@lru_cache(maxsize=16)
def _bit_index(detector: str) -> _BitIndex:
    spec = load_detector(detector)
    masks: dict[str, int] = {}
    ones = guards = 0
    by_guard: dict[int, Any] = {}
    guard_of = []
    pos = 0
    for p in spec.patterns:
        ones |= 1 << pos
        for req in p.required_words:
            for w in raw_forms(req):
                masks[w] = masks.get(w, 0) | (1 << pos)
            pos += 1
        guards |= 1 << pos
        guard_of.append(1 << pos)
        by_guard[pos + 1] = p
        pos += 1
    return _BitIndex(spec.anchors(), frozenset(masks), masks, ones, guards, by_guard, tuple(guard_of))


@lru_cache(maxsize=64)
def _label_guards(detector: str, labels: frozenset[str] | None, exclude: frozenset[str]) -> tuple[int, int]:
    """Guard bits of the patterns with one of ``labels`` and none of ``exclude``: for opener units, and for
    later units (opener-only patterns cannot fire after the opener)."""
    spec = load_detector(detector)
    g_open = g_later = 0
    for p, g in zip(spec.patterns, _bit_index(detector).guard_of, strict=True):
        if (labels is None or p.label in labels) and p.label not in exclude:
            g_open |= g
            if not p.opener_only:
                g_later |= g
    return g_open, g_later


def _fitting(prep: Prepared, detector: str) -> list[int]:
    """Per unit, the guard bits of the patterns whose every fixed-word position the unit fills (computed once
    per reply and detector: both refusal phases read it)."""
    key = "fitting:" + detector
    got = prep.memo.get(key)
    if got is None:
        ix = _bit_index(detector)
        anchors, words, masks, ones, guards = ix.anchors, ix.words, ix.masks, ix.ones, ix.guards
        empty = ones & guards  # the patterns with no fixed word
        got = []
        for raw in prep.all_raw():
            # a pattern's anchor is one of its required positions: no anchor word, no pattern fits (most units)
            if anchors is not None and anchors.isdisjoint(raw):
                got.append(empty)
                continue
            hit = words.intersection(raw)
            m = 0
            for w in hit:
                m |= masks[w]
            got.append((m + ones) & guards)
        prep.memo[key] = got
    return got


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
            if _keeps(spec, pid, i, doc, start, ctx, units[i]) and (pid, label) not in kept:
                kept.append((pid, label))
        if kept:
            out[i] = kept
    return out


def _contexts(spec: DetectorSpec, prompt: str | None) -> dict[str, bool]:
    return {c: spec.prompt_matches(c, prompt) for c in spec.prompt_contexts}


def _keeps(spec: DetectorSpec, pid: str, i: int, doc, start: int, ctx: dict[str, bool], text: str) -> bool:
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
    return not in_quote(text, doc[start].idx)


def reply_hits(detector: str, text: str, prompt: str | None = None) -> Hits:
    """:func:`unit_hits` of a whole reply text (code blocks removed first, as in extraction)."""
    from ..markdown import strip_fenced_code

    return unit_hits(detector, Prepared(strip_fenced_code(text)[0]), prompt)
