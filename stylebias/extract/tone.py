"""Tone: exclamation rate and positivity (VADER sentiment of the prose).

``positivity`` is the mean VADER ``compound`` score over the sentences of the prose. VADER is built for
sentence-level text (its README averages sentence scores for paragraphs); run on a whole 400-word answer its
compound saturates near +1 for almost everything, which would make a useless covariate.

:class:`FastVader` returns exactly ``vaderSentiment``'s ``polarity_scores(s)["compound"]`` (same lexicon file
from the installed wheel, same rules; ``tests/test_extract_exact_rewrites.py`` compares them on real answers
and on generated sentences full of negations, boosters, idioms, "but", capitals and emoji) without the hot
spots of the reference code: the character-by-character emoji rewrite (one regex pass, only on sentences
holding a lexicon emoji), the lower-cased word list rebuilt for every lexicon word (once per sentence here),
a valence walk over every word (only lexicon words can have one), and the quadratic "but" rescaling. A
sentence none of whose tokens is a lexicon word scores exactly 0 and is skipped after two set tests.
"""

from __future__ import annotations

import heapq
import math
import re
import string
from functools import lru_cache
from itertools import repeat
from typing import Any

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
)

#: positivity of longer texts is the mean over this many evenly spaced sentences (bounded cost)
MAX_SENTENCES = 1000
# split after . ! ? (and CJK marks) followed by whitespace, and at line breaks: the same splits as
# ``(?<=[.!?])\s+|\n+``, written so every alternative starts with a whitespace character or a newline
# (``re`` then skips other characters in C instead of trying the lookbehind at each one: 3x faster)
_SENTENCES = re.compile(r"\s(?<=[.!?\u3002\uff01\uff1f]\s)\s*|\n\n*")
_EXCLAIM = re.compile(r"[!\uff01](?![=\[])")
_WORDISH = re.compile(r"\w")
# VADER looks words up as whitespace tokens, stripped of punctuation unless that leaves <= 2 chars: checking
# both forms of every token against the lexicon is an exact "no lexicon word here" test.
_PUNCT = string.punctuation


class FastVader(SentimentIntensityAnalyzer):
    """``vaderSentiment`` with the per-sentence hot loop tightened; identical compound scores."""

    _lower: list[str]

    def compound(self, text: str) -> float:
        """VADER's rounded ``compound`` score of one sentence (``polarity_scores(text)["compound"]``)."""
        text = self._replace_emojis(text) if not text.isascii() else text.strip()
        words = senti_words(text)
        return self.compound_of(text, words, " ".join(words).lower().split())

    def compound_of(self, text: str, words: list[str], lower: list[str]) -> float:
        """:meth:`compound` of a sentence already cut into VADER's words (``text``: emoji replaced, stripped;
        ``words``: :func:`senti_words`; ``lower``: the words lower-cased).

        Only lexicon words get a valence; every other word's sentiment is 0, which changes neither the sum
        nor the "but" rescaling, so the sentiments are kept sparse (index, non-zero value).
        """
        lexicon = self.lexicon
        hits = [i for i, lw in enumerate(lower) if lw in lexicon]
        if not hits:
            return 0.0
        n_upper = sum(map(str.isupper, words))
        is_cap_diff = 0 < len(words) - n_upper < len(words)
        self._lower = lower
        last = len(words) - 1
        # With no negation, booster or other rule word anywhere in the sentence, VADER's valence of a
        # lexicon word is its lexicon value (+/- the capitals increment), idioms aside: every other rule
        # adds 0.0 or multiplies nothing. Most sentences are like that; they skip the rule walk.
        plain = _RULE_WORDS.isdisjoint(lower) and "n't" not in text.lower()
        idx: list[int] = []
        vals: list[float] = []
        for i in hits:
            lw = lower[i]
            if lw in BOOSTER_DICT or (i < last and lw == "kind" and lower[i + 1] == "of"):
                continue
            if plain:
                v = lexicon[lw]
                if is_cap_diff and words[i].isupper():
                    v = v + C_INCR if v > 0 else v - C_INCR
                if (
                    i > 2
                    and lower[i - 3] not in lexicon
                    and not _PHRASE_WORDS.isdisjoint(lower[i - 3 : i + 3])
                ):
                    v = self._special_idioms_check(v, words, i)
            else:
                v = self._valence(words[i], i, words, lower, is_cap_diff)
            if v:
                idx.append(i)
                vals.append(v)
        if not idx:
            return 0.0
        if "but" in lower:
            vals = but_check_sparse(idx, vals, lower.index("but"))
        # score_valence, compound part only
        sum_s = float(sum(vals))
        ep = min(text.count("!"), 4) * 0.292
        qm = text.count("?")
        amp = ep + ((qm * 0.18 if qm <= 3 else 0.96) if qm > 1 else 0)
        if sum_s > 0:
            sum_s += amp
        elif sum_s < 0:
            sum_s -= amp
        norm = sum_s / math.sqrt(sum_s * sum_s + 15)
        norm = -1.0 if norm < -1.0 else (1.0 if norm > 1.0 else norm)
        return round(norm, 4)

    def _valence(self, item: str, i: int, words: list[str], low: list[str], is_cap_diff: bool) -> float:
        """``SentimentIntensityAnalyzer.sentiment_valence`` for a lexicon word, with the lower-cased words
        precomputed and ``scalar_inc_dec``/``_least_check`` inlined (same arithmetic, same order)."""
        lexicon = self.lexicon
        il = low[i]
        valence = lexicon[il]
        n = len(words)
        if il == "no" and i != n - 1 and low[i + 1] in lexicon:
            valence = 0.0
        if (
            (i > 0 and low[i - 1] == "no")
            or (i > 1 and low[i - 2] == "no")
            or (i > 2 and low[i - 3] == "no" and low[i - 1] in ("or", "nor"))
        ):
            valence = lexicon[il] * N_SCALAR
        if item.isupper() and is_cap_diff:
            if valence > 0:
                valence += C_INCR
            else:
                valence -= C_INCR
        for start_i in range(0, 3):
            if i > start_i and low[i - (start_i + 1)] not in lexicon:
                prev = words[i - (start_i + 1)]
                pl = low[i - (start_i + 1)]
                sc = 0.0
                if pl in BOOSTER_DICT:
                    sc = BOOSTER_DICT[pl]
                    if valence < 0:
                        sc *= -1
                    if prev.isupper() and is_cap_diff:
                        if valence > 0:
                            sc += C_INCR
                        else:
                            sc -= C_INCR
                if start_i == 1 and sc != 0:
                    sc = sc * 0.95
                if start_i == 2 and sc != 0:
                    sc = sc * 0.9
                valence = valence + sc
                valence = self._negation_check(valence, words, start_i, i)
                if start_i == 2 and not _PHRASE_WORDS.isdisjoint(low[i - 3 : i + 3]):
                    valence = self._special_idioms_check(valence, words, i)
        if i > 1 and low[i - 1] not in lexicon and low[i - 1] == "least":
            if low[i - 2] != "at" and low[i - 2] != "very":
                valence = valence * N_SCALAR
        elif i > 0 and low[i - 1] not in lexicon and low[i - 1] == "least":
            valence = valence * N_SCALAR
        return valence

    def _replace_emojis(self, text: str) -> str:
        """vaderSentiment's emoji rewrite: each lexicon emoji becomes its description, after a space unless
        it starts the text or follows a space. Only single-character keys can match (the reference walks the
        text one character at a time).

        Done in C: ``str.translate`` puts a NUL before each description, then NULs after a space or at the
        start are dropped and the others become spaces (descriptions hold no NUL and never end in a space;
        a text holding a NUL takes the regex route)."""
        emojis = self.emojis
        present = _emoji_chars(self).intersection(text)
        if not present:
            return text.strip()
        if "\x00" not in text:
            out = text.translate({ord(c): "\x00" + emojis[c] for c in present}).replace(" \x00", " ")
            if out.startswith("\x00"):
                out = out[1:]
            return out.replace("\x00", " ").strip()
        pattern = re.compile("[" + "".join(map(re.escape, sorted(present))) + "]")

        def describe(m: re.Match[str]) -> str:
            i = m.start()
            return (" " if i and text[i - 1] != " " else "") + emojis[m.group()]

        return pattern.sub(describe, text).strip()

    def _negation_check(self, valence: float, words_and_emoticons: list[str], start_i: int, i: int) -> float:  # type: ignore[override]
        low = self._lower
        if start_i == 0:
            if _negated(low[i - 1]):
                valence = valence * N_SCALAR
        if start_i == 1:
            if low[i - 2] == "never" and (low[i - 1] == "so" or low[i - 1] == "this"):
                valence = valence * 1.25
            elif low[i - 2] == "without" and low[i - 1] == "doubt":
                valence = valence
            elif _negated(low[i - 2]):
                valence = valence * N_SCALAR
        if start_i == 2:
            if (
                low[i - 3] == "never"
                and (low[i - 2] == "so" or low[i - 2] == "this")
                or (low[i - 1] == "so" or low[i - 1] == "this")
            ):
                valence = valence * 1.25
            elif low[i - 3] == "without" and (low[i - 2] == "doubt" or low[i - 1] == "doubt"):
                valence = valence
            elif _negated(low[i - 3]):
                valence = valence * N_SCALAR
        return valence

    def _special_idioms_check(self, valence: float, words_and_emoticons: list[str], i: int) -> float:  # type: ignore[override]
        # the reference joins the 2- and 3-grams around word i with spaces and looks them up; words hold no
        # space, so looking up the word tuples in the same tables keyed by tuples is the same test
        low = self._lower
        w3, w2, w1, w0 = low[i - 3], low[i - 2], low[i - 1], low[i]
        for seq in ((w1, w0), (w2, w1, w0), (w2, w1), (w3, w2, w1), (w3, w2)):
            v = _SPECIAL_NGRAMS.get(seq)
            if v is not None:
                valence = v
                break
        n = len(low)
        if n - 1 > i:
            v = _SPECIAL_NGRAMS.get((w0, low[i + 1]))
            if v is not None:
                valence = v
        if n - 1 > i + 1:
            v = _SPECIAL_NGRAMS.get((w0, low[i + 1], low[i + 2]))
            if v is not None:
                valence = v
        for seq in ((w3, w2, w1), (w3, w2), (w2, w1)):
            b = _BOOSTER_NGRAMS.get(seq)
            if b is not None:
                valence = valence + b
        return valence


def senti_words(text: str) -> list[str]:
    """VADER's ``SentiText`` words: whitespace tokens stripped of punctuation unless that leaves <= 2 characters
    (an emoticon such as ``:)`` stays whole)."""
    return [w if len(st := w.strip(_PUNCT)) <= 2 else st for w in text.split()]


@lru_cache(maxsize=4)
def _emoji_chars(vader: SentimentIntensityAnalyzer) -> frozenset[str]:
    """The emoji lexicon's single-character keys (a set test per sentence: a character class of 1,212
    astral code points is scanned linearly by ``re``, 3x slower than the reference loop on CJK text)."""
    return frozenset(k for k in vader.emojis if len(k) == 1)


#: words that trigger a VADER rule around a lexicon word (negations, boosters, "no", "least", the
#: "never so/this" and "without doubt" idioms, and "so"/"this", which scale the next word by 1.25)
_RULE_WORDS = frozenset(NEGATE) | frozenset(BOOSTER_DICT) | {
    "no", "never", "so", "this", "without", "doubt", "least", "or", "nor",
}  # fmt: skip

#: VADER's multi-word idioms and booster phrases keyed by word tuples (see ``_special_idioms_check``)
_SPECIAL_NGRAMS = {tuple(k.split(" ")): v for k, v in SPECIAL_CASES.items() if " " in k}
_BOOSTER_NGRAMS = {tuple(k.split(" ")): v for k, v in BOOSTER_DICT.items() if " " in k}

#: words of VADER's multi-word idioms and booster phrases: a lexicon word with none of them within
#: 3 words before / 2 after cannot match any idiom, so the idiom check is skipped (same result)
_PHRASE_WORDS = frozenset(w for key in [*SPECIAL_CASES, *BOOSTER_DICT] if " " in key for w in key.split(" "))


def but_check(sentiments: list[float], bi: int) -> list[float]:
    """``SentimentIntensityAnalyzer._but_check`` on a dense list (see :func:`but_check_sparse`)."""
    nz = [i for i, x in enumerate(sentiments) if x != 0]
    out = list(sentiments)
    for i, v in zip(nz, but_check_sparse(nz, [sentiments[i] for i in nz], bi), strict=True):
        out[i] = v
    return out


def but_check_sparse(idx: list[int], vals: list[float], bi: int) -> list[float]:
    """``SentimentIntensityAnalyzer._but_check`` for the non-zero sentiments ``vals`` at word indices ``idx``
    (ascending; ``bi``: index of the first "but"), in O(n log n). Returns the rescaled values.

    The reference walks the sentiments and, for each value ``x``, rescales the *first* element equal to ``x``
    (``list.index``: quadratic on a long sentence, 45 ms on 16,000 characters of "good but") - usually the
    element itself, but an earlier one when an earlier element already holds ``x`` (quirk kept). Element ``k``
    still holds its original value when the walk reaches it (only elements at or before the walk position
    change), so each step is "find the lowest index currently holding ``x``": a heap of positions per value,
    entries checked lazily (a rescaled element never gets its old value back: x * 0.5 or x * 1.5 != x for
    x != 0). Zeros need no walk: the reference turns a zero into 0.0, which changes no sum and equals no
    non-zero value.
    """
    s = list(vals)
    held: dict[float, list[int]] = {}  # value -> heap of walked positions that held it when pushed
    for k, x in enumerate(s):
        j = k
        h = held.get(x)
        if h:
            while h and s[h[0]] != x:
                heapq.heappop(h)
            if h:
                j = h[0]
        wj = idx[j]
        if j != k or wj == bi:
            heapq.heappush(held.setdefault(x, []), k)  # k keeps x (an earlier element, or none, changes)
        if wj == bi:
            continue
        nv = x * 0.5 if wj < bi else x * 1.5
        s[j] = nv
        heapq.heappush(held.setdefault(nv, []), j)
    return s


_NEGATE = frozenset(NEGATE)


def _negated(word_lower: str) -> bool:
    """``vaderSentiment.negated([w])`` for one already lower-cased word."""
    return word_lower in _NEGATE or "n't" in word_lower


@lru_cache(maxsize=1)
def analyzer() -> FastVader:
    """The process-wide analyzer (the lexicon is read once from the installed ``vaderSentiment`` wheel)."""
    return FastVader()


def sentences_for_sentiment(prose: str) -> list[str]:
    """Sentence-ish units: split after . ! ? and at line breaks; units without a word character are dropped."""
    return [s for s in _SENTENCES.split(prose) if s and _WORDISH.search(s)]


def positivity(prose: str) -> float:
    """Mean VADER compound over the sentences of ``prose`` (0.0 when there are none)."""
    sents = sentences_for_sentiment(prose)
    if not sents:
        return 0.0
    if len(sents) > MAX_SENTENCES:  # a huge text: an evenly spaced, deterministic sample of its sentences
        step = len(sents) / MAX_SENTENCES
        sents = [sents[int(i * step)] for i in range(MAX_SENTENCES)]
    memo = _MEMO
    total = 0.0
    for s in sents:
        v = memo.get(s)
        if v is None:
            v = sentence_compound(s)
            if len(memo) >= MEMO_SENTENCES:
                memo.clear()
            memo[s] = v
        total += v
    return total / len(sents)


#: VADER scores of sentences already seen in this process (a quarter of the sentences of real answers
#: repeat: list labels, headings, "I hope this helps!"); the score is a function of the sentence alone
_MEMO: dict[str, float] = {}
MEMO_SENTENCES = 100_000


def sentence_compound(s: str) -> float:
    """VADER's compound of one sentence unit, 0.0 without even looking at the rules when no token can be a
    lexicon word."""
    vader = analyzer()
    if s.isascii():
        # VADER looks words up as whitespace tokens, stripped of punctuation unless that leaves <= 2
        # characters: when neither form of any token is a lexicon word (C-level checks, ASCII lower()
        # keeps lengths), every sentiment is 0 and the compound is exactly 0.0
        lexicon = vader.lexicon.keys()
        toks = s.lower().split()
        if lexicon.isdisjoint(toks) and lexicon.isdisjoint(map(str.strip, toks, repeat(_PUNCT))):
            return 0.0
        text = s.strip()
    else:  # (an emoji's description may hold lexicon words)
        text = vader._replace_emojis(s)
    words = senti_words(text)
    return vader.compound_of(text, words, " ".join(words).lower().split())


def count_exclamations(prose: str) -> int:
    """Exclamation marks (ASCII and full-width), not counting ``!=`` or markdown images ``![``."""
    if "!" not in prose and "\uff01" not in prose:
        return 0
    return len(_EXCLAIM.findall(prose))


def tone_features(prose: str, n_words: int | None = None, english: bool = True) -> dict[str, Any]:
    """``exclamations`` (per 100 words) and ``positivity`` (NaN unless ``english``: VADER's lexicon is
    English, and prose in another script would score as neutral)."""
    if n_words is None:
        from .verbosity import prose_words

        n_words = len(prose_words(prose))
    excl = count_exclamations(prose)
    return {
        "exclamations": 100.0 * excl / n_words if n_words else 0.0,
        "positivity": positivity(prose) if english else math.nan,
    }
