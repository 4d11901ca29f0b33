"""Robustness: feature extraction never crashes on hostile text, counts stay non-negative and finite.

Strategies mix arbitrary Unicode (lone surrogates included: a Python ``str`` can hold one even though no
loader produces it, since JSON ``"\\ud800"`` escapes decode to it) with the characters the regexes care about
(markdown markers, brackets, whitespace runs) and with emoji ZWJ sequences, skin tones, flags, RTL text
with bidi controls, CJK and combining marks. Deep nesting and 1 MB texts are fixed cases (hypothesis would
shrink them away). Run with ``HYPOTHESIS_PROFILE=fuzz`` for the large case counts in docs/robustness.md.
"""

from __future__ import annotations

import math
import random
import re
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stylebias.errors import StyleBiasWarning
from stylebias.extract import FEATURE_SETS, extract_one, pair_features, response_features
from stylebias.extract.markdown import count_links, md_link_spans
from stylebias.extract.registry import ENGLISH_FEATURES
from stylebias.extract.scripts import ENGLISH_SCRIPTS, SCRIPTS
from stylebias.extract.tokens import _LONG_RUN, _MAX_RUN, count_tokens
from tests._batch import assert_batch_equals_alone
from tests._fuzz import examples

FULL = [*FEATURE_SETS["full"], "script"]
SCORES = {"flesch_reading_ease", "grade_level", "positivity"}  # may be negative by definition

PIECES = [
    "👨\u200d👩\u200d👧\u200d👦",  # ZWJ family
    "👍🏽",  # skin tone
    "🇺🇸🇯🇵",  # flags (regional indicators)
    "🏳️\u200d🌈",
    "\u202eمرحبا بالعالم\u202c",  # RTL override
    "שלום \u200f\u2067עולם\u2069",
    "你好，世界。这是测试！",
    "e\u0301\u0302\u0303",  # combining marks
    "\x00",
    "\x1b[31m",
    "\ud800",
    "\udfff",
    "\ufeff",
    "\u2028",
    "**",
    "__",
    "*",
    "_",
    "#",
    "# ",
    "```",
    "~~~",
    "`",
    "|",
    "|---|",
    "[",
    "](",
    ")",
    "<",
    ">",
    "- ",
    "1. ",
    "> ",
    "\n",
    "\n\n",
    "   ",
    "\t",
    "!",
    "?",
    ".",
    "http://x.y/z",
    "I cannot help with that. ",
    "Great question! ",
    "You're absolutely right. ",
    "word ",
]
hostile_text = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(PIECES) | st.text(max_size=5), max_size=80).map("".join),
)


def check_values(row: dict, names: list[str]) -> None:
    """Counts finite and non-negative; the English measures NaN (refusal "n/a") exactly when the script says
    they do not apply."""
    assert list(row) == names
    assert row["script"] in SCRIPTS
    english = row["script"] in ENGLISH_SCRIPTS
    for name, v in row.items():
        if name == "script":
            continue
        if name == "refusal":
            assert v in (("none", "partial", "full") if english else ("n/a",)), (name, v, row["script"])
            continue
        if name in ENGLISH_FEATURES and not english:
            assert math.isnan(v), (name, v, row["script"])
            continue
        assert isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool), (name, v)
        assert math.isfinite(v), (name, v)
        if name not in SCORES:
            assert v >= 0, (name, v)
        if name in ("flattery",):
            assert v in (0, 1)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=hostile_text, prompt=st.none() | hostile_text)
def test_extract_one_never_crashes_and_counts_are_finite_non_negative(text: str, prompt: str | None) -> None:
    check_values(extract_one(text, prompt, FULL), FULL)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(hostile_text, st.none() | hostile_text), min_size=2, max_size=6))
def test_a_hostile_batch_gives_each_row_its_own_values(rows: list[tuple[str, str | None]]) -> None:
    """Extraction runs stage by stage over a batch: whatever sits beside a response (other scripts, lone
    surrogates, empty text), it gets exactly the values it gets alone."""
    assert_batch_equals_alone([t for t, _ in rows], [p for _, p in rows], FULL)


@settings(max_examples=examples(100), deadline=None)
@given(text=st.lists(st.sampled_from(list('[]()<>! "\t\nab:/')), max_size=60).map("".join))
def test_linear_link_scanner_equals_the_regex(text: str) -> None:
    """The linear scanner returns exactly the spans of the regex it replaces (which is quadratic on ``[a](``)."""
    reference = re.compile(
        r"!?\[[^\]\n]{0,500}\]\([ \t]*<?[^)\s>]{1,2000}>?(?:[ \t]+\"[^\"\n]{0,500}\")?[ \t]*\)"
    )
    assert md_link_spans(text) == [m.span() for m in reference.finditer(text)]


def test_link_scanner_at_the_length_limits() -> None:
    rng = random.Random(7)
    reference = re.compile(
        r"!?\[[^\]\n]{0,500}\]\([ \t]*<?[^)\s>]{1,2000}>?(?:[ \t]+\"[^\"\n]{0,500}\")?[ \t]*\)"
    )
    tokens = ["[", "]", "(", ")", "<", ">", " ", "\n", "!", '"', "x"]
    tokens += ["a" * n for n in (499, 500, 501, 1999, 2000, 2001)]
    for _ in range(400):
        text = "".join(rng.choice(tokens) for _ in range(rng.randint(1, 16)))
        assert md_link_spans(text) == [m.span() for m in reference.finditer(text)], text[:200]


def test_long_run_search_is_anchored_but_finds_the_same_runs() -> None:
    unanchored = re.compile(r"\S{" + str(_MAX_RUN + 1) + r",}|\s{" + str(_MAX_RUN + 1) + ",}")
    text = "a" * 2500 + " " * 10 + "b" * 2001 + "\n" * 3000 + "c" * 2000 + " " * 2001 + "d"
    assert [m.span() for m in _LONG_RUN.finditer(text)] == [m.span() for m in unanchored.finditer(text)]


def nested(depth: int) -> dict[str, str]:
    return {
        "list": "".join("  " * i + "- item\n" for i in range(depth)),
        "ordered": "".join("   " * i + "1. item\n" for i in range(depth)),
        "quote": "".join(">" * i + " q\n" for i in range(depth)),
        "quote_one_line": ">" * depth + " q",
        "brackets": "[" * depth + "x" + "]" * depth,
        "emphasis": "*" * depth + "x" + "*" * depth,
    }


@pytest.mark.parametrize("kind", sorted(nested(1)))
def test_thousand_level_nesting(kind: str) -> None:
    row = extract_one(nested(1000)[kind], None, FULL)
    check_values(row, FULL)


MB = 1 << 20
PATHOLOGICAL = ["*", "_", "#", "`", "|", "[a](", "*_`|#[](", "**a", "```\n", "|-|\n", "👍🏽", "\ud800", "a."]


@pytest.mark.slow
@pytest.mark.parametrize("unit", PATHOLOGICAL)
def test_one_megabyte_pathological_texts_are_bounded(unit: str) -> None:
    """Generous bound only (the < 1 s figures come from bench/robustness.py): quadratic cases took 15-30 s."""
    text = (unit * (MB // len(unit) + 1))[:MB]
    extract_one("warm up", None, FULL)
    t0 = time.perf_counter()
    row = extract_one(text, None, FULL)
    assert time.perf_counter() - t0 < 8
    check_values(row, FULL)


def test_links_on_hostile_runs_are_counted() -> None:
    assert count_links("[a](b)" * 1000) == 1000
    assert count_links("[a](" * 10_000) == 0
    assert count_links('![i](<u>) http://x [t](u "title")') == 3
    assert count_tokens("  " * 1500 + "- x") > 0


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=hostile_text, b=hostile_text)
def test_pair_features_of_hostile_battles_are_finite_and_antisymmetric(a: str, b: str) -> None:
    import pandas as pd

    # object dtype: pandas' Arrow strings refuse lone surrogates (validate_battles rejects such rows)
    df = pd.DataFrame({"response_a": [a, b], "response_b": [b, a], "prompt": ["p", "p"]}, dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StyleBiasWarning)  # English measures of hostile non-Latin text
        pf = pair_features(df, features="full", cache=False)
    vals = pf.to_numpy(dtype=float)
    assert (~pd.isna(vals)).all() and (abs(vals) < float("inf")).all()
    assert (vals[0] == -vals[1]).all()


def test_response_features_batch_with_nul_and_surrogates() -> None:
    texts = ["\x00" * 10, "\ud800 ok", "", "\u202e" * 5, "👨\u200d👩\u200d👧" * 3]
    df = response_features(texts, features=FULL, cache=False)
    assert len(df) == len(texts)
    for i in range(len(texts)):
        check_values({n: df[n].iloc[i] for n in FULL}, FULL)
    assert df["emoji_count"].iloc[4] == 3


EMOJI_PIECES = [
    "👍",
    "🏽",
    "🇺",
    "🇸",
    "👨\u200d👩\u200d👧",
    "\u200d",
    "\ufe0f",
    "©",
    "1\ufe0f\u20e3",
    "★",
    "a",
    " ",
]
EMOJI_PIECES += ["\n", "😊", "🏳️\u200d🌈", "e\u0301", "\ud800", "☺", "☺\ufe0f", "x" * 30, "🏻", "\U000e0067"]


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(st.sampled_from(EMOJI_PIECES), min_size=1, max_size=150).map("".join))
def test_vectorised_emoji_fallback_equals_the_cluster_loop(text: str) -> None:
    from stylebias.extract.emojis import _CANDIDATE, _count_clusters, _count_clusters_bulk

    starts = [m.start() for m in _CANDIDATE.finditer(text)]
    if starts:
        assert _count_clusters_bulk(text) == _count_clusters(text, starts)
