"""The real human-vote sets in ``../shared/data``, as battle sets, for benchmarks and ``shared`` tests.

Every set is read by :func:`stylebias.load_battles` (the data files are read in place, never copied into the
project); only the vote source is added, as the constant ``judge=human``:

* **Chatbot Arena, Llama-3-70B vs the field** (``lmarena_llama3_70b_battles/llama3_70b_vs_other.csv``): the
  ``model_columns`` layout. The two answers are columns named after the models (``llama-3-70b-instruct``,
  ``not_llama``) and ``preference`` names the winning column; A = the first answer column in header order
  (Llama-3), B = the other, so ``not_llama`` stands for every opponent Llama-3 met (docs/explain.md says what
  an explanation means then). The file does not say which answer the voter saw on the left, so A/B here is a
  label, not a screen side.
* **LLMBar's human sets** (``llmbar_pairs/Processed_{MT-Bench,LLMEval_2,FairEval}.json``): the ``pairs``
  layout, ``{input, output_1, output_2, label}`` with label 1 or 2 naming the preferred output. There are no
  model names; ``output_1`` (A) and ``output_2`` (B) stand for the two sides.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import stylebias
from stylebias.battles import BattleSet

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
ARENA = SHARED / "lmarena_llama3_70b_battles" / "llama3_70b_vs_other.csv"
LLMBAR = SHARED / "llmbar_pairs"
HH = SHARED / "hh_rlhf_harmless_base_test" / "test.jsonl.gz"
LLAMA, FIELD = "llama-3-70b-instruct", "not_llama"
HUMAN = {"judge": "human"}


def load_model_vs_field(path: Path = ARENA) -> BattleSet:
    """The "one answer column per model, the vote names the winning column" CSV (``model_columns``)."""
    return stylebias.load_battles(path, format="model_columns", constants=HUMAN)


def load_llmbar(path: Path) -> BattleSet:
    """An LLMBar ``{input, output_1, output_2, label}`` list (``pairs``: output_1 = A)."""
    return stylebias.load_battles(path, format="pairs", constants=HUMAN)


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
