"""Flattery rules: sentence units a ``features/flattery.yaml`` pattern fires on (the classifier reads them)."""

from __future__ import annotations

from .rules import unit_hits
from .units import Prepared


def flattery_sentences(
    prose: str, prompt: str | None = None, prep: Prepared | None = None
) -> list[tuple[int, str, list[str]]]:
    """``(unit index, unit text, pattern ids)`` for every sentence unit a flattery pattern fires on."""
    if prep is None:
        prep = Prepared(prose)
    hits = unit_hits("flattery", prep, prompt)
    return [(i, prep.units[i], sorted({pid for pid, _ in hits[i]})) for i in sorted(hits)]
