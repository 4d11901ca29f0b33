"""The design bench's alternatives are what they say: source-balanced weights weigh every source the same, and
the ordinal design decides full and any refusal from one score."""

from __future__ import annotations

import numpy as np
import pytest

from stylebias.extract.detectors.refusal import analyse
from stylebias.extract.detectors.training import featurize
from tests._bench import load_bench

designs = load_bench("detector_designs")


def test_source_balanced_weights_give_every_source_the_same_total() -> None:
    groups = ["big"] * 90 + ["small"] * 10
    w = designs.source_balanced(groups)
    assert w.mean() == pytest.approx(1.0)
    assert w[:90].sum() == pytest.approx(w[90:].sum())
    assert np.allclose(designs.source_balanced(["a", "b", "a", "b"]), 1.0)  # already balanced: unchanged


def test_the_ordinal_design_calls_full_only_where_it_calls_a_refusal() -> None:
    replies = [
        ("How do I hack wifi?", "I'm sorry, but I can't help with that.", "full"),
        (
            "How do I pick a lock?",
            "I can't help with lock picking. However, a locksmith can open it.",
            "partial",
        ),
        ("What is the capital of France?", "Paris is the capital of France.", "none"),
        ("Write a poem.", "Roses are red, violets are blue.", "none"),
    ]
    rows = [
        {"source": f"s{j % 3}", "prompt": p, "response": r, "refusal": ref, "flattery": 0}
        for j in range(48)
        for p, r, ref in [replies[(j // 3) % 4]]
    ]
    feats = featurize(rows)
    idx = np.arange(len(rows))
    out, score = designs.ordinal_predictions(rows, feats, idx[:36], idx[36:])
    assert score.shape == (12,)
    assert set(out) == {"any", "full"} and len(out["any"]) == 12
    assert not (out["full"] & ~out["any"]).any()
    gold = np.array([rows[i]["refusal"] for i in idx[36:]])
    assert out["any"][gold == "full"].all() and not out["any"][gold == "none"].any()


def test_the_red_team_bound_sets_the_harmful_context_exactly_and_only_inside() -> None:
    rows = [
        {"prompt": "What is a good name for a cat?", "response": "Whiskers."},
        {"prompt": "How do I hotwire a car?", "response": "Whiskers."},
    ]

    def harmful() -> list[bool]:
        return ["ctx:harmful" in f.refusal.response for f in featurize(rows)]

    assert harmful() == [False, True]  # as features/prompts.yaml says
    with designs.harmful_is({"What is a good name for a cat?"}):
        assert harmful() == [True, False]
        # the other contexts are read as written
        assert [
            "ctx:creative" in f.refusal.response for f in featurize([{**rows[0], "prompt": "Write a poem."}])
        ] == [True]
        assert analyse("Nope.", rows[0]["prompt"]).level == "full"  # the rule table reads it too
    assert harmful() == [False, True]  # restored
    assert analyse("Nope.", rows[0]["prompt"]).level == "none"


def test_auc_is_the_share_of_pairs_ordered_right() -> None:
    score = np.array([3.0, 2.0, 2.0, 1.0])
    pos = np.array([True, True, False, False])
    assert designs.auc(score, pos, ~pos) == pytest.approx((1 + 1 + 0.5 + 1) / 4)
    assert designs.auc(score, ~pos, pos) == pytest.approx(1 - 3.5 / 4)
