"""Faster rewrites of reference code return exactly what the reference returns (property tests).

Each rewrite removed a super-linear path; the reference is kept here, not in the package, as the oracle.
"""

from __future__ import annotations

import functools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from stylebias.extract.tone import but_check
from stylebias.extract.verbosity import count_sentences, textstat_sentences, textstat_words
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


# ------------------------------------------------------------------------------------------- words, sentences
_TS_SENTENCE = re.compile(r"\b[^.!?]+[.!?]*")
_TEXT_LINE = re.compile(r"^[^\n]*[^\W_][^\n]*$", re.MULTILINE)
# the sentence rule as a per-line restatement: a mark run led by . ! ? (or ؟ ۔ । ॥) ends a sentence before
# space or the end of the line, one led by a full-width 。！？｡ wherever it stands
_MARKS = "[.!?\u061f\u06d4\u0964\u0965\u3002\uff01\uff1f\uff61]"
_CLOSERS = "[\"'\u201d\u2019)\\]\u300d\u300f\u3011\uff09]"
_SENT_END_OLD = re.compile(
    "[.!?\u061f\u06d4\u0964\u0965]" + _MARKS + "*" + _CLOSERS + "*(?=\\s|$)"
    "|[\u3002\uff01\uff1f\uff61]" + _MARKS + "*" + _CLOSERS + "*"
)
_ENDS_OLD = re.compile(_MARKS + "+" + _CLOSERS + "*$")


def _reference_words(text: str) -> list[str]:
    text = re.sub(r"\'(?![tsd]|ve|ll|re)", "", text)
    return re.sub(r"[^\w\s\']", "", text).split()


def _reference_textstat_sentences(text: str) -> int:
    if not text:
        return 0
    sents = _TS_SENTENCE.findall(text)
    return max(1, len(sents) - sum(1 for s in sents if len(_reference_words(s)) <= 2))


def _reference_count_sentences(prose: str) -> int:
    n = 0
    for m in _TEXT_LINE.finditer(prose):
        s = m.group().strip()
        ends = _SENT_END_OLD.findall(s)
        n += len(ends) + (0 if ends and _ENDS_OLD.search(s) else 1)
    return n


_PROSE_BITS = list("ab1_ -'.!?\t\n\r\u00a0\u3000\u2028\x1c\x85é*)]\"\u201d\u2019\u3002\uff01猫の」؟।") + [
    "--", "x'", "'s", "'ve", "...", "\n\n", "! ", "?)", "e.g.", "don't",
]  # fmt: skip


@settings(max_examples=examples(400), deadline=None)
@given(st.lists(st.sampled_from(_PROSE_BITS), max_size=40).map("".join))
def test_words_and_sentence_counts_equal_the_plain_rules(text: str) -> None:
    assert textstat_words(text) == _reference_words(text)
    assert textstat_sentences(text) == _reference_textstat_sentences(text)
    assert count_sentences(text) == _reference_count_sentences(text)


@pytest.mark.shared
def test_words_and_sentence_counts_equal_the_plain_rules_on_real_answers(shared_data) -> None:
    import gzip
    import json

    rows = json.loads(gzip.open(shared_data / "alpaca_eval/model_outputs/Storm-7B.json.gz").read())
    for r in rows:
        text = r["output"]
        assert textstat_words(text) == _reference_words(text)
        assert textstat_sentences(text) == _reference_textstat_sentences(text)
        assert count_sentences(text) == _reference_count_sentences(text)


def test_textstat_sentences_on_a_word_and_a_long_punctuation_run() -> None:
    # one regex sentence "x " + dashes holding one word: ignored (<= 2 words), so the count is the floor, 1
    assert textstat_sentences("x " + "-" * 50_000) == 1
    assert textstat_sentences("One two three. " + "-" * 50_000 + " four five six.") == 2


# ------------------------------------------------------------------------------------------- VADER
_VADER_PIECES = [
    "good", "GOOD", "bad", "not", "no", "never", "but", "BUT", "very", "kind", "of", "sort", "the", "shit",
    "bomb", "least", "at", "without", "doubt", "so", "this", "or", "nor", "isn't", "great!", "ok", ":)",
    ":-(", "lol", "hate", "love", "😀", "😢", "👍", "❤️", "é", "you're", "!!", "???", "?", "…", "-",
    "ass", "yeah", "right", "kiss", "death", "cut", "mustard", "just", "enough", "to", "die", "for",
    "under", "weather", "in", "red", "hand", "upper", "bus", "stop", "beating", "heart",
]  # fmt: skip


@settings(max_examples=examples(400), deadline=None)
@given(
    st.lists(
        st.sampled_from(_VADER_PIECES) | st.sampled_from([" ", "  ", "\t", ".", ",", "!"]), max_size=40
    ).map(" ".join)
)
def test_fast_vader_compound_equals_vader(text: str) -> None:
    from stylebias.extract.tone import analyzer

    ref = _vader().polarity_scores(text)["compound"]
    assert analyzer().compound(text) == ref


@functools.cache
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def _reference_positivity(prose: str) -> float:
    from stylebias.extract.tone import MAX_SENTENCES

    ref = _vader()
    old_split = re.compile(r"(?<=[.!?\u3002\uff01\uff1f])\s+|\n+")
    sents = [s for s in old_split.split(prose) if s and re.search(r"\w", s)]
    if not sents:
        return 0.0
    if len(sents) > MAX_SENTENCES:
        step = len(sents) / MAX_SENTENCES
        sents = [sents[int(i * step)] for i in range(MAX_SENTENCES)]
    return sum(ref.polarity_scores(s)["compound"] for s in sents) / len(sents)


@settings(max_examples=examples(200), deadline=None)
@given(
    st.lists(st.sampled_from([*_VADER_PIECES, "\n", "\n\n", ". ", "! ", "?\n", "。"]), max_size=60).map(
        " ".join
    )
)
def test_positivity_equals_vader_sentence_mean(prose: str) -> None:
    from stylebias.extract.tone import positivity

    assert positivity(prose) == _reference_positivity(prose)


@settings(max_examples=examples(300), deadline=None)
@given(
    st.lists(
        st.sampled_from(list("ab .!?\n\t\r\u3002\uff01\u00a0") + ["\n\n", ". ", "!\n"]), max_size=30
    ).map("".join)
)
def test_sentence_split_equals_the_lookbehind_regex(text: str) -> None:
    from stylebias.extract.tone import _SENTENCES

    assert _SENTENCES.split(text) == re.split(r"(?<=[.!?\u3002\uff01\uff1f])\s+|\n+", text)


@pytest.mark.shared
def test_positivity_equals_vader_on_real_answers(shared_data) -> None:
    import gzip
    import json

    from stylebias.extract.markdown import strip_fenced_code
    from stylebias.extract.tone import positivity

    rows = json.loads(gzip.open(shared_data / "alpaca_eval/model_outputs/Storm-7B.json.gz").read())
    for r in rows[:150]:
        prose, _ = strip_fenced_code(r["output"])
        assert positivity(prose) == _reference_positivity(prose), r["output"][:200]


# ------------------------------------------------------------------------------------------- syllables
@settings(max_examples=examples(300), deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzé'", min_size=1, max_size=40))
def test_hyphenator_counts_like_pyphen(word: str) -> None:
    import pyphen

    from stylebias.extract.verbosity import _hyphenator

    assert _hyphenator().count(word) == len(pyphen.Pyphen(lang="en_US").positions(word))


@pytest.mark.shared
def test_hyphenator_counts_like_pyphen_on_real_words(shared_data) -> None:
    import gzip
    import json

    import pyphen

    from stylebias.extract.verbosity import _cmu_syllables, _hyphenator, textstat_words

    ref = pyphen.Pyphen(lang="en_US", cache=False)
    rows = json.loads(gzip.open(shared_data / "alpaca_eval/model_outputs/Yi-34B-Chat.json.gz").read())
    cmu = _cmu_syllables()
    words = {w for r in rows for w in " ".join(textstat_words(r["output"])).lower().split() if w not in cmu}
    assert len(words) > 1000
    for w in sorted(words):
        assert _hyphenator().count(w) == len(ref.positions(w)), w


_SYLLABLE_WORDS = [
    "the",
    "cat",
    "a",
    "selfexclusion",
    "omnichannel",
    "386620",
    "zzqx",
    "it's",
    "x" * 61,
    "y" * 90,
]


@settings(max_examples=examples(300), deadline=None)
@given(
    st.lists(
        st.sampled_from(_SYLLABLE_WORDS)
        | st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789'", min_size=1),
        max_size=40,
    )
)
def test_total_syllables_equals_the_per_word_sum_with_and_without_the_memo(words: list[str]) -> None:
    """The merged CMU + hyphenation table gives each word what :func:`word_syllables` (or the long-word rule)
    gives it, whether the memo is empty, warm from this very list, or reset."""
    from stylebias.extract.verbosity import (
        MAX_WORD_CHARS,
        _cmu_syllables,
        _hyphenator,
        clear_syllable_memo,
        total_syllables,
    )

    cmu = _cmu_syllables()

    def plain(w: str) -> int:
        if w in cmu:
            return cmu[w]
        return _hyphenator().count(w) + 1 if len(w) <= MAX_WORD_CHARS else len(w) // 3

    ref = sum(map(plain, words))
    clear_syllable_memo()
    assert total_syllables(words) == ref
    assert total_syllables(words) == ref  # warm
    clear_syllable_memo()
    assert total_syllables(words) == ref


# ------------------------------------------------------------------------------------------- MATTR
def _reference_mattr(tokens: list[str], window: int = 50) -> float:
    n = len(tokens)
    if n == 0:
        return 0.0
    if n <= window:
        return len(set(tokens)) / n
    total = sum(len(set(tokens[s : s + window])) for s in range(n - window + 1))
    return total / ((n - window + 1) * window)


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.sampled_from("a b c d e f g h i j k l m n o p q r s t u v w x y z".split()), max_size=400))
def test_mattr_equals_the_window_definition(tokens: list[str]) -> None:
    from stylebias.extract.verbosity import mattr

    assert mattr(tokens) == _reference_mattr(tokens)


# ------------------------------------------------------------------------------------------- LMArena markdown
def _fastchat_counts(text: str) -> tuple[int, int, int]:
    """FastChat's ``count_markdown_elements`` (add_markdown_info.py) after its code removal, levels summed."""
    from stylebias.extract.markdown import lmarena_strip_code

    body = lmarena_strip_code(text)
    headers = sum(len(re.findall("^#{" + str(k) + r"}\s", body, re.MULTILINE)) for k in range(1, 7))
    lists = len(re.findall(r"^\s*\d+\.\s", body, re.MULTILINE)) + len(
        re.findall(r"^\s*[-*+]\s", body, re.MULTILINE)
    )
    bold = len(re.findall(r"\*\*[^*\n]+\*\*", body)) + len(re.findall(r"__[^_\n]+__", body))
    return headers, lists, bold


_MD_BITS = list("a1\u0663 -*+#.\t\n\r\u00a0\u2028\x1c\x85\x0c_`") + [
    "\n\n", "1. ", "- ", "## ", "```", "**b**", "  ", "#######", "12.", "\n  \n", "__u__",
]  # fmt: skip


@settings(max_examples=examples(500), deadline=None)
@given(st.lists(st.sampled_from(_MD_BITS), max_size=30).map("".join))
def test_lmarena_counts_equal_fastchat_regexes(text: str) -> None:
    from stylebias.extract.markdown import lmarena_counts

    assert lmarena_counts(text) == _fastchat_counts(text)


def _reference_replace_emojis(text: str) -> str:
    """vaderSentiment's ``polarity_scores`` emoji loop."""
    emojis = _vader().emojis
    out, prev_space = "", True
    for ch in text:
        if ch in emojis:
            if not prev_space:
                out += " "
            out += emojis[ch]
            prev_space = False
        else:
            out += ch
            prev_space = ch == " "
    return out.strip()


@settings(max_examples=examples(400), deadline=None)
@given(
    st.lists(
        st.sampled_from(list("ab \t\n\x00.!é") + ["😀", "😢", "👍", "❤", "\ufe0f", "  ", "🇺"]), max_size=20
    ).map("".join)
)
def test_emoji_rewrite_equals_vader(text: str) -> None:
    from stylebias.extract.tone import analyzer

    assert analyzer()._replace_emojis(text) == _reference_replace_emojis(text)


def test_fast_vader_on_every_idiom_and_booster_phrase() -> None:
    from vaderSentiment.vaderSentiment import BOOSTER_DICT, SPECIAL_CASES

    from stylebias.extract.tone import analyzer

    phrases = [k for k in [*SPECIAL_CASES, *BOOSTER_DICT] if " " in k]
    contexts = [
        "{p} good", "good {p}", "it is {p}", "this was {p} great", "not {p} bad", "{p}", "so {p} love it",
        "you are the {p} best", "I like {p}", "VERY {p} GOOD and fine", "no {p} happy", "good but {p} sad",
    ]  # fmt: skip
    for p in phrases:
        for c in contexts:
            s = c.format(p=p)
            assert analyzer().compound(s) == _vader().polarity_scores(s)["compound"], s


# ------------------------------------------------------------------------------------------- emoji
_EMOJI_BITS = [
    "😀", "👍🏽", "🇺", "🇸", "👨\u200d👩\u200d👧", "\u200d", "\ufe0f", "©", "1\ufe0f\u20e3", "#", "a", " ", "ab",
    "\r", "\n", "\r\n", "\u0600", "\u093e", "\u0915", "\u1100\u1161\u11a8", "e\u0301", "\U000e0067", "🏴",
    "☺", "x" * 25, "\ud800", "🏻", "\u20e3",
]  # fmt: skip


@settings(max_examples=examples(400), deadline=None)
@given(st.lists(st.sampled_from(_EMOJI_BITS), min_size=1, max_size=120).map("".join))
def test_emoji_bulk_count_equals_the_cluster_loop(text: str) -> None:
    from stylebias.extract.emojis import _CANDIDATE, _count_clusters, _count_clusters_bulk

    starts = [m.start() for m in _CANDIDATE.finditer(text)]
    if starts:
        assert _count_clusters_bulk(text) == _count_clusters(text, starts)


# ------------------------------------------------------------------------------------------- detector prefilter
#: the prefilter tokenizer as first written: a run of [a-z0-9] that stops before "n't", "n't", "'" + letters
_PREFILTER_TOKEN_PLAIN = re.compile(r"(?:(?!n't\b)[a-z0-9])+|n't\b|'[a-z]+\b")
_TOKEN_BITS = list("abnt0'é_- .\u2063\"") + [
    "n't",
    "n'",
    "'t",
    "nn't",
    "'s",
    "don't",
    "can't",
    "n'tx",
    "'sn't",
]


@settings(max_examples=examples(600), deadline=None)
@given(st.lists(st.sampled_from(_TOKEN_BITS), max_size=30).map("".join))
def test_prefilter_tokens_equal_the_plain_regex(text: str) -> None:
    from stylebias.extract.detectors.patterns import raw_tokens, tokens_of_normalised

    assert tokens_of_normalised(text) == _PREFILTER_TOKEN_PLAIN.findall(text)
    assert raw_tokens(text) == _PREFILTER_TOKEN_PLAIN.findall(text.replace("\u2019", "'"))


@pytest.mark.shared
def test_prefilter_tokens_equal_the_plain_regex_on_real_answers(shared_data) -> None:
    import gzip
    import json

    from stylebias.extract.detectors.patterns import tokens_of_normalised
    from stylebias.extract.detectors.units import Prepared

    rows = json.loads(
        gzip.open(sorted((shared_data / "alpaca_eval" / "model_outputs").glob("*.json.gz"))[0]).read()
    )
    n = 0
    for r in rows[:400]:
        prep = Prepared(r["output"])
        for unit, raw in zip(prep.units, prep.all_raw(), strict=True):
            assert raw == tokens_of_normalised(unit.lower()) == _PREFILTER_TOKEN_PLAIN.findall(unit.lower())
            n += 1
    assert n > 2000


def _reference_candidates(detector: str, prep, labels, exclude) -> dict[int, list[str]]:
    """Every pattern tried on every unit: its fixed words and word pairs present, the sentence start right."""
    from stylebias.extract.detectors.patterns import could_match, load_detector, view_from_raw

    spec = load_detector(detector)
    out = {}
    for i, raw in enumerate(prep.all_raw()):
        view = view_from_raw(raw)
        ids = [
            p.id
            for p in spec.patterns
            if (labels is None or p.label in labels)
            and p.label not in exclude
            and not (p.opener_only and i >= spec.opener_sentences)
            and not (p.sentence_start and p.start_words is not None and view.first not in p.start_words)
            and could_match(p, view)
        ]
        if ids:
            out[i] = ids
    return out


def _pattern_words(detector: str) -> list[str]:
    from stylebias.extract.detectors.patterns import load_detector

    words = {w for p in load_detector(detector).patterns for req in p.required_words for w in req}
    return sorted(words) + ["cannot", "can't", "I'm", "don't", "wow", "the", "x", ".", "!", "?", "\n", "\n- "]


@pytest.mark.parametrize("detector", ["flattery", "refusal"])
@settings(max_examples=examples(300), deadline=None)
@given(data=st.data())
def test_bit_prefilter_equals_trying_every_pattern(detector: str, data: st.DataObject) -> None:
    from stylebias.extract.detectors.refusal import TRIGGER_LABELS
    from stylebias.extract.detectors.rules import unit_candidates
    from stylebias.extract.detectors.units import Prepared

    words = st.sampled_from(_pattern_words(detector))
    text = " ".join(data.draw(st.lists(words, max_size=60)))
    prep = Prepared(text)
    for labels, exclude in ((None, frozenset()), (TRIGGER_LABELS, frozenset()), (None, TRIGGER_LABELS)):
        got = unit_candidates(detector, prep, labels, exclude)
        assert got == _reference_candidates(detector, prep, labels, exclude), text


#: the sentence-unit split as first written: after a sentence mark and closers, before white space, or a newline
_UNIT_SPLIT_PLAIN = re.compile(r"(?<=[.!?\u3002\uff01\uff1f])[\"'\u201d\u2019)\]]*\s+|\n+")
_UNIT_BITS = list("ab .!?\"')]\u201d\u2019\u3002\uff01\t\u00a0\u3000:A") + [
    "e.g. ",
    "?! ",
    ".) ",
    "Dr. Lee: ",
]


@settings(max_examples=examples(600), deadline=None)
@given(st.lists(st.sampled_from(_UNIT_BITS), max_size=30).map("".join))
def test_sentence_split_equals_the_plain_regex(line: str) -> None:
    from stylebias.extract.detectors.units import _SPEAKER, split_sentences

    assert split_sentences(line) == _UNIT_SPLIT_PLAIN.split(line)
    assert (":" in line and _SPEAKER.match(line) is not None) == bool(_SPEAKER.match(line))


_TRAIL_PLAIN = re.compile(r"[\s\"'\u201d\u2019)\]*_]+$")
_LEAD_PLAIN = re.compile(r"^\s*(?:[-*+>\u2022]|\d{1,3}[.)]|#{1,6})\s+")
_EDGE_BITS = list("a? !\"')]*_\u201d\u2019\n\t\u00a0\u3000-+>#1.\u2022") + ["12) ", "## ", "- ", "1234. "]


@settings(max_examples=examples(600), deadline=None)
@given(st.lists(st.sampled_from(_EDGE_BITS), max_size=20).map("".join))
def test_unit_edge_strips_equal_the_plain_regexes(text: str) -> None:
    from stylebias.extract.detectors.signals import strip_trail
    from stylebias.extract.detectors.units import strip_lead

    assert strip_trail(text) == _TRAIL_PLAIN.sub("", text)
    assert strip_lead(text) == _LEAD_PLAIN.sub("", text)
