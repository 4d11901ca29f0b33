"""The spaCy side of the detectors: a blank English tokenizer and a rule component.

``stylebias_rules`` runs a :class:`spacy.matcher.Matcher` built from one ``features/<detector>.yaml`` file and
keeps the matches that pass the pattern's constraints (sentence position, negation scope, question form,
words that must not follow). Matches are stored on ``doc._.stylebias_hits`` as ``(pattern_id, label, start,
end)``. Everything is rule-based and shipped as data: no model is downloaded or loaded.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc

from .patterns import DetectorSpec, PatternSpec, load_detector

NEGATIONS = frozenset({"not", "n't", "nt", "never", "no", "hardly", "neither", "nor", "n’t"})
#: tokens allowed before a ``sentence_start`` match (interjections and markdown/quote punctuation)
_LEAD_OK = frozenset(
    {
        "oh",
        "ah",
        "wow",
        "well",
        "sure",
        "okay",
        "ok",
        "yes",
        "hey",
        "hi",
        "hello",
        "ooh",
        "oooh",
        "yay",
        "aha",
        "actually",
        "honestly",
        "indeed",
        "hmm",
        "yeah",
    }
)

_CONDITIONAL = frozenset({"if", "when", "whenever", "unless", "case", "where", "once"})

#: sentences parsed by one pipeline before it is rebuilt (bounded vocabulary growth)
VOCAB_RESET_DOCS = 200_000
_DOCS_SEEN: dict[str, int] = {}

if not Doc.has_extension("stylebias_hits"):
    Doc.set_extension("stylebias_hits", default=None)
if not Doc.has_extension("stylebias_candidates"):
    Doc.set_extension("stylebias_candidates", default=None)


class RuleComponent:
    """Matcher + constraint checks for one detector definition."""

    def __init__(self, nlp: Language, detector: str, folder: str | None = None) -> None:
        self.spec: DetectorSpec = load_detector(detector, folder)
        self.by_id: dict[str, PatternSpec] = {p.id: p for p in self.spec.patterns}
        # One matcher per pattern, so a sentence is only matched against the patterns the prefilter left
        # possible for it (``doc._.stylebias_candidates``; all patterns when unset).
        self.matchers: dict[str, Matcher] = {}
        for p in self.spec.patterns:
            m = Matcher(nlp.vocab, validate=True)
            m.add(p.id, [p.tokens])
            self.matchers[p.id] = m

    def __call__(self, doc: Doc) -> Doc:
        hits: list[tuple[str, str, int, int]] = []
        seen: set[tuple[str, int]] = set()
        ids = doc._.stylebias_candidates
        for pid in self.matchers if ids is None else ids:
            p = self.by_id[pid]
            for _match_id, start, end in self.matchers[pid](doc):
                if (pid, start) in seen or not self._passes(p, doc, start, end):
                    continue
                seen.add((pid, start))
                hits.append((pid, p.label, start, end))
        doc._.stylebias_hits = hits
        return doc

    @staticmethod
    def _passes(p: PatternSpec, doc: Doc, start: int, end: int) -> bool:
        # a unit is one sentence by construction (units.sentence_units splits at sentence ends)
        sent = doc[:]
        if p.sentence_start:
            for tok in doc[sent.start : start]:
                if not (tok.is_punct or tok.lower_ in _LEAD_OK):
                    return False
        if p.block_negation:
            lo = max(sent.start, start - 3)
            if any(t.lower_ in NEGATIONS for t in doc[lo:end]):
                return False
        if p.block_question and sent.text.rstrip().endswith("?"):
            return False
        if p.block_conditional and any(t.lower_ in _CONDITIONAL for t in doc[sent.start : start]):
            return False
        if p.not_preceded_by and any(
            t.lower_ in p.not_preceded_by for t in doc[max(sent.start, start - 2) : start]
        ):
            return False
        if p.whole_unit and any(not t.is_punct for t in doc[end : sent.end]):
            return False
        if p.not_followed_by:
            nxt = [t for t in doc[end : min(len(doc), end + 3)] if not t.is_punct][:1]
            if nxt and nxt[0].lower_ in p.not_followed_by:
                return False
        return True


@Language.factory("stylebias_rules", default_config={"detector": "flattery", "folder": None})
def _make_rules(nlp: Language, name: str, detector: str, folder: str | None) -> RuleComponent:
    return RuleComponent(nlp, detector, folder)


@cache
def detector_pipeline(detector: str, folder: str | None = None) -> Language:
    """``spacy.blank("en")`` + ``stylebias_rules`` for one detector (built once per process)."""
    import spacy

    nlp = spacy.blank("en")
    # Every new word form gets a lexeme with ~20 lexical attributes computed in Python; the patterns use only
    # these, so the rest are not computed (measured: lexeme creation was a quarter of detector time).
    from spacy.attrs import IS_ALPHA, IS_PUNCT, IS_SPACE, LOWER, NORM

    keep = {LOWER, NORM, IS_ALPHA, IS_PUNCT, IS_SPACE}
    getters = nlp.vocab.lex_attr_getters
    nlp.vocab.lex_attr_getters = {k: v for k, v in getters.items() if k in keep}
    nlp.add_pipe("stylebias_rules", config={"detector": detector, "folder": folder})
    return nlp


def run(
    detector: str,
    sentences: list[str],
    candidates: list[list[str]] | None = None,
    folder: str | None = None,
) -> list[Any]:
    """Docs for ``sentences`` with ``doc._.stylebias_hits`` filled in.

    ``candidates[i]`` restricts sentence ``i`` to those pattern ids (from the prefilter); ``None`` runs all.
    """
    if not sentences:
        return []
    _DOCS_SEEN[detector] = _DOCS_SEEN.get(detector, 0) + len(sentences)
    if _DOCS_SEEN[detector] > VOCAB_RESET_DOCS:
        # spaCy adds every new word to the pipeline's vocabulary; rebuilding the pipeline now and then keeps
        # a long streaming run's memory flat (results do not depend on the vocabulary's history)
        detector_pipeline.cache_clear()
        _DOCS_SEEN.clear()
    nlp = detector_pipeline(detector, folder)
    rules = nlp.get_pipe("stylebias_rules")
    docs = [nlp.make_doc(s) for s in sentences]
    if candidates is not None:
        for doc, ids in zip(docs, candidates, strict=True):
            doc._.stylebias_candidates = ids
    return [rules(doc) for doc in docs]  # the only component: called directly, without nlp.pipe's batching
