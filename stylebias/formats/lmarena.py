"""LMArena / FastChat battles: conversations, the 140k typed-content release, and metadata-only files.

Schemas (published by LMArena/LMSYS; see docs/formats.md for the sources):

* ``lmsys/chatbot_arena_conversations`` and FastChat ``clean_battle`` with conversations: ``question_id,
  model_a, model_b, winner, judge, conversation_a, conversation_b, turn, anony, language, tstamp`` where a
  conversation is a list of ``{role, content}``; winner ``model_a | model_b | tie | tie (bothbad)``.
* ``lmarena-ai/arena-human-preference-100k``: the same plus ``conv_metadata, is_code, is_refusal,
  dedup_tag, category_tag`` (nested fields may be stored as JSON text).
* ``lmarena-ai/arena-human-preference-140k``: ``id, evaluation_session_id, evaluation_order, timestamp``,
  message ``content`` is a list of typed parts ``{type: "text", text}``, winner ``both_bad``.
* metadata-only (FastChat's public ``clean_battle`` release, the 100k file without texts): no
  conversations, but ``conv_metadata`` with ``sum_assistant_a_tokens``, ``header_count_a {h1..h6}``,
  ``list_count_a {ordered, unordered}``, ``bold_count_a {**, __}`` and the ``_b`` twins (ints or
  dicts/structs, summed like FastChat's ``construct_style_matrices``).

The file's mode comes from its first record: ``text`` (has conversations), ``meta`` (no conversations but
``conv_metadata``) or ``votes`` (neither: ratings without style). Text records go through
:func:`convert` one by one. Metadata-only Parquet and JSONL go through :func:`_bulk`, a vectorised path
(pyarrow + numpy) that accepts every row passing all checks at once and sends the rest to :func:`convert`,
so both paths give the same rows and the same reject reasons.
"""

from __future__ import annotations

import datetime as _dt
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..battles import PREF_FROM_WINNER, BattleSet, Ledger
from . import _io
from ._base import LoadContext, feed, file_progress, load_records, progress_total
from ._fields import (
    META_SOURCES,
    WINNER_LABELS,
    Reject,
    content_text,
    flat_name,
    flatten,
    is_null,
    join_turns,
    maybe_json,
    meta_columns,
    pair_names,
    winner_label,
)

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
_140K_KEYS = {"evaluation_session_id", "evaluation_order", "full_conversation"}
_HINT_KEYS = {"conversation_a", "conv_metadata", "question_id", "judge", "tstamp", "anony", "turn"}


def detect(keys: set[str]) -> str | None:
    """``"lmarena"`` or ``"arena140k"`` when the first record's keys match, else ``None``."""
    if not {"model_a", "model_b", "winner"} <= keys or "response_a" in keys:
        return None
    if keys & _140K_KEYS:
        return "arena140k"
    if keys & _HINT_KEYS:
        return "lmarena"
    return None


def record_mode(rec: dict[str, Any]) -> str:
    if not is_null(rec.get("conversation_a")) or not is_null(rec.get("conversation_b")):
        return "text"
    if not is_null(rec.get("conv_metadata")):
        return "meta"
    return "votes"


# ------------------------------------------------------------------------------------------ per record


def _conversation(conv: Any, side: str) -> tuple[list[str], list[str]]:
    conv = maybe_json(conv)
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
            users.append(
                content_text(msg.get("content"), f"prompt (conversation_{side} message {k})", response=False)
            )
        elif role == "assistant":
            bots.append(content_text(msg.get("content"), f"response_{side} (message {k})", response=True))
        elif role == "system":
            continue
        else:
            raise Reject(f"malformed conversation: conversation_{side} message {k} has role {role!r}")
    if not bots:
        raise Reject(f"missing response: conversation_{side} has no assistant message")
    return users, bots


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
        users_a, bots_a = _conversation(rec.get("conversation_a"), "a")
        users_b, bots_b = _conversation(rec.get("conversation_b"), "b")
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


# ------------------------------------------------------------------------------------------ vectorised


def _string_array(table: Any, name: str) -> Any | None:
    import pyarrow as pa

    if name not in table.column_names:
        return None
    col = table.column(name).combine_chunks()
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return col
    return None


def _count_array(col: Any) -> np.ndarray:
    """A style-count array as float64, NaN where FastChat's rule cannot give a count (-> per-record path)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = col.type
    if pa.types.is_struct(t):
        total = np.zeros(len(col))
        for i in range(t.num_fields):
            total += _count_array(pc.struct_field(col, [i]))
        if col.null_count:
            total[np.asarray(col.is_null(), dtype=bool)] = np.nan
        return total
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        vals = np.array(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), dtype="float64")
        vals[vals < 0] = np.nan
        return vals
    return np.full(len(col), np.nan)


def _struct_column(table: Any, name: str) -> Any | None:
    """A struct column, parsing JSON text into structs when the release stored it as a string."""
    import pyarrow as pa
    import pyarrow.json as pj

    if name not in table.column_names:
        return None
    col = table.column(name).combine_chunks()
    if pa.types.is_struct(col.type):
        return col
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        lines = col.fill_null("{}").to_pylist()
        if any("\n" in s or not s.lstrip().startswith("{") for s in lines):
            return None
        try:
            parsed = pj.read_json(io.BytesIO("\n".join(lines).encode("utf-8")))
        except Exception:  # noqa: BLE001 - any parse failure sends the rows to the per-record path
            return None
        if parsed.num_rows != len(col):
            return None
        struct = pa.StructArray.from_arrays(
            [c.combine_chunks() for c in parsed.columns], names=parsed.column_names
        )
        # rows that were null stay null
        return pa.StructArray.from_arrays(
            [struct.field(i) for i in range(struct.type.num_fields)],
            names=parsed.column_names,
            mask=col.is_null(),
        )
    return None


def _flatten_struct(prefix: list[str], col: Any, out: dict[str, Any]) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    for i in range(col.type.num_fields):
        field = col.type.field(i)
        child = pc.struct_field(col, [i])
        if pa.types.is_struct(field.type):
            _flatten_struct([*prefix, field.name], child, out)
        elif not (pa.types.is_nested(field.type) or pa.types.is_binary(field.type)):
            out[flat_name([*prefix, field.name])] = child.to_pandas(types_mapper=None)


def _bulk(table: Any, numbers: np.ndarray, mode: str, ctx: LoadContext, ledger: Ledger) -> None:
    """Account for a block of metadata-only rows: vectorised checks, per-record path for the rest."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    if not n:
        return
    good = np.ones(n, dtype=bool)
    a, b, w = (_string_array(table, c) for c in ("model_a", "model_b", "winner"))
    if a is None or b is None or w is None:
        good[:] = False
    else:
        for col in (a, b):
            empty = pc.or_kleene(pc.is_null(col), pc.equal(pc.utf8_trim_whitespace(col), ""))
            good &= ~np.asarray(empty.fill_null(True), dtype=bool)
        good &= ~np.asarray(pc.equal(a, b).fill_null(True), dtype=bool)
        good &= np.asarray(pc.is_in(w, value_set=pa.array(list(WINNER_LABELS))).fill_null(False), dtype=bool)
    metas: dict[str, np.ndarray] = {}
    if mode == "meta":
        cm = _struct_column(table, "conv_metadata")
        if cm is None:
            good[:] = False
        else:
            names = {cm.type.field(i).name for i in range(cm.type.num_fields)}
            for col, key in META_SOURCES.items():
                vals = _count_array(pc.struct_field(cm, [key])) if key in names else np.full(n, np.nan)
                good &= ~np.isnan(vals)
                metas[col] = vals
    extras: dict[str, Any] = {}
    for key in SCALAR_EXTRAS:
        if key in table.column_names:
            col = table.column(key)
            if not pa.types.is_nested(col.type) and not pa.types.is_binary(col.type):
                extras[key] = col.to_pandas()
    for key in TAG_FIELDS:
        if key in table.column_names:
            tag = _struct_column(table, key)
            if tag is None:
                if table.column(key).null_count != n:
                    good[:] = False  # unparseable tags: let the per-record path say which rows
            else:
                _flatten_struct([key], tag, extras)

    idx = np.flatnonzero(good)
    if len(idx):
        frame = pd.DataFrame(
            {
                "battle_id": _ids(table, numbers, ctx),
                "model_a": a.to_pandas(),  # type: ignore[union-attr]
                "model_b": b.to_pandas(),  # type: ignore[union-attr]
                "winner": w.to_pandas().map(WINNER_LABELS),  # type: ignore[union-attr]
                "judge": _judge(table, ctx),
                "language": _optional_strings(table, "language"),
                "turns": _turns(table, mode),
            }
        )
        frame["pref_a"] = frame["winner"].map(PREF_FROM_WINNER).astype("float64")
        for col, vals in metas.items():
            frame[col] = vals
        for col, vals in extras.items():
            frame[col] = vals.to_numpy() if hasattr(vals, "to_numpy") else vals
        frame = frame.iloc[idx] if len(idx) < n else frame
    bad = np.flatnonzero(~good)
    if not len(bad):
        ledger.accept_frame(frame, numbers)
        return
    # Rows the vectorised checks did not pass: the per-record path decides (and words the reason).
    sub = Ledger(ledger.file, ledger.format)
    bad_rows = table.take(pa.array(bad)).to_pylist()
    feed(sub, zip(numbers[bad].tolist(), bad_rows, strict=True), _converter(mode, ctx))
    parts = [frame] if len(idx) else []
    numbers_ok = list(numbers[idx]) if len(idx) else []
    extra = sub.to_battleset()
    if len(extra.battles):
        extra_frame = extra.battles.drop(columns=["source_file"])
        parts.append(extra_frame.drop(columns=["source_record"]))
        numbers_ok += list(extra.battles["source_record"])
    if parts:
        merged = pd.concat(parts, ignore_index=True)
        order = np.argsort(np.asarray(numbers_ok), kind="stable")
        ledger.accept_frame(merged.iloc[order], np.asarray(numbers_ok)[order])
    for rec in extra.rejects.itertuples(index=False):
        ledger.reject(rec.record, rec.reason)


def _ids(table: Any, numbers: np.ndarray, ctx: LoadContext) -> Any:
    fallback = pd.Series([f"{ctx.file}#"] * len(numbers), dtype="str") + pd.Series(numbers).astype("str")
    for key in ID_KEYS:
        if key in table.column_names:
            ids = table.column(key).to_pandas()
            ids = ids.astype("str").where(ids.notna() & (ids.astype("str") != ""), None)
            return ids.fillna(fallback).astype("str").to_numpy()
    return fallback.to_numpy()


def _optional_strings(table: Any, name: str) -> Any:
    col = _string_array(table, name)
    return col.to_pandas().to_numpy() if col is not None else None


def _judge(table: Any, ctx: LoadContext) -> Any:
    col = _string_array(table, "judge")
    if col is None:
        return ctx.judge
    judge = col.to_pandas()
    return judge.fillna(ctx.judge).to_numpy() if ctx.judge is not None else judge.to_numpy()


def _turns(table: Any, mode: str) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    if "turn" in table.column_names and pa.types.is_integer(table.column("turn").type):
        return table.column("turn").to_pandas().to_numpy()
    if mode == "meta" and "conv_metadata" in table.column_names:
        cm = table.column("conv_metadata").combine_chunks()
        if pa.types.is_struct(cm.type) and cm.type.get_field_index("turns") >= 0:
            t = pc.struct_field(cm, ["turns"])
            if pa.types.is_integer(t.type):
                return t.to_pandas().to_numpy()
    return None


# ------------------------------------------------------------------------------------------ file level


def _converter(mode: str, ctx: LoadContext) -> Any:
    def run(rec: dict[str, Any], number: int) -> dict[str, Any]:
        return convert(rec, number, mode=mode, ctx=ctx)

    return run


def _first_record(path: Path, container: str, ctx: LoadContext) -> dict[str, Any] | None:
    from ._base import iter_records

    for i, (_, rec) in enumerate(iter_records(path, container, ctx)):
        if isinstance(rec, dict):
            return rec
        if i >= 100:
            break
    return None


def load(path: Path, container: str, ctx: LoadContext, fmt: str = "lmarena") -> BattleSet:
    first = _first_record(path, container, ctx)
    mode = record_mode(first) if first is not None else "text"
    if mode != "text" and container == "parquet":
        return _load_parquet_bulk(path, mode, ctx, fmt)
    if mode != "text" and container == "json" and _is_jsonl(path):
        return _load_jsonl_bulk(path, mode, ctx, fmt)
    return load_records(path, container, fmt, ctx, _converter(mode, ctx))


def _is_jsonl(path: Path) -> bool:
    with _io.open_binary(path) as (stream, _):
        head = stream.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] == b"{"


_BULK_COLUMNS = (
    "model_a",
    "model_b",
    "winner",
    *ID_KEYS,
    "judge",
    "language",
    "turn",
    "conv_metadata",
    *SCALAR_EXTRAS,
    *TAG_FIELDS,
)


def _load_parquet_bulk(path: Path, mode: str, ctx: LoadContext, fmt: str) -> BattleSet:
    import pyarrow as pa

    pf = _io.parquet_file(path)
    names = set(pf.schema_arrow.names)
    columns = [c for c in _BULK_COLUMNS if c in names]
    ledger = Ledger(ctx.file, fmt)
    offset = 0
    with file_progress(path, ctx.file, progress_total(path, "parquet")) as update:
        try:
            for batch in pf.iter_batches(batch_size=1 << 18, columns=columns):
                table = pa.Table.from_batches([batch])
                numbers = np.arange(offset + 1, offset + table.num_rows + 1)
                _bulk(table, numbers, mode, ctx, ledger)
                offset += table.num_rows
                update(offset)
        except Exception as exc:
            if isinstance(exc, Reject):
                raise
            from ..errors import DataError

            raise DataError(f"Parquet file unreadable after row {offset}: {exc}", file=ctx.file) from exc
    return ledger.to_battleset()


_JSONL_CHUNK = 32 << 20


def _load_jsonl_bulk(path: Path, mode: str, ctx: LoadContext, fmt: str) -> BattleSet:
    """JSONL in ~32 MiB blocks of whole lines: each clean block is parsed by pyarrow and checked in bulk;
    a block with a blank, oversized or malformed line goes through the per-line reader instead."""
    import pyarrow.json as pj

    ledger = Ledger(ctx.file, fmt)
    limit = ctx.max_record_bytes
    conv = _converter(mode, ctx)
    with file_progress(path, ctx.file, float(path.stat().st_size)) as update:
        with _io.open_binary(path) as (stream, tell):
            line0 = 0  # lines before the current block
            carry = b""
            while True:
                data = stream.read(_JSONL_CHUNK)
                eof = not data
                data = carry + data
                if not data:
                    break
                cut = len(data) if eof else data.rfind(b"\n") + 1
                if cut == 0:
                    if len(data) > limit + 2:
                        # one line longer than the limit and still going: stream the rest per line
                        _per_line(_io._Prepend(data, stream), line0, limit, conv, ledger)
                        break
                    carry = data
                    continue
                block, carry = data[:cut], data[cut:]
                nlines = _bulk_block(block, line0, mode, ctx, ledger, conv, limit, pj)
                line0 += nlines
                update(tell())
                if eof:
                    break
    return ledger.to_battleset()


def _bulk_block(
    block: bytes, line0: int, mode: str, ctx: LoadContext, ledger: Ledger, conv: Any, limit: int, pj: Any
) -> int:
    arr = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(arr == 10)
    if not block.endswith(b"\n"):
        ends = np.append(ends, len(block))
    nlines = len(ends)
    lengths = np.diff(np.concatenate(([-1], ends))) - 1
    clean = (
        nlines > 0 and lengths.min() > 1 and lengths.max() <= limit and not block.startswith(b"\xef\xbb\xbf")
    )
    if clean:
        try:
            block.decode(
                "utf-8"
            )  # pyarrow.json lets invalid UTF-8 through in keys; the per-line reader names it
            table = pj.read_json(io.BytesIO(block))
        except Exception:  # noqa: BLE001 - malformed lines: the per-line reader names them
            table = None
        if table is not None and table.num_rows == nlines:
            _bulk(table, np.arange(line0 + 1, line0 + nlines + 1), mode, ctx, ledger)
            return nlines
    _per_line(io.BytesIO(block), line0, limit, conv, ledger)
    return nlines


def _per_line(stream: Any, line0: int, limit: int, conv: Any, ledger: Ledger) -> None:
    records = ((line0 + k, rec) for k, rec in _io._iter_lines(stream, lambda: 0, limit, None))
    feed(ledger, records, conv)
