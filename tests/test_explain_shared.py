"""Explanations on real Chatbot Arena human votes (../shared; never copied into the project) and LLMBar."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from bench.humansets import FIELD, LLAMA, load_llmbar, load_model_vs_field
from stylebias.explain import explain_battles

pytestmark = pytest.mark.shared


def test_model_vs_field_file_is_read_by_the_loader_with_llama_as_a(shared_data: Path) -> None:
    """The explain benchmark reads the Arena file with the ``model_columns`` layout: every vote kept, side A =
    the first answer column (Llama-3), the file's own count of Llama-3 wins."""
    bs = load_model_vs_field(shared_data / "lmarena_llama3_70b_battles" / "llama3_70b_vs_other.csv")
    assert bs.accounting() == {"read": 720, "accepted": 720, "rejected": 0}
    b = bs.battles
    assert (b["model_a"] == LLAMA).all() and (b["model_b"] == FIELD).all()
    assert (b["winner"] == "model_a").sum() == 371  # `preference == llama-3-70b-instruct` in the file
    assert set(b["judge"]) == {"human"}


def test_llmbar_file_is_read_by_the_pairs_layout(shared_data: Path) -> None:
    bs = load_llmbar(shared_data / "llmbar_pairs" / "Processed_MT-Bench.json")
    assert bs.accounting() == {"read": 200, "accepted": 200, "rejected": 0}
    assert set(bs.battles["winner"]) <= {"model_a", "model_b"}
    assert set(bs.battles["model_a"]) == {"output_1"}


@pytest.mark.slow
def test_arena_explanation_is_no_worse_than_length_and_says_what_bt_sees(shared_data: Path) -> None:
    bs = load_model_vs_field(shared_data / "lmarena_llama3_70b_battles" / "llama3_70b_vs_other.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = explain_battles(bs, boot=20)
    s = res.cv.scores["log_loss"]
    assert s["vote_model"] <= s["length_only"] + 0.002  # nested, 5 x 5 folds grouped by prompt
    assert s["vote_model"] < s["prior"]
    # Llama-3's opponents refuse more often: BT sees it; the card either carries it or says why not
    a = res.agreement
    refusal = a[(a["model"] == LLAMA) & (a["group"] == "refusal")]
    assert len(refusal) == 1 and refusal.iloc[0]["bt_points"] > 0
    if refusal.iloc[0]["status"] != "agree":
        assert refusal.iloc[0]["reason"] in res.model_notes(LLAMA)
    assert "95 % CI" in res.model_sentence(LLAMA)
