"""Any CSV / JSONL / JSON / Parquet table of pairwise votes, with a column mapping.

The mapping names, for each canonical column, the source column that holds it; canonical names present in
the file map to themselves, so a file already in the battle-table layout needs no mapping. Required:
``model_a``, ``model_b`` and ``winner`` or ``pref_a`` (or both, which must agree). ``response_a`` and
``response_b`` go together: mapped, every row needs both texts; unmapped, the battles carry votes only.
Every source column not mapped is kept as an extra column when it holds scalars.

API: ``load_battles("votes.csv", columns={"model_a": "left", "model_b": "right", "winner": "label"})``;
CLI: ``--column model_a=left --column model_b=right --column winner=label``.
Winner labels: ``model_a``, ``model_b``, ``tie``, ``tie_bothbad`` (and LMArena's ``tie (bothbad)``,
``both_bad``); ``pref_a`` is the share of the vote for A in [0, 1].
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..battles import META_COLUMNS, BattleSet
from ..errors import DataError, UsageError
from ..rows import Reject, is_null, join_turns, pair_names, text, vote
from ._base import LoadContext, load_records, peek_keys

#: Canonical columns a mapping may target.
MAPPABLE: tuple[str, ...] = (
    "battle_id",
    "model_a",
    "model_b",
    "prompt",
    "response_a",
    "response_b",
    "turns",
    "winner",
    "pref_a",
    "judge",
    "language",
    *META_COLUMNS,
)
_SCALARS = (bool, int, float, str)


def detect(keys: set[str]) -> str | None:
    return "generic" if {"model_a", "model_b"} <= keys and keys & {"winner", "pref_a"} else None


def resolve_mapping(keys: set[str], columns: dict[str, str] | None, file: str) -> dict[str, str]:
    """canonical -> source column for this file; errors name what is wrong and what the file has."""
    unknown = sorted(set(columns or {}) - set(MAPPABLE))
    if unknown:
        raise UsageError(
            f"--column: unknown canonical column(s) {', '.join(unknown)}; choose from {', '.join(MAPPABLE)}"
        )
    mapping = {c: c for c in MAPPABLE if c in keys}
    mapping.update(columns or {})
    missing_src = sorted({src for src in mapping.values() if src not in keys})
    if missing_src:
        raise DataError(
            f"column(s) {', '.join(missing_src)} not found; the file has: {', '.join(sorted(keys))}",
            file=file,
        )
    need = [c for c in ("model_a", "model_b") if c not in mapping]
    if "winner" not in mapping and "pref_a" not in mapping:
        need.append("winner or pref_a")
    if need:
        raise DataError(
            f"generic format needs column(s) {', '.join(need)} (map them with --column NAME=SOURCE); "
            f"the file has: {', '.join(sorted(keys))}",
            file=file,
        )
    if ("response_a" in mapping) != ("response_b" in mapping):
        raise DataError("map both response_a and response_b, or neither (votes only)", file=file)
    return mapping


def _int(value: Any, what: str) -> int | None:
    if is_null(value) or value == "":
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise Reject(f"bad value: {what}={value!r} is not a number") from None
    if isinstance(value, bool) or f != int(f) or f < 0:
        raise Reject(f"bad value: {what}={value!r} is not a count")
    return int(f)


def _float(value: Any, what: str) -> float | None:
    if is_null(value) or value == "":
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise Reject(f"bad value: {what}={value!r} is not a number") from None
    if isinstance(value, bool) or f < 0 or f != f:
        raise Reject(f"bad value: {what}={value!r} is not a count")
    return f


def _optional_text(value: Any, what: str) -> str | None:
    if is_null(value):
        return None
    if isinstance(value, list):  # a list of turns
        return join_turns([text(t, f"{what} turn {k}") for k, t in enumerate(value, 1)])
    return text(value, what)


def convert(rec: dict[str, Any], number: int, *, mapping: dict[str, str], ctx: LoadContext) -> dict[str, Any]:
    def get(c: str) -> Any:
        return rec.get(mapping[c]) if c in mapping else None

    a, b = pair_names(get("model_a"), get("model_b"))
    winner, pref = vote(get("winner"), get("pref_a"))
    bid = get("battle_id")
    row: dict[str, Any] = {
        "battle_id": str(bid) if not is_null(bid) and bid != "" else f"{ctx.file}#{number}",
        "model_a": a,
        "model_b": b,
        "winner": winner,
        "pref_a": pref,
        "prompt": _optional_text(get("prompt"), "prompt"),
        "judge": _optional_text(get("judge"), "judge") or ctx.judge,
        "language": _optional_text(get("language"), "language"),
        "turns": _int(get("turns"), "turns"),
    }
    if "response_a" in mapping:
        for side in ("a", "b"):
            value = get(f"response_{side}")
            if isinstance(value, list):
                row[f"response_{side}"] = join_turns(
                    [text(t, f"response_{side} turn {k}", response=True) for k, t in enumerate(value, 1)]
                )
            else:
                row[f"response_{side}"] = text(value, f"response_{side}", response=True)
    for col in META_COLUMNS:
        if col in mapping:
            row[col] = _float(get(col), col)
    used = set(mapping.values()) | {"source_file", "source_record"}  # provenance is this file's
    for key, value in rec.items():
        if key not in used and key not in row and (value is None or isinstance(value, _SCALARS)):
            row[key] = value
    return row


def load(path: Path, container: str, ctx: LoadContext, fmt: str = "generic") -> BattleSet:
    keys = peek_keys(path, container, ctx)
    if keys is None:
        raise DataError("no JSON object among the first records: not a table of battles", file=ctx.file)
    mapping = resolve_mapping(keys, ctx.columns, ctx.file)
    return load_records(path, container, fmt, ctx, lambda rec, n: convert(rec, n, mapping=mapping, ctx=ctx))
