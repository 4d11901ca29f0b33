"""Rebuild the embedded demo from ``../shared/data`` (a copy of public AlpacaEval and PandaLM files).

Run from the project root: ``python stylebias/data/demo/build_demo.py``. Deterministic: the same inputs give
byte-identical outputs. See SOURCES.md beside this file for what is cut and why.
"""

from __future__ import annotations

import gzip
import json
import lzma
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[2].parent / "shared" / "data"
ANNOTATIONS = SHARED / "alpaca_eval" / "annotations_ae2_weighted_gpt4_turbo"
PANDALM = SHARED / "pandalm_human_testset" / "testset-v1.json"

#: Same model prompted plainly / verbose / concise, the judge-gaming NullModel and gpt4_gamed, more concise
#: variants, and plain models with distinct styles (heavy markdown + emoji, markdown, flattering openers,
#: terse completions).
MODELS = (
    "gpt-3.5-turbo-1106",
    "gpt-3.5-turbo-1106_verbose",
    "gpt-3.5-turbo-1106_concise",
    "alpaca-7b",
    "alpaca-7b_verbose",
    "alpaca-7b_concise",
    "NullModel",
    "gpt4_gamed",
    "claude-2.1",
    "claude-2.1_concise",
    "gpt4_0613_concise",
    "Mixtral-8x7B-Instruct-v0.1_concise",
    "FuseChat-Qwen-2.5-7B-Instruct",
    "gemma-2b-it",
    "openbuddy-llama2-13b-v11.1",
    "text_davinci_003",
    "vicuna-13b-v1.5",
    "OpenHermes-2.5-Mistral-7B",
)
#: AlpacaEval fields kept (``raw_completion`` holds judge log-probabilities and is most of the upstream size).
KEEP = (
    "instruction",
    "output_1",
    "generator_1",
    "dataset",
    "output_2",
    "generator_2",
    "annotator",
    "preference",
)
#: Upstream's NullModel file names its generator "example"; the demo names it after the model.
RENAME = {"example": "NullModel"}


def _xz(payload: list[dict], path: Path) -> None:
    raw = json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8")
    path.write_bytes(lzma.compress(raw, format=lzma.FORMAT_XZ, preset=9 | lzma.PRESET_EXTREME))


def build(n_instructions: int | None = None) -> None:
    per_model = {}
    for model in MODELS:
        rows = json.loads(gzip.open(ANNOTATIONS / f"{model}.annotations.json.gz").read())
        per_model[model] = {r["instruction"]: r for r in rows}
    common = [i for i in per_model[MODELS[0]] if all(i in rows for rows in per_model.values())]
    chosen = common[:n_instructions] if n_instructions else common
    records = []
    for instruction in chosen:  # grouped by instruction: every model answers the same prompts
        for model in MODELS:
            r = per_model[model][instruction]
            rec = {k: r.get(k) for k in KEEP}
            rec["generator_2"] = RENAME.get(rec["generator_2"], rec["generator_2"])
            records.append(rec)
    _xz(records, HERE / "alpaca_eval_ae2_demo.json.xz")
    _xz(json.loads(PANDALM.read_text(encoding="utf-8")), HERE / "pandalm_testset.json.xz")
    print(f"{len(chosen)} instructions x {len(MODELS)} models = {len(records)} AlpacaEval records")


if __name__ == "__main__":
    build(int(sys.argv[1]) if len(sys.argv) > 1 else None)
