"""Which patterns of a detector fire in which sentence unit of a reply, every constraint applied.

One function for both detectors and for the tests of the YAML ``examples``/``counterexamples``: the word
prefilter picks the candidate patterns per unit, the spaCy rule component matches them and checks the
in-sentence constraints (``sentence_start``, ``block_negation``, ``whole_unit``...), and this module adds the
ones that need the reply or the prompt (``opener_only``, ``needs_you``, ``suppress_if_prompt``, quotes).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .patterns import DetectorSpec, could_match, load_detector
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

    A unit none of whose tokens is an anchor word of these patterns is skipped after one set test in C (most
    units); in the others only the patterns anchored by the words present are checked (:func:`.could_match`
    on the unit's words and word pairs, and the sentence start). Ids come in the file's pattern order.
    """
    opener_ix, later_ix = _index(detector, labels, exclude)
    n_open = load_detector(detector).opener_sentences
    out: dict[int, list[str]] = {}
    for i, raw in enumerate(prep.all_raw()):
        anchors, by_word, always = opener_ix if i < n_open else later_ix
        if anchors.isdisjoint(raw):
            if not always:
                continue
            pats = always
        else:
            hit = anchors.intersection(raw)
            if len(hit) == 1 and not always:
                pats = by_word[next(iter(hit))]
            else:
                found = {p.id: (k, p) for w in hit for k, p in by_word[w]}
                found.update((p.id, (k, p)) for k, p in always)
                pats = tuple(kp for _pid, kp in sorted(found.items(), key=lambda t: t[1][0]))
        view = prep.view_of(i)
        ids = [
            p.id
            for _k, p in pats
            if not (p.sentence_start and p.start_words is not None and view.first not in p.start_words)
            and could_match(p, view)
        ]
        if ids:
            out[i] = ids
    return out


_Index = tuple[frozenset[str], dict[str, tuple[tuple[int, Any], ...]], tuple[tuple[int, Any], ...]]


@lru_cache(maxsize=64)
def _index(detector: str, labels: frozenset[str] | None, exclude: frozenset[str]) -> tuple[_Index, _Index]:
    """The prefilter's index of the patterns with one of ``labels`` and none of ``exclude``, for opener units
    and for later units (opener-only patterns cannot fire after the opener): every raw anchor word (contraction
    forms included, :func:`.anchor_words`), the patterns each one anchors, and the patterns with no anchor
    (candidates everywhere), each as ``(position in the file, pattern)``."""
    spec = load_detector(detector)
    chosen = [
        (k, p)
        for k, p in enumerate(spec.patterns)
        if (labels is None or p.label in labels) and p.label not in exclude
    ]

    def build(pats: list[tuple[int, Any]]) -> _Index:
        by_word: dict[str, list[tuple[int, Any]]] = {}
        always = []
        for k, p in pats:
            if p.anchor_raw is None:
                always.append((k, p))
                continue
            for w in p.anchor_raw:
                by_word.setdefault(w, []).append((k, p))
        return frozenset(by_word), {w: tuple(v) for w, v in by_word.items()}, tuple(always)

    return build(chosen), build([(k, p) for k, p in chosen if not p.opener_only])


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
