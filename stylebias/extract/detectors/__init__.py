"""Rule-based flattery and refusal detectors (spaCy pipelines over patterns in ``features/*.yaml``).

Both work on *sentence units* of the prose (fenced code removed): lines and sentences, with list markers and
``**``/``__`` emphasis stripped and curly apostrophes normalised. A cheap word-set prefilter (see
:mod:`.patterns`) sends only sentences that could match some pattern through spaCy.
"""

from __future__ import annotations

from .flattery import detect_flattery
from .refusal import detect_refusal
from .units import sentence_units

__all__ = ["detect_flattery", "detect_refusal", "sentence_units"]
