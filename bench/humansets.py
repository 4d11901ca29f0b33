"""The real human-vote sets in ``../shared/data``, as battle sets, for benchmarks and ``shared`` tests.

Two of them have no loader in ``stylebias.formats`` yet, so this module holds small adapters that build the
canonical battle table and pass it through the public validation (:func:`stylebias.battles.validate_battles`),
which keeps the rejects ledger and the counts honest. Each adapter is one function, so it can be replaced by
the real loader when there is one. The data files are read in place and never copied into the project.

* **Chatbot Arena, Llama-3-70B vs the field** (``lmarena_llama3_70b_battles/llama3_70b_vs_other.csv``): the
  two answers are columns named after the models (``llama-3-70b-instruct``, ``not_llama``) and
  ``preference`` names the winning column. The file does not say which answer was on the left, so the sides
  are assigned by hash, as the HH loader does: Llama-3's answer is A iff the first byte of
  SHA-256(question NUL llama answer NUL other answer) is even. Model names are the column names, so
  ``not_llama`` stands for every opponent Llama-3 met (see docs/explain.md on what that means).
* **LLMBar's human sets** (``llmbar_pairs/Processed_{MT-Bench,LLMEval_2,FairEval}.json``):
  ``{input, output_1, output_2, label}``, label 1 or 2 names the preferred output. There are no model
  names; ``output_1`` is A and the placeholders ``output-1`` / ``output-2`` stand for the two sides.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

import stylebias
from stylebias.battles import BattleSet, validate_battles

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
ARENA = SHARED / "lmarena_llama3_70b_battles" / "llama3_70b_vs_other.csv"
LLMBAR = SHARED / "llmbar_pairs"
HH = SHARED / "hh_rlhf_harmless_base_test" / "test.jsonl.gz"
LLAMA, FIELD = "llama-3-70b-instruct", "not_llama"


def _llama_is_a(question: str, llama: str, other: str) -> bool:
    key = f"{question}\x00{llama}\x00{other}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(key).digest()[0] % 2 == 0


def load_model_vs_field(path: Path = ARENA) -> BattleSet:
    """The "one column per model, the vote names the winning column" CSV as a canonical battle set."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = []
    for i, r in enumerate(raw.to_dict("records")):
        q, mine, other = r["question"], r[LLAMA], r[FIELD]
        a_is_llama = _llama_is_a(q, mine, other)
        pref = r["preference"]
        winner = (
            None
            if pref not in (LLAMA, FIELD)
            else ("model_a" if (pref == LLAMA) == a_is_llama else "model_b")
        )
        rows.append(
            {
                "battle_id": f"{path.name}#{i + 1}",
                "model_a": LLAMA if a_is_llama else FIELD,
                "model_b": FIELD if a_is_llama else LLAMA,
                "prompt": q,
                "response_a": mine if a_is_llama else other,
                "response_b": other if a_is_llama else mine,
                "winner": winner if winner is not None else pref,  # unknown labels become rejects
                "judge": "human",
                "category": r.get("category_labels"),
            }
        )
    return validate_battles(pd.DataFrame(rows), source=str(path))


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
