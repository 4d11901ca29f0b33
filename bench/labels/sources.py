"""Read labelled responses back from ``../shared/data`` by their locator.

The label files keep no response text, only where the response lives (source, file, record, side) and the
SHA-256 of its text: the Chatbot Arena file carries no licence and may not be copied into the project, and
keeping every source the same way keeps the label files small and the attribution in one place (this folder's
README). ``resolve`` rebuilds ``prompt``, ``context`` and ``response`` and checks the digest, so a label can
never silently drift onto another text.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"

# One entry per source: folder under ../shared/data. "source" is the unit of leave-one-source-out.
SOURCES = {
    "alpaca_eval_ae2": "alpaca_eval/annotations_ae2_weighted_gpt4_turbo",
    "alpaca_eval_model_outputs": "alpaca_eval/model_outputs",
    "hh_rlhf_harmless": "hh_rlhf_harmless_base_test",
    "pandalm": "pandalm_human_testset",
    "lmarena_llama3_battles": "lmarena_llama3_70b_battles",
    "llmbar_pairs": "llmbar_pairs",
    "vicuna_blog": "vicuna_blog_eval_gpt4_reviews",
}

_HH_TURN = re.compile(r"\n\n(Human|Assistant): ")


def digest(text: str) -> str:
    """First 16 hex digits of the SHA-256 of a response text (enough to catch any drift)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _read_json(path: Path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


@cache
def _ae2(model: str) -> list[dict]:
    return _read_json(SHARED / SOURCES["alpaca_eval_ae2"] / f"{model}.annotations.json.gz")


@cache
def _outputs(model: str) -> list[dict]:
    return _read_json(SHARED / SOURCES["alpaca_eval_model_outputs"] / f"{model}.json.gz")


@cache
def _hh() -> list[dict]:
    path = SHARED / SOURCES["hh_rlhf_harmless"] / "test.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@cache
def _pandalm() -> list[dict]:
    return _read_json(SHARED / SOURCES["pandalm"] / "testset-v1.json")


@cache
def _arena() -> list[dict]:
    csv.field_size_limit(1 << 30)
    path = SHARED / SOURCES["lmarena_llama3_battles"] / "llama3_70b_vs_other.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@cache
def _llmbar(file: str) -> list[dict]:
    return _read_json(SHARED / SOURCES["llmbar_pairs"] / file)


@cache
def _vicuna_questions() -> dict[int, str]:
    path = SHARED / SOURCES["vicuna_blog"] / "table" / "question.jsonl"
    return {q["question_id"]: q["text"] for q in map(json.loads, path.read_text().splitlines()) if q}


@cache
def _vicuna(file: str) -> dict[int, dict]:
    path = SHARED / SOURCES["vicuna_blog"] / "table" / "answer" / file
    return {a["question_id"]: a for a in map(json.loads, path.read_text().splitlines()) if a}


def hh_turns(transcript: str) -> list[tuple[str, str]]:
    """``[(speaker, text), ...]`` of an HH transcript."""
    parts = _HH_TURN.split(transcript)
    return [(parts[i], parts[i + 1]) for i in range(1, len(parts) - 1, 2)]


def resolve(loc: dict) -> dict:
    """``{prompt, context, response, model}`` for one locator; ``context`` is the whole conversation shown to
    a labeller (earlier turns of multi-turn chats), ``prompt`` what a battle table would hold."""
    src = loc["source"]
    if src == "alpaca_eval_ae2":
        rec = _ae2(loc["file"])[loc["record"]]
        side = loc["side"]
        prompt, response, model = rec["instruction"], rec[f"output_{side}"], rec[f"generator_{side}"]
        context = prompt
    elif src == "alpaca_eval_model_outputs":
        rec = _outputs(loc["file"])[loc["record"]]
        prompt, response, model = rec["instruction"], rec["output"], rec["generator"]
        context = prompt
    elif src == "hh_rlhf_harmless":
        rec = _hh()[loc["record"]]
        turns = hh_turns(rec[loc["side"]])
        response = turns[-1][1]
        prompt = "\n\n".join(t for s, t in turns[:-1] if s == "Human")
        context = "".join(f"\n\n{s}: {t}" for s, t in turns[:-1]).strip()
        model = None
    elif src == "pandalm":
        rec = _pandalm()[loc["record"]]
        prompt = rec["instruction"] + (("\n" + rec["input"]) if rec.get("input") else "")
        response = rec[f"response{loc['side']}"]
        model = rec["cmp_key"].split("_")[int(loc["side"]) - 1]
        context = prompt
    elif src == "lmarena_llama3_battles":
        rec = _arena()[loc["record"]]
        prompt, response = rec["question"], rec[loc["side"]]
        model = loc["side"]
        context = prompt
    elif src == "llmbar_pairs":
        rec = _llmbar(loc["file"])[loc["record"]]
        prompt, response = rec["input"], rec[f"output_{loc['side']}"]
        model = None
        context = prompt
    elif src == "vicuna_blog":
        ans = _vicuna(loc["file"])[loc["record"]]
        prompt, response, model = _vicuna_questions()[loc["record"]], ans["text"], ans["model_id"]
        context = prompt
    else:
        raise ValueError(f"unknown source {src!r}")
    if "sha" in loc and digest(response) != loc["sha"]:
        raise ValueError(f"response text of {loc} changed (digest {digest(response)} != {loc['sha']})")
    return {"prompt": prompt, "context": context, "response": response, "model": model}


def iter_candidates() -> Iterator[dict]:
    """Every response the label pool can draw from, as locators (no texts)."""
    for f in sorted((SHARED / SOURCES["alpaca_eval_ae2"]).glob("*.annotations.json.gz")):
        model = f.name.removesuffix(".annotations.json.gz")
        for i in range(len(_ae2(model))):
            yield {"source": "alpaca_eval_ae2", "file": model, "record": i, "side": 2}
    for f in sorted((SHARED / SOURCES["alpaca_eval_model_outputs"]).glob("*.json.gz")):
        model = f.name.removesuffix(".json.gz")
        for i in range(len(_outputs(model))):
            yield {"source": "alpaca_eval_model_outputs", "file": model, "record": i}
    for i in range(len(_hh())):
        for side in ("chosen", "rejected"):
            yield {"source": "hh_rlhf_harmless", "record": i, "side": side}
    for i in range(len(_pandalm())):
        for side in ("1", "2"):
            yield {"source": "pandalm", "record": i, "side": side}
    for i in range(len(_arena())):
        for side in ("llama-3-70b-instruct", "not_llama"):
            yield {"source": "lmarena_llama3_battles", "record": i, "side": side}
    for f in sorted((SHARED / SOURCES["llmbar_pairs"]).glob("*.json")):
        for i in range(len(_llmbar(f.name))):
            for side in (1, 2):
                yield {"source": "llmbar_pairs", "file": f.name, "record": i, "side": side}
    for f in sorted((SHARED / SOURCES["vicuna_blog"] / "table" / "answer").glob("answer_*.jsonl")):
        for qid in sorted(_vicuna(f.name)):
            yield {"source": "vicuna_blog", "file": f.name, "record": qid}
