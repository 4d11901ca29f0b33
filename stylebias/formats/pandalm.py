"""PandaLM's human-annotated test set: three annotators per pair, majority vote.

Schema (``WeOpenML/PandaLM``, ``data/testset-v1.json``): a JSON list of ``{idx, motivation_app, cmp_key,
instruction, input, response1, response2, annotator1, annotator2, annotator3}``. ``cmp_key`` is
``"<model of response1>_<model of response2>"``. Each annotator says ``1`` (response1 better), ``2``
(response2 better) or ``0`` (similar). The battle's winner is the label at least two of three annotators
chose; ``0`` is a tie, and three different labels (no majority) is also a tie. The individual votes are
kept as ``annotator1..3``; ``judge`` is ``"human"``.

Six responses in the published file are JSON ``true`` instead of text: those battles are rejected.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from ..battles import PREF_FROM_WINNER, BattleSet
from ..rows import Reject, instruction_prompt, is_null, pair_names, text
from ._base import LoadContext, load_records

REQUIRED = ("cmp_key", "response1", "response2")
ANNOTATORS = ("annotator1", "annotator2", "annotator3")
JUDGE = "human"
_LABELS = {0: "tie", 1: "model_a", 2: "model_b"}


def detect(keys: set[str]) -> str | None:
    return "pandalm" if set(REQUIRED) <= keys and "annotator1" in keys else None


def _label(value: Any, key: str) -> int:
    if isinstance(value, str) and value.strip() in ("0", "1", "2"):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value in _LABELS:
        return value
    raise Reject(f"unknown vote label: {key}={value!r}")


def majority(labels: list[int]) -> str:
    """The winner at least half the annotators chose; no majority is a tie."""
    label, n = Counter(labels).most_common(1)[0]
    if n * 2 > len(labels):
        return _LABELS[label]
    return "tie"


def convert(rec: dict[str, Any], number: int, *, ctx: LoadContext) -> dict[str, Any]:
    key = rec.get("cmp_key")
    if not isinstance(key, str) or key.count("_") != 1:
        raise Reject(f"empty model name: cmp_key {key!r} is not '<model1>_<model2>'")
    a, b = pair_names(*key.split("_"))
    labels = [_label(rec.get(k), k) for k in ANNOTATORS if k in rec and not is_null(rec.get(k))]
    if not labels:
        raise Reject("no vote: no annotator label")
    winner = majority(labels)
    idx = rec.get("idx")
    row: dict[str, Any] = {
        "battle_id": f"pandalm-{idx}" if not is_null(idx) else f"{ctx.file}#{number}",
        "model_a": a,
        "model_b": b,
        "prompt": instruction_prompt(rec),
        "response_a": text(rec.get("response1"), "response_a (response1)", response=True),
        "response_b": text(rec.get("response2"), "response_b (response2)", response=True),
        "turns": 1,
        "winner": winner,
        "pref_a": PREF_FROM_WINNER[winner],
        "judge": ctx.judge or JUDGE,
        "language": None,
    }
    for k, label in zip((k for k in ANNOTATORS if k in rec and not is_null(rec.get(k))), labels, strict=True):
        row[k] = label
    if isinstance(rec.get("motivation_app"), str):
        row["motivation_app"] = rec["motivation_app"]
    return row


def load(path: Path, container: str, ctx: LoadContext, fmt: str = "pandalm") -> BattleSet:
    return load_records(path, container, fmt, ctx, lambda rec, n: convert(rec, n, ctx=ctx))
