"""Real answer corpora for the extraction benchmarks (read from ``../shared/data``, never copied).

* ``shared``: the 16,100 distinct answers of the 21 AlpacaEval ``model_outputs`` files (what the extraction
  code was developed and profiled on);
* ``heldout``: AlpacaEval answers of the *other* models (``output_2`` of the annotation files whose generator
  has no ``model_outputs`` file), distinct texts in file order - answers the code was not tuned on;
* ``arena``: both answers of the 720 real Chatbot Arena battles in ``lmarena_llama3_70b_battles`` (prompt =
  the user's question). That file has no licence: it is read in place, only for measurements.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: ``../shared/data`` beside the checkout; ``$STYLEBIAS_SHARED_DATA`` for a checkout elsewhere
DATA = Path(os.environ.get("STYLEBIAS_SHARED_DATA") or ROOT.parent / "shared" / "data")
MODEL_OUTPUTS = DATA / "alpaca_eval" / "model_outputs"
ANNOTATIONS = DATA / "alpaca_eval" / "annotations_ae2_weighted_gpt4_turbo"
ARENA = DATA / "lmarena_llama3_70b_battles" / "llama3_70b_vs_other.csv"

CORPORA = ("shared", "heldout", "arena")


def shared(n: int | None = None) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    prompts: list[str] = []
    for f in sorted(MODEL_OUTPUTS.glob("*.json.gz")):
        for r in json.loads(gzip.open(f).read()):
            texts.append(r["output"])
            prompts.append(r["instruction"])
    return texts[:n], prompts[:n]


def heldout(n: int | None = None) -> tuple[list[str], list[str]]:
    tuned = {f.name.removesuffix(".json.gz") for f in MODEL_OUTPUTS.glob("*.json.gz")}
    seen: set[str] = set()
    texts: list[str] = []
    prompts: list[str] = []
    for f in sorted(ANNOTATIONS.glob("*.json.gz")):
        for r in json.loads(gzip.open(f).read()):
            t = r.get("output_2")
            if r.get("generator_2") in tuned or not isinstance(t, str) or t in seen:
                continue
            seen.add(t)
            texts.append(t)
            prompts.append(r["instruction"])
    return texts[:n], prompts[:n]


def arena(n: int | None = None) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    prompts: list[str] = []
    with open(ARENA, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            for col in ("llama-3-70b-instruct", "not_llama"):
                texts.append(r[col])
                prompts.append(r["question"])
    return texts[:n], prompts[:n]


def load(name: str, n: int | None = None) -> tuple[list[str], list[str]]:
    """``(texts, prompts)`` of one corpus (first ``n``)."""
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} not found: the corpora are read in place from ../shared/data")
    return {"shared": shared, "heldout": heldout, "arena": arena}[name](n)
