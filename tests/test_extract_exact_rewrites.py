"""Faster rewrites of reference code return exactly what the reference returns (property tests).

Each rewrite removed a super-linear path; the reference is kept here, not in the package, as the oracle.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from stylebias.extract.tone import but_check
from stylebias.extract.verbosity import _WORD_TOKEN, textstat_sentences
from tests._fuzz import examples

# values that collide after VADER's x 0.5 / x 1.5 rescaling (the reference's list.index quirk), and zeros
VALUES = [0, 0.0, 1.9, 0.95, 2.85, 4.275, -1.5, -0.75, -2.25, 3.0, 1.5, 0.5, 0.25, 0.75]


@settings(max_examples=examples(400), deadline=None)
@given(
    s=st.lists(st.sampled_from(VALUES) | st.floats(-4, 4, allow_nan=False), min_size=1, max_size=30),
    data=st.data(),
)
def test_but_check_equals_vader(s: list[float], data: st.DataObject) -> None:
    bi = data.draw(st.integers(0, len(s) - 1))
    words = ["w"] * len(s)
    words[bi] = "but"
    ref = SentimentIntensityAnalyzer._but_check(words, list(s))
    got = but_check(list(s), bi)
    assert [float(x) for x in got] == [float(x) for x in ref]
    assert float(sum(got)) == float(sum(ref))


def test_but_check_is_not_quadratic_on_long_sentences() -> None:
    """10,000 equal values: the reference does 10,000 ``list.index`` scans (O(n^2)); the rewrite stays exact."""
    s = [1.9, 0, 0.95] * 3000 + [0] + [1.9] * 1000
    bi = 9000
    words = ["w"] * len(s)
    words[bi] = "but"
    assert but_check(list(s), bi) == SentimentIntensityAnalyzer._but_check(words, list(s))


_OLD_WORD_TOKEN = re.compile(r"[^\s\w]*\w\S*")  # unanchored: quadratic on a long token without a word char


@settings(max_examples=examples(300), deadline=None)
@given(
    st.lists(st.sampled_from(list("ab1_ -'.!?\t\n\u00a0\u3000é*") + ["--", "x'"]), max_size=60).map("".join)
)
def test_word_token_count_equals_the_unanchored_regex(text: str) -> None:
    assert len(_WORD_TOKEN.findall(text)) == len(_OLD_WORD_TOKEN.findall(text))


def test_textstat_sentences_on_a_word_and_a_long_punctuation_run() -> None:
    # one regex sentence "x " + dashes holding one word: ignored (<= 2 words), so the count is the floor, 1
    assert textstat_sentences("x " + "-" * 50_000) == 1
    assert textstat_sentences("One two three. " + "-" * 50_000 + " four five six.") == 2
