"""Flattery and refusal detectors: rule signals (spaCy patterns in ``features/*.yaml``) scored by small learned
classifiers (JSON weights in ``models/detectors/``).

Both work on *sentence units* of the prose (fenced code removed): lines and sentences, with list markers and
``**``/``__`` emphasis stripped and curly apostrophes normalised. A cheap word-set prefilter (see
:mod:`.patterns`) sends only sentences that could match some pattern through spaCy; :mod:`.signals` turns the
hits, the unit's position and first words, and the prompt context into named signals; :mod:`.model` scores them.
"""

from __future__ import annotations

from .detect import detect_flattery, detect_refusal, explain_detection
from .units import sentence_units

__all__ = ["detect_flattery", "detect_refusal", "explain_detection", "sentence_units"]
