"""The Kaggle "LMSYS - Chatbot Arena Human Preference" training file (``lmsys-arena-human-preference-55k``).

Schema (``train.csv``): ``id, model_a, model_b, prompt, response_a, response_b, winner_model_a,
winner_model_b, winner_tie``. ``prompt`` and ``response_*`` are JSON-encoded lists of strings, one per
turn; a turn may be ``null``. The winner is one-hot over the three ``winner_*`` columns (this release
merges "tie" and "tie (bothbad)" into ``winner_tie``).

Rules: exactly one winner flag must be 1, else the record is rejected as an unknown vote label; a ``null``
response turn is a missing response (rejected); a ``null`` prompt turn contributes an empty user turn;
the three lists must have the same length (turn-count mismatch otherwise).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..battles import PREF_FROM_WINNER, BattleSet
from ..rows import Reject, is_null, join_turns, pair_names, text
from ._base import LoadContext, load_records

FLAGS = ("winner_model_a", "winner_model_b", "winner_tie")
REQUIRED = ("prompt", "response_a", "response_b", *FLAGS)
_WINNERS = ("model_a", "model_b", "tie")


def detect(keys: set[str]) -> str | None:
    return "kaggle" if set(REQUIRED) <= keys else None


def _flag(value: Any, key: str) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value in (0, 1):
        return value
    if isinstance(value, float) and value in (0.0, 1.0):
        return int(value)
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return int(value)
    raise Reject(f"unknown vote label: {key}={value!r}")


def _turn_list(value: Any, what: str) -> list[Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise Reject(f"malformed JSON: {what} is not a JSON list of turns") from None
    if not isinstance(value, list) or not value:
        raise Reject(f"malformed JSON: {what} is not a non-empty JSON list of turns")
    return value


def convert(rec: dict[str, Any], number: int, *, ctx: LoadContext) -> dict[str, Any]:
    a, b = pair_names(rec.get("model_a"), rec.get("model_b"))
    flags = [_flag(rec.get(k), k) for k in FLAGS]
    if sum(flags) != 1:
        raise Reject(
            "unknown vote label: winner_model_a/winner_model_b/winner_tie = "
            + "/".join(str(f) for f in flags)
            + " (exactly one must be 1)"
        )
    winner = _WINNERS[flags.index(1)]
    prompts = _turn_list(rec.get("prompt"), "prompt")
    turns_a = _turn_list(rec.get("response_a"), "response_a")
    turns_b = _turn_list(rec.get("response_b"), "response_b")
    if not len(prompts) == len(turns_a) == len(turns_b):
        raise Reject(
            f"turn-count mismatch: prompt has {len(prompts)} turns, response_a {len(turns_a)}, "
            f"response_b {len(turns_b)}"
        )
    prompt = join_turns(["" if is_null(p) else text(p, f"prompt turn {k}") for k, p in enumerate(prompts, 1)])
    resp = {
        side: join_turns(
            [text(t, f"response_{side} turn {k}", response=True) for k, t in enumerate(turns, 1)]
        )
        for side, turns in (("a", turns_a), ("b", turns_b))
    }
    bid = rec.get("id")
    return {
        "battle_id": str(bid) if not is_null(bid) and bid != "" else f"{ctx.file}#{number}",
        "model_a": a,
        "model_b": b,
        "prompt": prompt,
        "response_a": resp["a"],
        "response_b": resp["b"],
        "turns": len(prompts),
        "winner": winner,
        "pref_a": PREF_FROM_WINNER[winner],
        "judge": ctx.judge,
        "language": None,
    }


def load(path: Path, container: str, ctx: LoadContext, fmt: str = "kaggle") -> BattleSet:
    return load_records(path, container, fmt, ctx, lambda rec, n: convert(rec, n, ctx=ctx))
