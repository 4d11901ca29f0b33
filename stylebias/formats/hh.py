"""Anthropic HH-RLHF preference pairs: ``{"chosen": transcript, "rejected": transcript}`` JSONL(.gz).

Each transcript is ``"\\n\\nHuman: ...\\n\\nAssistant: ..."``; the two share every turn but the last assistant
turn, and a human preferred ``chosen``. A battle is:

* ``prompt``: the human turns of the shared part, joined with a blank line (``turns`` = their number);
  earlier assistant turns are shared context, not part of either answer;
* ``response_a``/``response_b``: the two final assistant turns;
* **sides by hash, not by label**: the chosen answer is A when the first byte of
  SHA-256(``chosen`` + NUL + ``rejected``, UTF-8) is even, else B. So the preferred side is A in about half the
  battles, deterministically (the same record always gets the same sides, whatever the file order);
* ``model_a``/``model_b``: the placeholders ``hh-response-a``/``hh-response-b``. HH has no model names, so HH
  battles serve the vote model and style features, **not ratings**;
* ``winner`` = the side holding ``chosen``; ``judge`` = ``human``; ``hh_chosen_side`` = ``a`` or ``b``.

Records whose transcripts differ before the final assistant turn (5 of 2,312 in harmless-base test) or that
do not end with an assistant turn are rejected with that reason.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from ..battles import PREF_FROM_WINNER, TURN_SEPARATOR, BattleSet
from ..rows import Reject, text
from ._base import LoadContext, load_records

REQUIRED = ("chosen", "rejected")
JUDGE = "human"
MODEL_A = "hh-response-a"
MODEL_B = "hh-response-b"
_TURN = re.compile(r"\n\n(Human|Assistant): ?")


def detect(keys: set[str]) -> str | None:
    return "hh" if set(REQUIRED) <= keys and not ({"model_a", "model_b", "winner"} & keys) else None


def parse_transcript(t: str) -> list[tuple[str, str]]:
    """``[(role, text), ...]`` of a ``\\n\\nHuman: ... \\n\\nAssistant: ...`` transcript."""
    parts = _TURN.split(t)
    head, rest = parts[0], parts[1:]
    turns = [(rest[i], rest[i + 1]) for i in range(0, len(rest) - 1, 2)]
    if head.strip():
        turns.insert(0, ("Human", head))
    return turns


def chosen_is_a(chosen: str, rejected: str) -> bool:
    """The documented side rule: chosen is A iff SHA-256(chosen NUL rejected)[0] is even."""
    digest = hashlib.sha256((chosen + "\x00" + rejected).encode("utf-8", "surrogatepass")).digest()
    return digest[0] % 2 == 0


def convert(rec: dict[str, Any], number: int, *, ctx: LoadContext) -> dict[str, Any]:
    chosen = text(rec.get("chosen"), "chosen")
    rejected = text(rec.get("rejected"), "rejected")
    tc, tr = parse_transcript(chosen), parse_transcript(rejected)
    if not tc or not tr or tc[-1][0] != "Assistant" or tr[-1][0] != "Assistant":
        raise Reject("malformed conversation: a transcript does not end with an Assistant turn")
    if tc[:-1] != tr[:-1]:
        raise Reject("malformed conversation: chosen and rejected differ before the final assistant turn")
    humans = [t for role, t in tc[:-1] if role == "Human"]
    if not humans:
        raise Reject("malformed conversation: the transcript has no Human turn")
    a_is_chosen = chosen_is_a(chosen, rejected)
    good, bad = tc[-1][1], tr[-1][1]
    winner = "model_a" if a_is_chosen else "model_b"
    return {
        "battle_id": f"{ctx.file}#{number}",
        "model_a": MODEL_A,
        "model_b": MODEL_B,
        "prompt": TURN_SEPARATOR.join(humans),
        "response_a": text(good if a_is_chosen else bad, "response_a", response=True),
        "response_b": text(bad if a_is_chosen else good, "response_b", response=True),
        "turns": len(humans),
        "winner": winner,
        "pref_a": PREF_FROM_WINNER[winner],
        "judge": ctx.judge or JUDGE,
        "language": None,
        "hh_chosen_side": "a" if a_is_chosen else "b",
    }


def load(path: Path, container: str, ctx: LoadContext, fmt: str = "hh") -> BattleSet:
    return load_records(path, container, fmt, ctx, lambda rec, n: convert(rec, n, ctx=ctx))
