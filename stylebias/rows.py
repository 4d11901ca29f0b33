"""Row rules: the value checks and conversions every loader and :func:`validate_battles` share, so a fault
has one reason with one wording wherever it is found (``stylebias validate`` groups rejects by the text before
the first colon). A rule raises :class:`Reject`; the caller puts ``str(exc)`` in the ledger. A loader calls
:func:`pair_names`, :func:`vote` (or :func:`winner_label` / :func:`pref_value`), :func:`text` for prompts and
responses and :func:`meta_columns` for LMArena's style counts; ``formats._base.load_records`` does the rest.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .battles import (
    PREF_FROM_WINNER,
    TURN_SEPARATOR,
    BattleSet,
    Ledger,
    strip_hidden_reasoning,
    winner_from_pref,
)
from .errors import DataError

#: Source winner labels and their canonical value. LMArena writes ``tie (bothbad)``; the 140k release
#: writes ``both_bad``. Anything else is rejected as an unknown vote label, never guessed.
WINNER_LABELS: dict[str, str] = {
    "model_a": "model_a",
    "model_b": "model_b",
    "tie": "tie",
    "tie (bothbad)": "tie_bothbad",
    "both_bad": "tie_bothbad",
    "tie_bothbad": "tie_bothbad",
}

#: ``conv_metadata`` keys behind each ``meta_*`` column (FastChat's style-control elements).
META_SOURCES: dict[str, str] = {
    "meta_tokens_a": "sum_assistant_a_tokens",
    "meta_tokens_b": "sum_assistant_b_tokens",
    "meta_header_count_a": "header_count_a",
    "meta_header_count_b": "header_count_b",
    "meta_list_count_a": "list_count_a",
    "meta_list_count_b": "list_count_b",
    "meta_bold_count_a": "bold_count_a",
    "meta_bold_count_b": "bold_count_b",
}

SURROGATE = re.compile("[\ud800-\udfff]")
_VERSION_SUFFIX = re.compile(r"_v\d+(?:\.\d+)*$")


class Reject(Exception):
    """One record cannot become a battle; ``str(exc)`` is the ledger reason."""


def is_null(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def model_name(value: Any, side: str) -> str:
    """A model name: non-empty text (kept exactly as written, only checked)."""
    if is_null(value) or (isinstance(value, str) and not value.strip()):
        raise Reject(f"empty model name: model_{side} is {'empty' if isinstance(value, str) else 'missing'}")
    if not isinstance(value, str):
        raise Reject(f"empty model name: model_{side} is not text ({type(value).__name__})")
    if SURROGATE.search(value):
        raise Reject(f"invalid text: model_{side} is not valid Unicode")
    return value


def pair_names(a: Any, b: Any) -> tuple[str, str]:
    a, b = model_name(a, "a"), model_name(b, "b")
    if a == b:
        raise Reject(f"self-battle: model_a == model_b == {a!r}")
    return a, b


def winner_label(value: Any) -> tuple[str, float]:
    """Canonical ``(winner, pref_a)`` from a source winner label."""
    if isinstance(value, str) and value in WINNER_LABELS:
        w = WINNER_LABELS[value]
        return w, PREF_FROM_WINNER[w]
    raise Reject(f"unknown vote label: winner={value!r}")


def pref_value(value: Any, what: str = "pref_a") -> float:
    """A share of the vote for A in [0, 1] (numbers or numeric text)."""
    if isinstance(value, bool) or is_null(value):
        raise Reject(f"unknown vote label: {what}={value!r}")
    try:
        p = float(value)
    except (TypeError, ValueError):
        raise Reject(f"unknown vote label: {what}={value!r}") from None
    if not 0.0 <= p <= 1.0:
        raise Reject(f"unknown vote label: {what}={value!r} is outside [0, 1]")
    return p


def vote(winner: Any = None, pref_a: Any = None) -> tuple[str, float]:
    """``(winner, pref_a)`` from a label, a share, or both (which must agree)."""
    if is_null(pref_a) or (isinstance(pref_a, str) and not pref_a.strip()):
        return winner_label(winner)
    p = pref_value(pref_a)
    if is_null(winner) or (isinstance(winner, str) and not winner.strip()):
        return winner_from_pref(p), p
    w, hard = winner_label(winner)
    if w in ("model_a", "model_b") and winner_from_pref(p) != w:
        raise Reject(f"unknown vote label: pref_a {p} contradicts winner {winner!r}")
    if w in ("tie", "tie_bothbad") and p != hard:
        raise Reject(f"unknown vote label: pref_a {p} contradicts winner {winner!r}")
    return w, p


def text(value: Any, what: str, *, response: bool = False) -> str:
    """Checked text; responses lose their hidden ``<think>`` reasoning."""
    if is_null(value):
        raise Reject(
            f"missing response: {what} is missing" if response else f"missing text: {what} is missing"
        )
    if not isinstance(value, str):
        raise Reject(f"non-text response: {what} is {type(value).__name__}, not text")
    if SURROGATE.search(value):
        raise Reject(f"invalid text: {what} is not valid Unicode (undecodable bytes or lone surrogates)")
    return strip_hidden_reasoning(value) if response else value


def instruction_prompt(rec: dict[str, Any]) -> str:
    """An Alpaca-style prompt: the ``instruction``, then a non-empty ``input`` after a blank line."""
    prompt = text(rec.get("instruction"), "instruction")
    extra_input = rec.get("input")
    if isinstance(extra_input, str) and extra_input.strip():
        prompt = prompt + "\n\n" + text(extra_input, "input")
    return prompt


def content_text(content: Any, what: str, *, response: bool) -> str:
    """Text of one message ``content``: a string, or the 140k release's list of typed parts.

    Text parts are joined with a newline; image parts are not text the voter read as an answer. A response
    with no text part at all is rejected as non-text.
    """
    if isinstance(content, list):
        texts = []
        kinds = []
        for part in content:
            if isinstance(part, dict):
                kinds.append(str(part.get("type")))
                if part.get("type", "text") == "text" and isinstance(part.get("text"), str):
                    texts.append(part["text"])
            elif isinstance(part, str):
                texts.append(part)
            else:
                raise Reject(f"non-text response: {what} holds a {type(part).__name__} part")
        if not texts:
            if response:
                raise Reject(f"non-text response: {what} has no text part ({', '.join(kinds) or 'empty'})")
            return ""
        content = "\n".join(texts)
    return text(content, what, response=response)


def conversation(conv: Any, side: str, turns: int | None = None) -> tuple[list[str], list[str]]:
    """(user turns, assistant turns) of ``conversation_<side>``, a list of ``{role, content}`` messages.

    System messages are skipped. With ``turns`` (the judged turn of a multi-turn benchmark) only the first
    ``turns`` exchanges are read, and each must be there; without it, at least one assistant message.
    """
    if is_null(conv):
        raise Reject(f"missing response: conversation_{side} is missing")
    if not isinstance(conv, list):
        raise Reject(f"non-text response: conversation_{side} is {type(conv).__name__}, not a message list")
    users: list[str] = []
    bots: list[str] = []
    for k, msg in enumerate(conv, 1):
        if not isinstance(msg, dict):
            raise Reject(f"malformed conversation: conversation_{side} message {k} is not an object")
        role = msg.get("role")
        if role == "user":
            if len(users) == turns:
                break
            users.append(
                content_text(msg.get("content"), f"prompt (conversation_{side} message {k})", response=False)
            )
        elif role == "assistant":
            bots.append(content_text(msg.get("content"), f"response_{side} (message {k})", response=True))
        elif role != "system":
            raise Reject(f"malformed conversation: conversation_{side} message {k} has role {role!r}")
    if turns is None:
        if not bots:
            raise Reject(f"missing response: conversation_{side} has no assistant message")
        return users, bots
    if len(users) < turns or len(bots) < turns:
        raise Reject(
            f"turn-count mismatch: turn {turns} judged but conversation_{side} has {len(users)} user and "
            f"{len(bots)} assistant turn(s)"
        )
    return users, bots[:turns]


def maybe_json(value: Any) -> Any:
    """Decode JSON text (some releases store nested fields as JSON strings); other values pass through."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            raise Reject("malformed JSON: an embedded JSON field does not parse") from None
    return value


def count(value: Any, key: str) -> float:
    """A style count: an int, or a dict of ints summed (FastChat: ``sum(x[element].values())``); numpy
    scalars (cells of an in-memory frame) count as their Python values."""
    if isinstance(value, dict):
        total = 0.0
        for v in value.values():
            total += count(v, key)
        return total
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | float) or is_null(value):
        raise Reject(f"bad conv_metadata: {key} is {value!r}, not a count")
    if value < 0:
        raise Reject(f"bad conv_metadata: {key} is negative ({value})")
    return float(value)


def meta_columns(conv_metadata: Any, *, strict: bool) -> dict[str, float]:
    """``meta_*`` values from LMArena ``conv_metadata``.

    ``strict`` (metadata-only records, where these numbers are all there is): a missing or malformed
    field rejects the record. Otherwise (records with texts) missing fields are left null.
    """
    cm = maybe_json(conv_metadata)
    if is_null(cm):
        if strict:
            raise Reject("missing conv_metadata: metadata-only record has no conv_metadata")
        return {}
    if not isinstance(cm, dict):
        raise Reject(f"bad conv_metadata: expected an object, got {type(cm).__name__}")
    out: dict[str, float] = {}
    for col, key in META_SOURCES.items():
        v = cm.get(key)
        if is_null(v):
            if strict:
                raise Reject(f"bad conv_metadata: {key} is missing")
            continue
        out[col] = count(v, key)
    return out


def flat_name(parts: Iterable[str]) -> str:
    """Column name for a nested tag: ``category_tag.criteria_v0.1.specificity`` -> ``category_criteria_specificity``."""
    parts = list(parts)
    head = parts[0].removesuffix("_tag")
    rest = [_VERSION_SUFFIX.sub("", p) for p in parts[1:]]
    return "_".join([head, *rest]).replace("-", "_").replace("/", "_").replace(" ", "_")


def flatten(name: str, value: Any) -> dict[str, Any]:
    """Scalar leaves of a nested tag object (``category_tag``, ``dedup_tag``) as flat extra columns."""
    value = maybe_json(value)
    out: dict[str, Any] = {}

    def walk(path: list[str], v: Any) -> None:
        if isinstance(v, dict):
            for k, sub in v.items():
                walk([*path, str(k)], sub)
        elif v is None or isinstance(v, bool | int | float | str):
            out[flat_name(path)] = v

    if isinstance(value, dict):
        walk([name], value)
    return out


def join_turns(texts: list[str]) -> str:
    return TURN_SEPARATOR.join(texts)


# Texts and names are checked by their rules; every other string kept (ids, judge, extras) is checked here,
# so undecodable bytes never reach a table that is later written as UTF-8.
_CHECKED = frozenset({"prompt", "response_a", "response_b", "model_a", "model_b"})


def check_strings(row: dict[str, Any]) -> None:
    """Reject a row whose field names or other text values are not valid Unicode."""
    for key, value in row.items():
        if SURROGATE.search(key):
            raise Reject("invalid text: a field name is not valid Unicode")
        if isinstance(value, str) and key not in _CHECKED and SURROGATE.search(value):
            raise Reject(f"invalid text: {key} is not valid Unicode (undecodable bytes or lone surrogates)")


def battle_row(row: dict[str, Any], has_meta: bool) -> dict[str, Any]:
    """A canonical row of a battle table built outside the loaders, by the loaders' rules.

    Names and vote as :func:`pair_names` / :func:`vote` (the canonical ``winner`` and ``pref_a`` are
    written back); responses as :func:`text` (hidden reasoning stripped), or missing when the row has
    style metadata to be rated from; every other string as :func:`check_strings`.
    """
    a, b = pair_names(row.get("model_a"), row.get("model_b"))
    winner, pref = vote(row.get("winner"), row.get("pref_a"))
    out = {**row, "model_a": a, "model_b": b, "winner": winner, "pref_a": pref}
    if not is_null(row.get("prompt")):
        text(row["prompt"], "prompt")
    for side in ("a", "b"):
        key = f"response_{side}"
        if is_null(row.get(key)):
            if not has_meta:
                raise Reject(f"missing response: {key} is missing")
            out[key] = None
        else:
            out[key] = text(row[key], key, response=True)
    check_strings(out)
    return out


def validate_battles(df: pd.DataFrame, *, source: str = "<DataFrame>") -> BattleSet:
    """Check a battle table built outside the loaders (e.g. by a pipeline) and return it as a BattleSet.

    Every row goes through :func:`battle_row`, the rules the loaders apply; a row that breaks one is moved
    to the rejects ledger with the same reason a loader would give. Raises :class:`DataError` only when a
    required column is missing altogether.
    """
    missing = [c for c in ("model_a", "model_b") if c not in df.columns]
    if "winner" not in df.columns and "pref_a" not in df.columns:
        missing.append("winner or pref_a")
    if missing:
        raise DataError(f"battle table lacks required column(s): {', '.join(missing)}", file=source)
    work = df.reset_index(drop=True)
    if "battle_id" not in work.columns:
        work = work.assign(battle_id=[f"{source}#{i + 1}" for i in range(len(work))])
    has_meta = all(c in work.columns for c in ("meta_tokens_a", "meta_tokens_b"))
    ledger = Ledger(source, "dataframe")
    kept: list[dict[str, Any]] = []
    numbers: list[int] = []
    for i, row in enumerate(work.to_dict("records"), 1):
        try:
            kept.append(battle_row(row, has_meta))
            numbers.append(i)
        except Reject as exc:
            ledger.reject(i, str(exc))
    battles = work.iloc[np.asarray(numbers, dtype=np.int64) - 1].reset_index(drop=True)
    for col in ("model_a", "model_b", "winner", "pref_a", "response_a", "response_b"):
        battles[col] = pd.Series([r[col] for r in kept], dtype=object if col != "pref_a" else np.float64)
    if "source_file" in battles.columns:
        battles["source_file"] = battles["source_file"].fillna(source)
    ledger.accept_frame(battles, np.asarray(numbers, dtype=np.int64))
    return ledger.to_battleset()
