"""Flattery: sentences that praise or effusively validate the user (patterns: ``features/flattery.yaml``)."""

from __future__ import annotations

from typing import Any

from .patterns import load_detector
from .pipeline import run
from .units import Prepared, in_quote

_SECOND_PERSON = frozenset({"you", "your", "yours", "yourself", "you're", "youre"})


def flattery_sentences(
    prose: str, prompt: str | None = None, prep: Prepared | None = None
) -> list[tuple[int, str, list[str]]]:
    """``(unit index, unit text, pattern ids)`` for every sentence unit judged flattering."""
    spec = load_detector("flattery")
    if prep is None:
        prep = Prepared(prose)
    anchors = spec.anchors()
    if anchors is not None and anchors.isdisjoint(prep.tokens):
        return []
    units = prep.units
    cand: list[int] = []
    cand_ids: list[list[str]] = []
    for i, u in enumerate(units):
        if anchors is not None and anchors.isdisjoint(prep.raw_of(i)):
            continue
        ps = spec.candidates(u.lower(), prep.view_of(i))
        if ps:
            cand.append(i)
            cand_ids.append([p.id for p in ps])
    if not cand:
        return []
    by_id = {p.id: p for p in spec.patterns}
    suppressed = {c: spec.prompt_matches(c, prompt) for c in spec.prompt_contexts}
    out = []
    for i, doc in zip(cand, run("flattery", [units[i] for i in cand], cand_ids), strict=True):
        ids = []
        for pid, _label, start, _end in doc._.stylebias_hits:
            p = by_id[pid]
            if p.suppress_if_prompt and suppressed.get(p.suppress_if_prompt):
                continue
            if p.opener_only and i >= spec.opener_sentences:
                continue
            if p.needs_you or p.needs_your or (p.needs_you_or_opener and i >= spec.opener_sentences):
                before = {t.lower_ for t in doc[:start]}
                if p.needs_you and before.isdisjoint(_SECOND_PERSON):
                    continue
                if p.needs_your and before.isdisjoint(("your", "yours")):
                    continue
                if p.needs_you_or_opener and i >= spec.opener_sentences and before.isdisjoint(_SECOND_PERSON):
                    continue
            if in_quote(doc, start):
                continue  # inside a quotation: sample text, not the assistant addressing the user
            ids.append(pid)
        if ids:
            out.append((i, units[i], sorted(set(ids))))
    return out


def detect_flattery(prose: str, prompt: str | None = None, prep: Prepared | None = None) -> dict[str, Any]:
    """``flattery_count`` (flattering sentences) and ``flattery`` (0/1)."""
    n = len(flattery_sentences(prose, prompt, prep))
    return {"flattery_count": n, "flattery": int(n > 0)}
