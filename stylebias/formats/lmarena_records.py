"""LMArena / FastChat records one at a time: the per-record rules of every arena file and frame.

:func:`convert` turns one record into one canonical battle row (or raises
:class:`~stylebias.rows.Reject` with the reason). It is the reference the vectorised path of
:mod:`.lmarena_bulk` must agree with: every row the bulk checks cannot take comes here.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from ..rows import (
    Reject,
    conversation,
    flatten,
    is_null,
    join_turns,
    maybe_json,
    meta_columns,
    pair_names,
    winner_label,
)
from ._base import LoadContext

ID_KEYS = ("question_id", "id")
#: Source columns kept as extra battle columns when they hold scalars.
SCALAR_EXTRAS = (
    "tstamp",
    "timestamp",
    "anony",
    "is_code",
    "is_refusal",
    "evaluation_session_id",
    "evaluation_order",
    "judge_hash",
)
#: Nested tag objects flattened into extra columns (``category_tag.math_v0.1.math`` -> ``category_math_math``).
TAG_FIELDS = ("dedup_tag", "category_tag")
_SCALARS = (bool, int, float, str, _dt.datetime, _dt.date)


def record_mode(rec: dict[str, Any]) -> str:
    if not is_null(rec.get("conversation_a")) or not is_null(rec.get("conversation_b")):
        return "text"
    if not is_null(rec.get("conv_metadata")):
        return "meta"
    return "votes"


# ------------------------------------------------------------------------------------------ per record


def _extras(rec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in SCALAR_EXTRAS:
        v = rec.get(key)
        if key in rec and (v is None or isinstance(v, _SCALARS)):
            out[key] = v
    for key in TAG_FIELDS:
        if key in rec:
            out.update(flatten(key, rec[key]))
    return out


def _battle_id(rec: dict[str, Any], ctx: LoadContext, number: int) -> str:
    for key in ID_KEYS:
        v = rec.get(key)
        if not is_null(v) and v != "":
            return str(v)
    return f"{ctx.file}#{number}"


def convert(rec: dict[str, Any], number: int, *, mode: str, ctx: LoadContext) -> dict[str, Any]:
    """One LMArena record -> one canonical battle row (raises :class:`Reject`)."""
    a, b = pair_names(rec.get("model_a"), rec.get("model_b"))
    winner, pref = winner_label(rec.get("winner"))
    judge = rec.get("judge")
    row: dict[str, Any] = {
        "battle_id": _battle_id(rec, ctx, number),
        "model_a": a,
        "model_b": b,
        "winner": winner,
        "pref_a": pref,
        "judge": judge if isinstance(judge, str) else ctx.judge,
        "language": rec.get("language") if isinstance(rec.get("language"), str) else None,
    }
    turn = rec.get("turn")
    if mode == "text":
        users_a, bots_a = conversation(maybe_json(rec.get("conversation_a")), "a")
        users_b, bots_b = conversation(maybe_json(rec.get("conversation_b")), "b")
        if len(users_a) != len(users_b):
            raise Reject(
                f"turn-count mismatch: conversation_a has {len(users_a)} user turns, "
                f"conversation_b has {len(users_b)}"
            )
        if len(bots_a) != len(users_a) or len(bots_b) != len(users_b):
            raise Reject(
                f"turn-count mismatch: {len(users_a)} user turns but {len(bots_a)}/{len(bots_b)} "
                "assistant turns in conversation_a/b"
            )
        if isinstance(turn, int) and not isinstance(turn, bool) and turn != len(users_a):
            raise Reject(
                f"turn-count mismatch: turn={turn} but the conversations have {len(users_a)} user turns"
            )
        row["prompt"] = join_turns(users_a)
        row["response_a"] = join_turns(bots_a)
        row["response_b"] = join_turns(bots_b)
        size = len(row["prompt"]) + len(row["response_a"]) + len(row["response_b"])
        if size > ctx.max_record_bytes:
            raise Reject(
                f"record larger than max_record_bytes: {size:,} > {ctx.max_record_bytes:,} characters"
            )
        row["turns"] = len(users_a)
        row.update(meta_columns(rec.get("conv_metadata"), strict=False))
    else:
        if mode == "meta":
            row.update(meta_columns(rec.get("conv_metadata"), strict=True))
        row["turns"] = _meta_turns(rec)
    row.update(_extras(rec))
    return row


def _meta_turns(rec: dict[str, Any]) -> int | None:
    turn = rec.get("turn")
    if isinstance(turn, int) and not isinstance(turn, bool):
        return turn
    cm = rec.get("conv_metadata")
    if isinstance(cm, dict) and isinstance(cm.get("turns"), int) and not isinstance(cm.get("turns"), bool):
        return cm["turns"]
    return None


def converter(mode: str, ctx: LoadContext) -> Any:
    """``convert`` for one file's mode and load context, in the shape :func:`~._base.load_records` takes."""

    def run(rec: dict[str, Any], number: int) -> dict[str, Any]:
        return convert(rec, number, mode=mode, ctx=ctx)

    return run
