"""Pair features: antisymmetry under swapping A and B (property test), kinds, metadata-only data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stylebias.errors import DataError
from stylebias.extract import FEATURES, pair_features, pair_values, response_features
from stylebias.extract.registry import FEATURE_BY_NAME

# Texts built from fragments that exercise every family (markdown, emoji, flattery, refusal, tone).
FRAGMENTS = [
    "# Title\n",
    "## Section\n",
    "- item\n",
    "1. first\n",
    "**bold** ",
    "__also bold__ ",
    "```py\nx = 1\n```\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n",
    "[link](https://example.com) ",
    "😊 ",
    "👨‍👩‍👧 ",
    "Great question! ",
    "You're absolutely right. ",
    "I'm sorry, but I can't help with that. ",
    "However, here are some tips. ",
    "This is wonderful! ",
    "This is terrible. ",
    "The mitochondria is the powerhouse of the cell. ",
    "\n\n",
]
text_st = st.lists(st.sampled_from(FRAGMENTS), min_size=0, max_size=12).map("".join)


def _battles(a: list[str], b: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"response_a": a, "response_b": b, "prompt": ["Please help."] * len(a)})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(text_st, text_st), min_size=1, max_size=4))
def test_every_pair_feature_flips_sign_when_sides_swap(pairs: list[tuple[str, str]]) -> None:
    a = [p[0] for p in pairs]
    b = [p[1] for p in pairs]
    z = pair_features(_battles(a, b), "full", cache=False)
    z_swapped = pair_features(_battles(b, a), "full", cache=False)
    assert list(z.columns) == [f.name for f in FEATURES if f.kind != "label"]
    assert all(dt == np.float64 for dt in z.dtypes)
    np.testing.assert_array_equal(z.to_numpy(), -z_swapped.to_numpy())
    same = pair_features(_battles(a, a), "full", cache=False)
    assert (same.to_numpy() == 0).all()
    counts = [f.name for f in FEATURES if f.kind == "count"]
    assert (z[counts].abs() < 1).all().all()  # normalised differences stay in (-1, 1)


@given(
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
)
def test_pair_values_antisymmetric(x: float, y: float) -> None:
    for kind in ("count", "level", "score"):
        assert (
            pair_values(np.array([x]), np.array([y]), kind)[0]
            == -pair_values(np.array([y]), np.array([x]), kind)[0]
        )


def test_kinds_and_refusal_levels() -> None:
    battles = _battles(
        ["I cannot help with that.", "- a\n- b\n- c 😊"],
        ["Sure, the answer is 4.", "plain"],
    )
    z = pair_features(
        battles, ["refusal", "refusal_score", "list_count", "emoji_count", "flattery"], cache=False
    )
    assert z.loc[0, "refusal"] == 2.0  # full (2) - none (0): levels are plain differences
    per = response_features(
        ["I cannot help with that.", "Sure, the answer is 4."],
        ["Please help."] * 2,
        features="refusal_score",
        cache=False,
    )
    # scores are plain differences (refusal_score is graded: above 0.5 for a refusal, below for an answer)
    assert z.loc[0, "refusal_score"] == per["refusal_score"][0] - per["refusal_score"][1] > 0.5
    assert z.loc[1, "list_count"] == pytest.approx(3 / 4)  # (3 - 0) / (3 + 0 + 1)
    assert z.loc[1, "emoji_count"] == pytest.approx(1 / 2)
    assert FEATURE_BY_NAME["flattery"].kind == "level"


def test_full_needs_texts_and_names_the_record() -> None:
    battles = pd.DataFrame(
        {
            "battle_id": ["x1"],
            "response_a": [None],
            "response_b": [None],
            "source_file": ["arena.jsonl"],
            "source_record": [7],
            **{
                f"meta_{f}_{s}": [1.0]
                for f in ("tokens", "header_count", "list_count", "bold_count")
                for s in "ab"
            },
        }
    )
    with pytest.raises(DataError, match=r"arena.jsonl, record 7: .*need response texts"):
        pair_features(battles, "full", cache=False)
    assert pair_features(battles, "lmarena", cache=False).iloc[0].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_mixed_text_and_metadata_rows() -> None:
    battles = pd.DataFrame(
        {
            "response_a": ["# h\n- a", None],
            "response_b": ["x", None],
            **{
                f"meta_{f}_{s}": [np.nan, 2.0 if s == "a" else 0.0]
                for f in ("tokens", "header_count", "list_count", "bold_count")
                for s in "ab"
            },
        }
    )
    z = pair_features(battles, "lmarena", cache=False)
    assert z.loc[0, "header_count"] == pytest.approx(1 / 2)
    assert z.loc[1].tolist() == pytest.approx([2 / 3] * 4)


def test_battleset_and_real_loader(fixtures) -> None:
    from stylebias.formats import load_battles

    data = load_battles([str(fixtures / "formats" / "lmarena_conversations.jsonl")])
    z = pair_features(data, "full", cache=False)
    assert len(z) == data.accepted and list(z.index) == list(data.battles.index)
    meta = load_battles([str(fixtures / "formats" / "arena_metadata.jsonl")])
    zm = pair_features(meta, "lmarena", cache=False)
    assert zm.notna().all().all()
    with pytest.raises(DataError, match="metadata-only"):
        pair_features(meta, "full", cache=False)
