"""Explanations on real Chatbot Arena human votes (../shared; never copied into the project) and LLMBar."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from bench.humansets import FIELD, LLAMA, load_llmbar, load_model_vs_field
from stylebias.explain import explain_battles

pytestmark = pytest.mark.shared


def test_model_vs_field_adapter_keeps_every_vote(shared_data: Path) -> None:
    bs = load_model_vs_field(shared_data / "lmarena_llama3_70b_battles" / "llama3_70b_vs_other.csv")
    assert bs.accounting() == {"read": 720, "accepted": 720, "rejected": 0}
    b = bs.battles
    assert set(b["model_a"]) | set(b["model_b"]) == {LLAMA, FIELD}
    assert (b["model_a"] == LLAMA).all()  # header order, as the model_columns loader does
    llama_won = ((b["model_a"] == LLAMA) & (b["winner"] == "model_a")) | (
        (b["model_b"] == LLAMA) & (b["winner"] == "model_b")
    )
    assert llama_won.sum() == 371  # the file's own count of `preference == llama-3-70b-instruct`


def test_llmbar_adapter(shared_data: Path) -> None:
    bs = load_llmbar(shared_data / "llmbar_pairs" / "Processed_MT-Bench.json")
    assert bs.accounting() == {"read": 200, "accepted": 200, "rejected": 0}
    assert set(bs.battles["winner"]) <= {"model_a", "model_b"}


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
