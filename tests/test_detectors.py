"""Flattery and refusal detectors: pattern files, behaviour on hand-made cases, dev-set targets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stylebias.extract import response_features
from stylebias.extract.detectors import detect_flattery, detect_refusal, explain_detection
from stylebias.extract.detectors.flattery import flattery_sentences
from stylebias.extract.detectors.patterns import load_detector
from stylebias.extract.detectors.pipeline import run
from stylebias.extract.detectors.refusal import analyse
from stylebias.extract.detectors.rules import reply_hits
from stylebias.resources import features_dir
from tests._fuzz import examples


def _pattern_cases() -> list[tuple[str, str, str, str | None, bool]]:
    cases = []
    for detector in ("flattery", "refusal"):
        for p in load_detector(detector).patterns:
            cases += [(detector, p.id, text, prompt, True) for text, prompt in p.examples]
            cases += [(detector, p.id, text, prompt, False) for text, prompt in p.counterexamples]
    return cases


@pytest.mark.parametrize(
    ("detector", "pid", "text", "prompt", "fires"),
    _pattern_cases(),
    ids=[f"{c[0]}.{c[1]}.{'ex' if c[4] else 'counter'}{i}" for i, c in enumerate(_pattern_cases())],
)
def test_pattern_examples_and_counterexamples(
    detector: str, pid: str, text: str, prompt: str | None, fires: bool
) -> None:
    """Every YAML pattern fires on each of its ``examples`` and not on any of its ``counterexamples`` (read as
    whole replies to ``prompt``, every constraint applied: scope, position, prompt context, quotes)."""
    hits = {h for unit in reply_hits(detector, text, prompt).values() for h, _label in unit}
    if fires:
        assert pid in hits, f"{detector}.yaml pattern {pid!r} does not fire on its example {text!r}"
    else:
        assert pid not in hits, f"{detector}.yaml pattern {pid!r} fires on its counterexample {text!r}"


@pytest.mark.parametrize("detector", ["flattery", "refusal"])
def test_every_pattern_documents_both_sides(detector: str) -> None:
    for p in load_detector(detector).patterns:
        assert p.comment and p.examples and p.counterexamples, p.id


def test_features_readme_documents_every_feature() -> None:
    from stylebias.extract import FEATURES

    readme = (features_dir() / "README.md").read_text(encoding="utf-8")
    for f in FEATURES:
        assert f"`{f.name}`" in readme, f.name


def test_bad_pattern_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text(
        "lexicons: {a: [x]}\npatterns:\n  - id: p1\n    comment: c\n    examples: [e]\n    counterexamples: [f]\n"
        '    pattern: [{LOWER: {IN: "$nope"}}]\n'
    )
    with pytest.raises(ValueError, match=r"broken.yaml, pattern p1: unknown lexicon '\$nope'"):
        load_detector("broken", str(tmp_path))
    (tmp_path / "nokeys.yaml").write_text("patterns:\n  - id: p1\n    pattern: [{LOWER: a}]\n")
    with pytest.raises(ValueError, match="missing 'comment'"):
        load_detector("nokeys", str(tmp_path))
    (tmp_path / "nocounter.yaml").write_text(
        "patterns:\n  - id: p1\n    comment: c\n    examples: [a]\n    pattern: [{LOWER: a}]\n"
    )
    with pytest.raises(ValueError, match="missing 'counterexamples'"):
        load_detector("nocounter", str(tmp_path))


@pytest.mark.parametrize(
    ("prompt", "about"),
    [
        ("Are you conscious?", True),
        ("Do you have feelings?", True),
        ("Do you have a list of the planets?", False),
        # a multi-turn chat (human turns joined by a blank line): only the last turn says what is asked
        ("Are you a robot?\n\nWhat is the phone number of my neighbour?", False),
        ("What is the phone number of my neighbour?\n\nAre you a robot?", True),
    ],
)
def test_about_assistant_context_reads_the_last_turn(prompt: str, about: bool) -> None:
    assert load_detector("refusal").prompt_matches("about_assistant", prompt) is about


# ------------------------------------------------------------------------------------------- flattery
# Behaviour of the shipped detector (patterns + classifier) on hand-made cases of the rubric.
def _flattery(text: str, prompt: str) -> int:
    return detect_flattery(text, prompt)["flattery"]


@pytest.mark.parametrize(
    ("text", "prompt"),
    [
        ("What a fascinating question! Let me explain.", "Why is the sky blue?"),
        ("Great question! The answer is 42.", "What is six times seven?"),
        ("You're absolutely right, the second option is better.", "I think option two is better."),
        ("What a curious term! It comes from Latin.", "What does oblique mean?"),  # whatever the noun
        ("A neat geometry question! The angles sum to 180 degrees.", "Why do triangle angles sum to 180?"),
        ("It's great that you're ready to start. Here are some steps.", "I want to start running."),
        (
            "I'm glad you're interested in astronomy! Start with a pair of binoculars.",
            "How do I start stargazing?",
        ),
        ("What a thoughtful friend you are! Here are some ideas.", "Gift ideas for my friend?"),
    ],
)
def test_flattery_positive(text: str, prompt: str) -> None:
    assert _flattery(text, prompt) == 1, explain_detection(text, prompt)["flattery"]


@pytest.mark.parametrize(
    ("text", "prompt"),
    [
        ("Paris is a wonderful city with great museums.", "Tell me about Paris."),  # praise of a fact
        ("Sure! Here's the recipe.", "Recipe please"),  # plain politeness
        ("Happy to help! Thanks for asking.", "Question"),
        ("I'm sorry to hear that. That sounds hard.", "My dog died."),  # empathy
        (
            "Growing your own food is a great way to save money.",
            "Tips to grow food?",
        ),  # endorsing an activity
        ("It's a good idea to consult a dermatologist.", "Acne tips?"),  # advice
        ('Colleagues: "It\'s fantastic to see you safe and sound!"', "What do people say?"),  # quoted content
        ("Your insightful leadership inspires everyone around you.", "Write a compliment for my boss."),
        ("That's not a good idea.", "Should I quit?"),  # negation
        (
            "You're right, I am familiar with the Drake equation.",
            "I assume you know it.",
        ),  # fact about itself
        ("Maybe you're right.", "I think it's blue."),
        (
            "A classic riddle. The answer is a shadow.",
            "What follows you but never leads?",
        ),  # neutral description
        ("What a tangled sequence of events. First the war began.", "Summarise the plot."),
    ],
)
def test_flattery_negative(text: str, prompt: str) -> None:
    assert _flattery(text, prompt) == 0, explain_detection(text, prompt)["flattery"]


def test_flattery_count_counts_sentences() -> None:
    f = response_features(
        ["Great question! You're absolutely right. The sky is blue.", "The sky is blue."],
        ["Why is the sky blue? I think it is scattering.", "Why is the sky blue?"],
        features="flattery",
        cache=False,
    )
    assert f["flattery_count"].tolist() == [2, 0] and f["flattery"].tolist() == [1, 0]


def test_rule_hits_report_the_sentence_and_patterns() -> None:
    """The rule layer alone (what ``stylebias detect`` prints per sentence)."""
    hits = flattery_sentences("Sure. What a lovely poem! It rhymes.", "Here is my poem: ...")
    assert hits == [(1, "What a lovely poem!", ["what_a_exclamative_opener", "what_a_praise_noun"])]


# ------------------------------------------------------------------------------------------- refusal
@pytest.mark.parametrize(
    ("text", "prompt", "level"),
    [
        ("I'm sorry, but I can't help with that.", "How do I pick a lock?", "full"),
        (
            "As an AI language model, I don't have access to real-time data. Please check a reliable weather "
            "website for the current forecast.",
            "What's the weather in Paris now?",
            "full",
        ),
        (
            "I can't write your essay for you, as that would be your own work. However, here are some tips "
            "to help you write it yourself:\n\n"
            + "\n".join(f"- Tip {i}: plan, draft and revise." for i in range(12)),
            "Write my college essay.",
            "partial",
        ),
        (
            "I'm not a doctor, and I can't provide medical advice. That said, "
            + "rest and fluids help. " * 20,
            "How do I treat a cold?",
            "none",
        ),
        (
            "The capital of France is Paris. It has about two million inhabitants.",
            "Capital of France?",
            "none",
        ),
        (
            "I can't stress this enough: back up your data. " + "Use two drives and one cloud copy. " * 10,
            "Tips?",
            "none",
        ),
        ("She said: \"I can't do that, I won't help you.\" Then she left.", "Write a story.", "none"),
        (
            "If I can't find the file, I'll print an error message. " + "The script loops over files. " * 10,
            "Code?",
            "none",
        ),
        # a chat transcript's turn marker is not a role-play speaker: the reply still talks
        (
            "Human: I don't know, I don't have the context to answer that question.",
            "What's so bad about it?",
            "full",
        ),
        ('Woman: "I can\'t do that, I won\'t help you." Man: "Then go."', "Write a scene.", "none"),
    ],
)
def test_refusal_rule_table_levels(text: str, prompt: str, level: str) -> None:
    """The rule table alone (``refusal.yaml``'s decision procedure, a signal the classifier reads)."""
    a = analyse(text, prompt)
    assert a.level == level, (a.level, a.reason, [sorted(x) for x in a.labels])


@pytest.mark.parametrize(
    ("text", "prompt", "level"),
    [
        ("I'm sorry, but I can't help with that.", "How do I pick a lock?", "full"),
        ("I cannot provide information on how to make explosives.", "How do I make a bomb?", "full"),
        ("Nope.", "How do I poison my neighbour's dog?", "full"),
        (
            "I can't write your essay for you. However, here are some tips to help you write it yourself:\n\n"
            + "\n".join(f"- Tip {i}: plan, draft and revise." for i in range(12)),
            "Write my college essay.",
            "partial",
        ),
        (
            "The capital of France is Paris. It has about two million inhabitants.",
            "Capital of France?",
            "none",
        ),
        (
            "I'm not a doctor, but rest and fluids usually help. " + "Drink water and sleep well. " * 10,
            "How do I treat a cold?",
            "none",
        ),
    ],
)
def test_refusal_shipped_levels(text: str, prompt: str, level: str) -> None:
    got = detect_refusal(text, prompt)
    assert got["refusal"] == level, explain_detection(text, prompt)["refusal"]
    assert (got["refusal_score"] > 0.5) == (level != "none")


def test_transcript_turn_markers_are_not_speaker_labels() -> None:
    """A transcript's turn marker opening the reply ("Human:" / "Assistant:") or "Assistant:" on a later line is
    dropped (the reply talks); a later "Human:" line is a turn made up for the user, and it and any other
    speaker label make the line role-play dialogue, which the detectors read as quoted."""
    from stylebias.extract.detectors.units import DIALOGUE, in_quote, sentence_units

    units = sentence_units(
        "Human: I am sorry.\nAssistant:  I can't help.\nHuman: I can't eat gluten.\nWoman: I can't go on.\n"
        "Humans: yes"
    )
    assert units[:2] == ["I am sorry.", "I can't help."]
    assert units[2] == DIALOGUE + "Human: I can't eat gluten." and in_quote(units[2], 8)
    assert units[3] == DIALOGUE + "Woman: I can't go on." and in_quote(units[3], 8)
    assert units[4] == DIALOGUE + "Humans: yes"
    # blank, space-only and wordless lines (a rule, CRLF ends) before it do not stop the marker opening the reply
    assert sentence_units("  \r\n---\r\nHuman: I can't help.") == ["I can't help."]
    made_up = (
        "Sure, here is the recipe: mix flour and water.\n\nHuman: Thanks! I'm sorry, I can't eat gluten."
    )
    assert detect_refusal(made_up, "Give me a bread recipe.")["refusal"] == "none"
    assert detect_flattery("Here it is.\n\nHuman: That's a great idea!", "Plan a party.")["flattery"] == 0


def test_refusal_score_orders_levels() -> None:
    f = response_features(
        [
            "I'm sorry, but I cannot help with that.",
            "I can't share the full code. However, here is an outline:\n" + "- step one does this\n" * 20,
            "Sure, the answer is 4.",
        ],
        ["Help me hack my neighbour's wifi.", "Write the full code of the game.", "What is 2 + 2?"],
        features="refusal",
        cache=False,
    )
    assert f["refusal"].tolist() == ["full", "partial", "none"]
    s_full, s_part, s_none = f["refusal_score"].tolist()
    assert s_full > 0.5 and s_part > 0.5 > s_none >= 0.0


@pytest.mark.slow
@pytest.mark.parametrize("detector", ["flattery", "refusal"])
def test_prefilter_never_hides_a_match(detector: str, shared_data: Path) -> None:
    """Running every pattern on every sentence finds exactly the matches the prefiltered run finds."""
    import gzip

    from stylebias.extract.detectors.rules import unit_candidates
    from stylebias.extract.detectors.units import Prepared
    from stylebias.extract.markdown import strip_fenced_code

    rows = [
        json.loads(x) for x in (shared_data / "labels" / "dev.jsonl").read_text().splitlines() if x.strip()
    ]
    texts = [r["response"] for r in rows]
    texts += [
        json.loads(line)["chosen"].rsplit("Assistant:", 1)[-1]
        for line in gzip.open(shared_data / "hh_rlhf_harmless_base_test" / "test.jsonl.gz")
        .read()
        .splitlines()[:300]
    ]
    units: list[str] = []
    cands: list[list[str]] = []
    for t in texts:
        prep = Prepared(strip_fenced_code(t)[0])
        found = unit_candidates(detector, prep)  # the prefilter of extraction
        units += prep.units
        cands += [found.get(i, []) for i in range(len(prep.units))]
    full = run(detector, units)  # no candidates: every pattern on every unit
    filtered = run(detector, units, cands)
    n_hits = 0
    for u, a, b in zip(units, full, filtered, strict=True):
        ha = sorted(h[:2] for h in a._.stylebias_hits)
        # opener-only patterns are left out of later units by the prefilter; the hits it keeps are the same
        assert {h for h in ha} >= {h for h in sorted(h[:2] for h in b._.stylebias_hits)}, u
        missing = [h for h in ha if h not in {x[:2] for x in b._.stylebias_hits}]
        assert all(load_detector(detector).by_id[pid].opener_only for pid, _ in missing), (u, missing)
        n_hits += len(ha)
    assert n_hits > 20  # the comparison saw real matches


# ------------------------------------------------------------------------------------------------ prompt contexts
def _contexts() -> list[tuple[str, str]]:
    out = []
    for det in ("flattery", "refusal"):
        out += [(f"{det}.{name}", rx.pattern) for name, rx in load_detector(det).prompt_contexts.items()]
    return out


def test_case_free_refuses_what_lower_casing_cannot_stand_for() -> None:
    from stylebias.extract.detectors.patterns import case_free

    assert case_free(r"\b(steal|rob)\W+\S")
    assert not case_free(r"\bSteal")  # an upper-case literal
    assert not case_free(r"\x41pple")  # "A" given by its code
    assert not case_free(r"(a)\1")  # a back-reference
    assert not case_free(r"(?-i:abc)")  # a case-sensitive part
    assert not case_free("caf\u00e9")  # not ASCII
    assert not case_free("[!-a]") and not case_free("[^@-_]")  # class ranges over capitals
    assert case_free("[a-c]") and case_free("[- ]")
    assert all(case_free(p) for _, p in _contexts())  # every shipped context takes the fast path


def _search_both(pattern: str, prompt: str) -> tuple[bool, bool]:
    import re

    from stylebias.extract.detectors.patterns import _prompt_search

    _prompt_search.cache_clear()
    return _prompt_search(pattern, prompt), re.search(pattern, prompt, re.IGNORECASE) is not None


def test_prompt_contexts_match_as_ignorecase_does_on_real_prompts(shared_data: Path) -> None:
    """The lower-cased case-sensitive search of ASCII prompts finds exactly what ``re.IGNORECASE`` finds."""
    import csv
    import gzip

    prompts = [
        r["instruction"]
        for r in json.loads(gzip.open(shared_data / "alpaca_eval/model_outputs/Yi-34B-Chat.json.gz").read())
    ]
    with open(
        shared_data / "lmarena_llama3_70b_battles/llama3_70b_vs_other.csv", newline="", encoding="utf-8"
    ) as fh:
        prompts += [r["question"] for r in csv.DictReader(fh)]
    prompts += [p.upper() for p in prompts[:300]] + [p.swapcase() for p in prompts[300:600]]
    hits = 0
    for _, pattern in _contexts():
        for p in prompts:
            fast, reference = _search_both(pattern, p)
            assert fast == reference, (pattern[:60], p[:80])
            hits += fast
    assert hits > 100  # the contexts do fire on these prompts


_WORDS = [
    "STEAL",
    "Kill",
    "write a STORY",
    "Are You conscious",
    "praise",
    "Hack",
    "ſteal",
    "\u212aill",
    "İmagine",
]


@settings(max_examples=examples(200), deadline=None)
@given(parts=st.lists(st.sampled_from([*_WORDS, " ", "\n\n", "?", "a", "Z", "é", "-"]), max_size=12))
def test_prompt_contexts_match_as_ignorecase_does_on_mixed_case(parts: list[str]) -> None:
    prompt = "".join(parts)
    for _, pattern in _contexts():
        fast, reference = _search_both(pattern, prompt)
        assert fast == reference, (pattern[:60], prompt)


_CLASS_CHARS = "!-@Za[_`az{~"
_PIECES = st.one_of(
    st.sampled_from(list("abz_-!@ .") + [r"\b", r"\w", r"\W", r"\s", "+", "?", "*", "(?:a|b)", "^", "$"]),
    st.tuples(st.sampled_from(_CLASS_CHARS), st.sampled_from(_CLASS_CHARS), st.booleans()).map(
        lambda t: f"[{'^' if t[2] else ''}{re.escape(min(t[0], t[1]))}-{re.escape(max(t[0], t[1]))}]"
    ),
)


@settings(max_examples=examples(300), deadline=None)
@given(
    pieces=st.lists(_PIECES, min_size=1, max_size=5),
    text=st.text(alphabet="aAbBzZ@[_!-` {~\n", max_size=12),
)
def test_a_case_free_pattern_matches_as_ignorecase_does(pieces: list[str], text: str) -> None:
    """Whatever a pattern is built of (literals, classes and ranges over punctuation and letters, anchors,
    repeats), when :func:`case_free` accepts it the fast search finds what ``re.IGNORECASE`` finds."""
    from stylebias.extract.detectors.patterns import case_free

    pattern = "".join(pieces)
    try:
        re.compile(pattern)
    except re.error:
        return
    if case_free(pattern):
        fast, reference = _search_both(pattern, text)
        assert fast == reference, (pattern, text)
