"""Any CSV / JSONL / JSON / Parquet table of pairwise votes, read through a layout: mapping, constants, labels.

A layout says, for each canonical column, where its value comes from: a source column (``--column
model_a=left``), or one constant for every row (``--column model_a==llama-3-70b``); and how the file's vote
labels read as canonical ones (``--label winner=left:model_a,right:model_b,tie:tie``). Canonical names present
in the file map to themselves, so a file already in the battle-table layout needs nothing. Required:
``model_a``, ``model_b`` and ``winner`` or ``pref_a`` (or both, which must agree). ``response_a`` and
``response_b`` go together: mapped, every row needs both texts; unmapped, the battles carry votes only.
Every source column not mapped is kept as an extra column when it holds scalars. A vote label that is neither
mapped nor canonical rejects the row naming the label, never guessed.

Two layouts that need no mapping at all (each also a format name, and tried by ``generic`` when the file has
no model columns):

* ``pairs``: two outputs and a 1|2 vote, no model names (LLMBar ``{input, output_1, output_2, label}``,
  AlpacaFarm-style ``preference``): A = ``output_1``, B = ``output_2``, ``1`` -> A wins, ``2`` -> B wins. The
  models are the placeholders ``output_1`` / ``output_2`` (override with ``--column model_a==NAME``): with no
  identities the file serves the vote model and style features, not ratings.
* ``model_columns``: one answer column per model, the vote naming the winning column (LMArena's
  ``Llama-3-70b-battles``: ``question, preference, llama-3-70b-instruct, not_llama, ...``). Found from the first
  records: the one column whose values are all names of two other columns (or tie labels). A = the first of the
  two in header order; model names = the column names; the vote column's value names the winning side.

The prompt of both layouts is the first of ``prompt``, ``question``, ``instruction``, ``input`` the file has.

API: ``load_battles("votes.csv", columns={"model_a": "left", ...}, constants={"judge": "crowd"},
labels={"winner": {"left": "model_a"}})``; CLI: ``--column``, ``--column NAME==VALUE``, ``--label``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from ..battles import CORE_COLUMNS, META_COLUMNS, WINNERS, BattleSet
from ..errors import DataError, UsageError
from ..rows import WINNER_LABELS, Reject, is_null, join_turns, pair_names, text, vote
from ._base import LoadContext, iter_records, load_records, peek_keys

#: Canonical columns a mapping (or a constant) may target.
MAPPABLE: tuple[str, ...] = (*(c for c in CORE_COLUMNS if not c.startswith("source_")), *META_COLUMNS)
#: Canonical columns whose labels ``labels=`` may translate.
LABELLED: tuple[str, ...] = ("winner",)
#: Formats read by this module (the layouts accept ``columns``, ``constants`` and ``labels``).
FORMATS: tuple[str, ...] = ("generic", "pairs", "model_columns")
#: Where the two preset layouts find the prompt, first present wins.
PROMPT_COLUMNS: tuple[str, ...] = ("prompt", "question", "instruction", "input")
#: ``pairs``: the vote columns, and the placeholder model names (no identities in these files).
PAIR_VOTES: tuple[str, ...] = ("label", "preference")
PAIR_OUTPUTS: tuple[str, str] = ("output_1", "output_2")
PAIR_LABELS: dict[str, str] = {"1": "model_a", "2": "model_b"}
#: Records looked at to find a ``model_columns`` layout, and the share of them whose vote must name a column.
PEEK_RECORDS = 200
MODEL_COLUMNS_SHARE = 0.9
_TIE_LABELS = frozenset(k for k, v in WINNER_LABELS.items() if v != "model_a" and v != "model_b")
_SCALARS = (bool, int, float, str)


@dataclass(frozen=True)
class Layout:
    """How one file's rows become battles: canonical -> source column, constants, vote-label translation."""

    mapping: dict[str, str]
    constants: dict[str, str] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    name: str = "generic"

    def source(self, canonical: str) -> bool:
        return canonical in self.mapping or canonical in self.constants


def detect(keys: set[str]) -> str | None:
    if {"model_a", "model_b"} <= keys and keys & {"winner", "pref_a"}:
        return "generic"
    return detect_pairs(keys)


def detect_pairs(keys: set[str]) -> str | None:
    """``pairs``: ``output_1``, ``output_2``, one vote column ``label`` / ``preference``, no model names."""
    if not set(PAIR_OUTPUTS) <= keys or len(keys & set(PAIR_VOTES)) != 1:
        return None
    if keys & {"model_a", "model_b", "generator_1", "generator_2"}:
        return None
    return "pairs"


def model_columns(
    keys: list[str], records: list[dict[str, Any]], answers: tuple[str, str] | None = None
) -> tuple[str, str, str] | None:
    """``(vote column, column of A, column of B)`` when exactly one column's values name two other columns.

    The values of the vote column must name one of two other columns of the same record (or be a tie label)
    in at least :data:`MODEL_COLUMNS_SHARE` of the records looked at (one misfit is always allowed), so one
    bad label early in the file does not hide the layout (that row is still rejected for its label).
    ``answers`` fixes the two columns; otherwise A is the first of the two in header order.
    """
    found = []
    for vote_col in keys:
        if answers and vote_col in answers:
            continue
        named: dict[str, int] = {}
        fitting = total = 0
        for rec in records:
            v = rec.get(vote_col)
            if is_null(v):
                continue
            total += 1
            if isinstance(v, str) and v != vote_col and v in rec and (answers is None or v in answers):
                named[v] = named.get(v, 0) + 1
                fitting += 1
            elif isinstance(v, str) and v in _TIE_LABELS:
                fitting += 1
        misfits = total - fitting
        if (
            total
            and len(named) == 2
            and misfits <= max(1.0, (1 - MODEL_COLUMNS_SHARE) * total)
            and misfits < fitting
        ):
            a, b = sorted(named, key=keys.index)
            found.append((vote_col, a, b))
    return found[0] if len(found) == 1 else None


def detect_records(path: Path, container: str, ctx: LoadContext) -> str | None:
    """Value-based detection (after every key-based detector failed): the ``model_columns`` layout."""
    keys, records = _peek(path, container, ctx)
    return "model_columns" if keys and model_columns(keys, records) else None


def _peek(path: Path, container: str, ctx: LoadContext) -> tuple[list[str], list[dict[str, Any]]]:
    records = [r for _, r in islice(iter_records(path, container, ctx), PEEK_RECORDS) if isinstance(r, dict)]
    keys: list[str] = []
    for r in records:
        keys.extend(k for k in r if k not in keys)
    return keys, records


def _check_user_layout(
    columns: dict[str, str], constants: dict[str, str], labels: dict[str, dict[str, str]]
) -> None:
    unknown = sorted((set(columns) | set(constants)) - set(MAPPABLE))
    if unknown:
        raise UsageError(
            f"--column: unknown canonical column(s) {', '.join(unknown)}; choose from {', '.join(MAPPABLE)}"
        )
    both = sorted(set(columns) & set(constants))
    if both:
        raise UsageError(f"--column: {', '.join(both)} given both as a source column and as a constant (==)")
    for col, table in labels.items():
        if col not in LABELLED:
            raise UsageError(f"--label: only {', '.join(LABELLED)} labels can be mapped, not {col!r}")
        bad = sorted({t for t in table.values() if t not in WINNER_LABELS})
        if bad:
            raise UsageError(
                f"--label {col}: unknown target label(s) {', '.join(bad)}; choose from {', '.join(WINNERS)}"
            )


def _prompt_column(keys: list[str] | set[str], used: set[str]) -> str | None:
    return next((c for c in PROMPT_COLUMNS if c in keys and c not in used), None)


def _preset(name: str, keys: list[str], records: list[dict[str, Any]] | None, base: Layout) -> Layout | None:
    """Fill what the ``pairs`` / ``model_columns`` layout implies and ``base`` (the user's layout) lacks."""
    mapping, constants = dict(base.mapping), dict(base.constants)
    labels = {k: dict(v) for k, v in base.labels.items()}
    if name == "pairs":
        if detect_pairs(set(keys)) is None:
            return None
        vote_col = next(c for c in PAIR_VOTES if c in keys)
        a_col, b_col = PAIR_OUTPUTS
        preset_labels = dict(PAIR_LABELS)
        names = {"model_a": a_col, "model_b": b_col}
    else:
        fixed = (
            (mapping["response_a"], mapping["response_b"])
            if {"response_a", "response_b"} <= set(mapping)
            else None
        )
        if fixed and "winner" in mapping:
            vote_col, (a_col, b_col) = mapping["winner"], fixed
        else:
            found = model_columns(keys, records or [], fixed)
            if found is None:
                return None
            vote_col, a_col, b_col = found
            if fixed:
                a_col, b_col = fixed
        preset_labels = {a_col: "model_a", b_col: "model_b"}
        names = {"model_a": a_col, "model_b": b_col}
    mapping.setdefault("response_a", a_col)
    mapping.setdefault("response_b", b_col)
    if not base.source("winner") and not base.source("pref_a"):
        mapping["winner"] = vote_col
    for side, value in names.items():
        if not base.source(side):
            constants[side] = value
    if not base.source("prompt"):
        prompt = _prompt_column(keys, {a_col, b_col, vote_col})
        if prompt:
            mapping["prompt"] = prompt
    labels["winner"] = {**preset_labels, **labels.get("winner", {})}
    return Layout(mapping, constants, labels, name)


def resolve_layout(
    keys: list[str], ctx: LoadContext, fmt: str = "generic", records: list[dict[str, Any]] | None = None
) -> Layout:
    """The layout of one file: canonical names it has, the user's columns/constants/labels, then a preset.

    Errors name what is wrong and what the file has.
    """
    columns, constants, labels = dict(ctx.columns or {}), dict(ctx.constants or {}), dict(ctx.labels or {})
    _check_user_layout(columns, constants, labels)
    mapping = {c: c for c in MAPPABLE if c in keys and c not in constants}
    mapping.update(columns)
    missing_src = sorted({src for src in columns.values() if src not in keys})
    if missing_src:
        raise DataError(
            f"column(s) {', '.join(missing_src)} not found; the file has: {', '.join(sorted(keys))}",
            file=ctx.file,
        )
    layout = Layout(mapping, constants, labels)
    if fmt in ("pairs", "model_columns"):
        preset = _preset(fmt, keys, records, layout)
        if preset is None:
            raise DataError(
                f"not a {fmt!r} layout: {_layout_help(fmt)}; the file has: {', '.join(keys)}", file=ctx.file
            )
        layout = preset
    elif not (
        layout.source("model_a")
        and layout.source("model_b")
        and (layout.source("winner") or layout.source("pref_a"))
    ):
        layout = (
            _preset("pairs", keys, records, layout)
            or _preset("model_columns", keys, records, layout)
            or layout
        )
    need = [c for c in ("model_a", "model_b") if not layout.source(c)]
    if not layout.source("winner") and not layout.source("pref_a"):
        need.append("winner or pref_a")
    if need:
        raise DataError(
            f"generic format needs column(s) {', '.join(need)} (map them with --column NAME=SOURCE, or give a "
            f"constant with --column NAME==VALUE); the file has: {', '.join(sorted(keys))}",
            file=ctx.file,
        )
    if layout.source("response_a") != layout.source("response_b"):
        raise DataError("map both response_a and response_b, or neither (votes only)", file=ctx.file)
    return layout


def _layout_help(fmt: str) -> str:
    if fmt == "pairs":
        return (
            "expected output_1, output_2 and one of label / preference, and no model_a/model_b/generator_1/2"
        )
    return (
        "expected one column whose values all name two other columns (the winning answer's column); "
        "or map them: --column response_a=COL --column response_b=COL --column winner=VOTE"
    )


def label_key(value: Any) -> str | None:
    """A vote label as text for ``labels=`` lookups: strings as written, integers (also 1.0) as digits."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or is_null(value):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None


def _count(value: Any, what: str, *, whole: bool = False) -> float | None:
    """A non-negative number (``whole``: an integer, as ``turns``); an empty cell is ``None``."""
    if is_null(value) or value == "":
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise Reject(f"bad value: {what}={value!r} is not a number") from None
    if isinstance(value, bool) or not f >= 0 or (whole and not f.is_integer()):
        raise Reject(f"bad value: {what}={value!r} is not a count")
    return f


def _optional_text(value: Any, what: str) -> str | None:
    if is_null(value):
        return None
    if isinstance(value, list):  # a list of turns
        return join_turns([text(t, f"{what} turn {k}") for k, t in enumerate(value, 1)])
    return text(value, what)


def _winner(value: Any, layout: Layout) -> Any:
    table = layout.labels.get("winner")
    if table:
        key = label_key(value)
        if key is not None and key in table:
            return table[key]
    return value


def _vote(winner: Any, pref_a: Any, layout: Layout) -> tuple[str, float]:
    try:
        return vote(winner, pref_a)
    except Reject as exc:
        if "winner" in layout.mapping and "contradicts" not in str(exc):
            known = ", ".join(repr(k) for k in layout.labels.get("winner", {})) or "none"
            raise Reject(
                f"{exc} in column {layout.mapping['winner']!r} (labels mapped: {known}; map others with "
                "--label winner=SOURCE:model_a,SOURCE:model_b,SOURCE:tie)"
            ) from None
        raise


def convert(rec: dict[str, Any], number: int, *, layout: Layout, ctx: LoadContext) -> dict[str, Any]:
    mapping, constants = layout.mapping, layout.constants

    def get(c: str) -> Any:
        if c in constants:
            return constants[c]
        return rec.get(mapping[c]) if c in mapping else None

    a, b = pair_names(get("model_a"), get("model_b"))
    winner, pref = _vote(_winner(get("winner"), layout), get("pref_a"), layout)
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
        "turns": _count(get("turns"), "turns", whole=True),
    }
    if layout.source("response_a"):
        for side in ("a", "b"):
            value = get(f"response_{side}")
            if isinstance(value, list):
                row[f"response_{side}"] = join_turns(
                    [text(t, f"response_{side} turn {k}", response=True) for k, t in enumerate(value, 1)]
                )
            else:
                row[f"response_{side}"] = text(value, f"response_{side}", response=True)
    for col in META_COLUMNS:
        if layout.source(col):
            row[col] = _count(get(col), col)
    used = set(mapping.values()) | {"source_file", "source_record"}  # provenance is this file's
    for key, value in rec.items():
        if key not in used and key not in row and (value is None or isinstance(value, _SCALARS)):
            row[key] = value
    return row


def load(path: Path, container: str, ctx: LoadContext, fmt: str = "generic") -> BattleSet:
    keys = peek_keys(path, container, ctx)
    if keys is None:
        raise DataError("no JSON object among the first records: not a table of battles", file=ctx.file)
    ordered, records = _peek(path, container, ctx)
    if container == "csv" or not ordered:
        from . import _io

        ordered = _io.csv_header(path) if container == "csv" else sorted(keys)
    layout = resolve_layout(ordered, ctx, fmt, records)
    return load_records(path, container, fmt, ctx, lambda rec, n: convert(rec, n, layout=layout, ctx=ctx))
