"""AlpacaEval annotations: an LLM judge's pairwise verdicts against a fixed baseline.

Schema (``tatsu-lab/alpaca_eval``, ``results/<model>/<annotator>/annotations.json``): a JSON list of
``{instruction, output_1, generator_1, output_2, generator_2, dataset, annotator, preference, ...}``.
``preference`` is in [1, 2]: 1 = output_1 (the baseline) wins, 2 = output_2 wins, fractional values are
the weighted (soft) preference of AlpacaEval 2. ``0`` or ``null`` means the judge gave no usable answer:
that is *no vote*, so the record is rejected, never counted as a tie.

Model names come from ``generator_1``/``generator_2`` (not the file name). ``judge`` is the ``annotator``
field (e.g. ``weighted_alpaca_eval_gpt4_turbo``); ``dataset`` and ``datasplit`` are kept as extra columns.
The baseline-vs-itself file (``gpt4_1106_preview``) holds only self-battles, which are rejected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..battles import BattleSet, winner_from_pref
from ..rows import Reject, instruction_prompt, is_null, pair_names, text
from ._base import LoadContext, load_records

REQUIRED = ("instruction", "output_1", "output_2", "preference")
EXTRAS = ("dataset", "datasplit")


def detect(keys: set[str]) -> str | None:
    return "alpaca_eval" if set(REQUIRED) <= keys else None


def _preference(value: Any) -> float:
    if is_null(value) or (not isinstance(value, bool) and isinstance(value, int | float) and value == 0):
        raise Reject(f"no vote: preference is {value!r} (AlpacaEval's marker for a missing judgement)")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Reject(f"unknown vote label: preference={value!r}")
    if not 1.0 <= value <= 2.0:
        raise Reject(f"unknown vote label: preference={value!r} is outside [1, 2]")
    return float(value)


def convert(rec: dict[str, Any], number: int, *, ctx: LoadContext) -> dict[str, Any]:
    a, b = pair_names(rec.get("generator_1"), rec.get("generator_2"))
    pref_a = 2.0 - _preference(rec.get("preference"))
    row: dict[str, Any] = {
        "battle_id": f"{ctx.file}#{number}",
        "model_a": a,
        "model_b": b,
        "prompt": instruction_prompt(rec),
        "response_a": text(rec.get("output_1"), "response_a (output_1)", response=True),
        "response_b": text(rec.get("output_2"), "response_b (output_2)", response=True),
        "turns": 1,
        "winner": winner_from_pref(pref_a),
        "pref_a": pref_a,
        "judge": rec.get("annotator") if isinstance(rec.get("annotator"), str) else ctx.judge,
        "language": None,
    }
    for key in EXTRAS:
        if isinstance(rec.get(key), str):
            row[key] = rec[key]
    return row


def load(path: Path, container: str, ctx: LoadContext, fmt: str = "alpaca_eval") -> BattleSet:
    return load_records(path, container, fmt, ctx, lambda rec, n: convert(rec, n, ctx=ctx))
