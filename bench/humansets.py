"""The real human-vote sets in ``../shared/data``, as battle sets, for benchmarks and ``shared`` tests.

Two of them have no loader in ``stylebias.formats`` yet, so this module holds small adapters that build the
canonical battle table and pass it through the public validation (:func:`stylebias.battles.validate_battles`),
which keeps the rejects ledger and the counts honest. Each adapter is one function, so it can be replaced by
the real loader when there is one. The data files are read in place and never copied into the project.

* **Chatbot Arena, Llama-3-70B vs the field** (``lmarena_llama3_70b_battles/llama3_70b_vs_other.csv``): the
  two answers are columns named after the models (``llama-3-70b-instruct``, ``not_llama``) and
  ``preference`` names the winning column. As in the ``model_columns`` loader being written for
  ``stylebias.formats`` (so the numbers do not move when it replaces this adapter): A = the first answer
  column in header order (Llama-3), B = the other; model names are the column names, so ``not_llama`` stands
  for every opponent Llama-3 met (see docs/explain.md on what that means). The file does not say which
  answer the voter saw on the left, so A/B here is a label, not a screen side.
* **LLMBar's human sets** (``llmbar_pairs/Processed_{MT-Bench,LLMEval_2,FairEval}.json``):
  ``{input, output_1, output_2, label}``, label 1 or 2 names the preferred output. There are no model
  names; ``output_1`` is A and the placeholders ``output-1`` / ``output-2`` stand for the two sides.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

import stylebias
from stylebias.battles import BattleSet
from stylebias.rows import validate_battles

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
ARENA = SHARED / "lmarena_llama3_70b_battles" / "llama3_70b_vs_other.csv"
LLMBAR = SHARED / "llmbar_pairs"
HH = SHARED / "hh_rlhf_harmless_base_test" / "test.jsonl.gz"
LLAMA, FIELD = "llama-3-70b-instruct", "not_llama"


def load_model_vs_field(path: Path = ARENA) -> BattleSet:
    """The "one column per model, the vote names the winning column" CSV as a canonical battle set."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    by_column = {LLAMA: "model_a", FIELD: "model_b"}  # header order: the first answer column is A
    frame = pd.DataFrame(
        {
            "battle_id": [f"{path.name}#{i + 1}" for i in range(len(raw))],
            "model_a": LLAMA,
            "model_b": FIELD,
            "prompt": raw["question"],
            "response_a": raw[LLAMA],
            "response_b": raw[FIELD],
            "winner": raw["preference"].map(lambda p: by_column.get(p, p)),  # unknown labels become rejects
            "judge": "human",
            "category": raw["category_labels"],
        }
    )
    return validate_battles(frame, source=str(path))


def load_llmbar(path: Path) -> BattleSet:
    """An LLMBar ``{input, output_1, output_2, label}`` list as a canonical battle set (output_1 = A)."""
    records = json.loads(path.read_text(encoding="utf-8"))
    label_to_winner = {1: "model_a", 2: "model_b", "1": "model_a", "2": "model_b"}
    rows = [
        {
            "battle_id": f"{path.name}#{i + 1}",
            "model_a": "output-1",
            "model_b": "output-2",
            "prompt": r.get("input"),
            "response_a": r.get("output_1"),
            "response_b": r.get("output_2"),
            "winner": label_to_winner.get(r.get("label"), r.get("label")),
            "judge": "human",
        }
        for i, r in enumerate(records)
    ]
    return validate_battles(pd.DataFrame(rows), source=str(path))


def human_vote_sets() -> dict[str, Callable[[], BattleSet]]:
    """Name -> loader of every real human-vote set in ``../shared`` plus the AlpacaEval demo (LLM judge)."""

    def demo(judge: str) -> Callable[[], BattleSet]:
        def load() -> BattleSet:
            from stylebias.explain import select_battles

            return select_battles(stylebias.load_battles(), judge)

        return load

    sets: dict[str, Callable[[], BattleSet]] = {
        "Chatbot Arena, Llama-3-70B vs field (human)": lambda: load_model_vs_field(ARENA),
        "PandaLM (human, majority of 3)": demo("human"),
        "Anthropic HH harmless-base test (human)": lambda: stylebias.load_battles(HH),
    }
    for stem, label in (
        ("MT-Bench", "LLMBar MT-Bench (human experts)"),
        ("LLMEval_2", "LLMBar LLMEval² (human)"),
        ("FairEval", "LLMBar FairEval (human)"),
    ):
        p = LLMBAR / f"Processed_{stem}.json"
        sets[label] = lambda p=p: load_llmbar(p)
    sets["AlpacaEval 2 demo (GPT-4-turbo judge)"] = demo("weighted_alpaca_eval_gpt4_turbo")
    return sets
