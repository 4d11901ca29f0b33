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
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..battles import PREF_FROM_WINNER, BattleSet, Ledger
from ..rows import (
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
from . import _io
from ._base import LoadContext, feed, file_progress, load_records, progress_total

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
#
# Metadata-only rows are checked column-wise with pyarrow. Rows passing every check become one Arrow table
# per block (canonical columns in canonical order), converted to pandas once at the end of the file; rows
# failing any check go through :func:`convert`, which accepts or rejects them with the exact reason.


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
        return pa.StructArray.from_arrays(
            [c.combine_chunks() for c in parsed.columns], names=parsed.column_names, mask=col.is_null()
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
            out[flat_name([*prefix, field.name])] = child


#: Canonical winner codes (index into battles.WINNERS) for each source label, in WINNER_LABELS order.
_LABELS = list(WINNER_LABELS)
_LABEL_CODES = np.array([list(PREF_FROM_WINNER).index(WINNER_LABELS[lab]) for lab in _LABELS], dtype=np.int8)
_CODE_PREF = np.array(list(PREF_FROM_WINNER.values()))


class _BulkSink:
    """Collects one file's bulk-accepted Arrow blocks and the per-record results for the other rows."""

    def __init__(self, ledger: Ledger, mode: str, ctx: LoadContext) -> None:
        self.ledger = ledger
        self.ctx = ctx
        self.convert = _converter(mode, ctx)
        self.tables: list[Any] = []
        self.numbers: list[np.ndarray] = []
        self.codes: list[np.ndarray] = []
        self.slow = Ledger(ledger.file, ledger.format)

    def add(self, table: Any, numbers: np.ndarray, codes: np.ndarray) -> None:
        if table.num_rows:
            self.tables.append(table)
            self.numbers.append(numbers)
            self.codes.append(codes)

    def per_record(self, records: Any) -> None:
        feed(self.slow, records, self.convert)

    def finish(self) -> BattleSet:
        import pyarrow as pa

        frames, numbers = [], []
        if self.tables:
            try:
                frame = pa.concat_tables(self.tables, promote_options="permissive").to_pandas()
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # blocks disagree on an extra column's type
                frame = pd.concat([t.to_pandas() for t in self.tables], ignore_index=True)
            self.tables = []
            pa.default_memory_pool().release_unused()
            codes = np.concatenate(self.codes)
            frame.insert(6, "winner", pd.Categorical.from_codes(codes, categories=list(PREF_FROM_WINNER)))
            frame.insert(7, "pref_a", _CODE_PREF[codes])
            frames.append(frame)
            numbers.append(np.concatenate(self.numbers))
        slow = self.slow.to_battleset()
        if len(slow.battles):
            frames.append(slow.battles.drop(columns=["source_file", "source_record"]))
            numbers.append(slow.battles["source_record"].to_numpy())
        if frames:
            merged = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
            nums = np.concatenate(numbers)
            if len(frames) > 1:
                order = np.argsort(nums, kind="stable")
                merged, nums = merged.iloc[order].reset_index(drop=True), nums[order]
            self.ledger.accept_frame(merged, nums)
        if len(slow.rejects):
            self.ledger.reject_many(slow.rejects["record"].to_numpy(), slow.rejects["reason"].tolist())
        return self.ledger.to_battleset()


def _bulk(table: Any, numbers: np.ndarray, mode: str, ctx: LoadContext, sink: _BulkSink) -> None:
    """Account for a block of metadata-only rows: vectorised checks, per-record path for the rest."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    if not n:
        return
    good = np.ones(n, dtype=bool)
    a, b, w = (_string_array(table, c) for c in ("model_a", "model_b", "winner"))
    codes = np.zeros(n, dtype=np.int8)
    if a is None or b is None or w is None:
        good[:] = False
    else:
        for col in (a, b):
            empty = pc.or_kleene(pc.is_null(col), pc.equal(pc.utf8_trim_whitespace(col), ""))
            good &= ~np.asarray(empty.fill_null(True), dtype=bool)
        good &= ~np.asarray(pc.equal(a, b).fill_null(True), dtype=bool)
        idx = np.asarray(pc.index_in(w, value_set=pa.array(_LABELS)).fill_null(-1), dtype=np.int64)
        good &= idx >= 0
        codes = _LABEL_CODES[np.where(idx >= 0, idx, 0)]
    cols: dict[str, Any] = {}
    if mode == "meta":
        cm = _struct_column(table, "conv_metadata")
        if cm is None:
            good[:] = False
        else:
            names = {cm.type.field(i).name for i in range(cm.type.num_fields)}
            for col, key in META_SOURCES.items():
                vals = _count_array(pc.struct_field(cm, [key])) if key in names else np.full(n, np.nan)
                good &= ~np.isnan(vals)
                cols[col] = pa.array(vals)
    for key in SCALAR_EXTRAS:
        if key in table.column_names:
            col = table.column(key)
            if not pa.types.is_nested(col.type) and not pa.types.is_binary(col.type):
                cols[key] = col
    for key in TAG_FIELDS:
        if key in table.column_names:
            tag = _struct_column(table, key)
            if tag is None:
                if table.column(key).null_count != n:
                    good[:] = False  # unparseable tags: let the per-record path say which rows
            else:
                _flatten_struct([key], tag, cols)

    if good.any():
        mask = pa.array(good)
        null_text = pa.nulls(n, pa.string())
        canonical = {
            "battle_id": _ids(table, numbers, ctx),
            "model_a": a,
            "model_b": b,
            "prompt": null_text,
            "response_a": null_text,
            "response_b": null_text,
            "turns": _turns(table, mode, n),
            "judge": _optional_strings(table, "judge", n, ctx.judge),
            "language": _optional_strings(table, "language", n, None),
        }
        out = pa.table({**canonical, **cols})
        sink.add(out.filter(mask) if not good.all() else out, numbers[good], codes[good])
    bad = np.flatnonzero(~good)
    if len(bad):
        rows = table.take(pa.array(bad)).to_pylist()
        sink.per_record(zip(numbers[bad].tolist(), rows, strict=True))


def _ids(table: Any, numbers: np.ndarray, ctx: LoadContext) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    fallback = None
    for key in ID_KEYS:
        if key not in table.column_names:
            continue
        ids = table.column(key).combine_chunks()
        if not (pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type)):
            if pa.types.is_nested(ids.type) or pa.types.is_binary(ids.type):
                continue
            ids = pc.cast(ids, pa.string())
        missing = pc.or_kleene(pc.is_null(ids), pc.equal(ids, "")).fill_null(True)
        if not pc.any(missing).as_py():
            return ids
        fallback = _fallback_ids(numbers, ctx)
        return pc.if_else(missing, fallback, ids)
    return fallback if fallback is not None else _fallback_ids(numbers, ctx)


def _fallback_ids(numbers: np.ndarray, ctx: LoadContext) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(f"{ctx.file}#", pc.cast(pa.array(numbers), pa.string()), "")


def _optional_strings(table: Any, name: str, n: int, default: str | None) -> Any:
    import pyarrow as pa

    col = _string_array(table, name)
    if col is None:
        return pa.array([default] * n, pa.string()) if default is not None else pa.nulls(n, pa.string())
    return col.fill_null(default) if default is not None else col


def _turns(table: Any, mode: str, n: int) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    if "turn" in table.column_names and pa.types.is_integer(table.column("turn").type):
        return table.column("turn").combine_chunks()
    if mode == "meta" and "conv_metadata" in table.column_names:
        cm = table.column("conv_metadata").combine_chunks()
        if pa.types.is_struct(cm.type) and cm.type.get_field_index("turns") >= 0:
            t = pc.struct_field(cm, ["turns"])
            if pa.types.is_integer(t.type):
                return t
    return pa.nulls(n, pa.int64())


# ------------------------------------------------------------------------------------------ file level


def _converter(mode: str, ctx: LoadContext) -> Any:
    def run(rec: dict[str, Any], number: int) -> dict[str, Any]:
        return convert(rec, number, mode=mode, ctx=ctx)

    return run


def _first_record(path: Path, container: str, ctx: LoadContext) -> dict[str, Any] | None:
    from ._base import iter_records

    if container == "parquet":
        # only the columns that decide the mode: never decode a whole row group of texts for this
        pf = _io.parquet_file(path)
        names = [
            c for c in ("conversation_a", "conversation_b", "conv_metadata") if c in pf.schema_arrow.names
        ]
        if not names:
            return {}
        for batch in pf.iter_batches(batch_size=1, columns=names):
            if batch.num_rows:
                return batch.slice(0, 1).to_pylist()[0]
        return None
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
    if mode != "text" and container == "json":
        if _is_jsonl(path):
            return _load_jsonl_bulk(path, mode, ctx, fmt)
        return _load_array_bulk(path, mode, ctx, fmt)
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
    sink = _BulkSink(Ledger(ctx.file, fmt), mode, ctx)
    offset = 0
    with file_progress(path, ctx.file, progress_total(path, "parquet")) as update:
        try:
            for batch in pf.iter_batches(batch_size=1 << 18, columns=columns):
                table = pa.Table.from_batches([batch])
                _bulk(table, np.arange(offset + 1, offset + table.num_rows + 1), mode, ctx, sink)
                offset += table.num_rows
                del table, batch
                pa.default_memory_pool().release_unused()  # hand decoded-but-dropped buffers back to the OS
                update(offset)
        except (OSError, pa.ArrowException) as exc:
            from ..errors import DataError

            raise DataError(f"Parquet file unreadable after row {offset}: {exc}", file=ctx.file) from exc
    return sink.finish()


_JSONL_CHUNK = 32 << 20


def _load_jsonl_bulk(path: Path, mode: str, ctx: LoadContext, fmt: str) -> BattleSet:
    """JSONL in ~32 MiB blocks of whole lines: each clean block is parsed by pyarrow and checked in bulk;
    a block with a blank, oversized or malformed line goes through the per-line reader instead."""
    sink = _BulkSink(Ledger(ctx.file, fmt), mode, ctx)
    limit = ctx.max_record_bytes
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
                        _per_line(_io.Prepend(data, stream), line0, limit, sink)
                        break
                    carry = data
                    continue
                block, carry = data[:cut], data[cut:]
                line0 += _bulk_block(block, line0, mode, ctx, sink, limit)
                update(tell())
                if eof:
                    break
    return sink.finish()


def _bulk_block(block: bytes, line0: int, mode: str, ctx: LoadContext, sink: _BulkSink, limit: int) -> int:
    """Account for the lines of one block; returns how many lines it held."""
    import pyarrow.json as pj

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
            _bulk(table, np.arange(line0 + 1, line0 + nlines + 1), mode, ctx, sink)
            return nlines
    _per_line(io.BytesIO(block), line0, limit, sink)
    return nlines


def _per_line(stream: Any, line0: int, limit: int, sink: _BulkSink) -> None:
    sink.per_record((line0 + k, rec) for k, rec in _io.iter_lines(stream, lambda: 0, limit, None))


class _Restart(Exception):
    """The pretty-array fast path cannot continue (an element longer than the limit): use the batch path."""


def _load_array_bulk(path: Path, mode: str, ctx: LoadContext, fmt: str) -> BattleSet:
    """One big JSON array of metadata-only battles (FastChat's public ``clean_battle`` release).

    Pretty-printed arrays (``json.dump(..., indent=2)``, one element per indented block) are cut into
    blocks at the top-level separator ``",\\n" + indent + "{"`` -- unambiguous because JSON strings hold no raw
    newline and nested objects sit deeper -- and each block is rewritten as JSONL for pyarrow's parser.
    Other arrays are decoded element by element and converted to Arrow in batches. Either way the checks
    are the vectorised ones, and any element pyarrow cannot take goes through the per-record path.
    """
    try:
        return _pretty_array(path, mode, ctx, fmt)
    except _Restart:
        return _array_batches(path, mode, ctx, fmt)


def _pretty_array(path: Path, mode: str, ctx: LoadContext, fmt: str) -> BattleSet:
    sink = _BulkSink(Ledger(ctx.file, fmt), mode, ctx)
    limit = ctx.max_record_bytes
    with file_progress(path, ctx.file, float(path.stat().st_size)) as update:
        with _io.open_binary(path) as (stream, tell):
            data = stream.read(_JSONL_CHUNK)
            body = data.lstrip(b"\xef\xbb\xbf \t\r\n")
            start = len(data) - len(body) + 1  # just after '['
            first = start + len(data[start:]) - len(data[start:].lstrip(b" \t\r\n"))
            gap = data[start:first]
            if not body.startswith(b"[") or data[first : first + 1] != b"{" or b"\n" not in gap:
                raise _Restart  # compact, empty or not an array of objects
            newline = b"\r\n" if gap.endswith(b"\r\n") or b"\r\n" in gap else b"\n"
            indent = gap[gap.rfind(b"\n") + 1 :]
            sep = b"," + newline + indent + b"{"
            data = data[first:]
            n0 = 0
            while True:
                more = stream.read(_JSONL_CHUNK)
                data += more
                if not more:
                    tail = data.rstrip(b" \t\r\n")
                    if tail.endswith(b"]"):
                        tail = tail[:-1].rstrip(b" \t\r\n")
                    else:
                        import warnings

                        from ..errors import StyleBiasWarning

                        warnings.warn(
                            f"{ctx.file}: JSON array ends without ']': the file may be truncated",
                            StyleBiasWarning,
                            stacklevel=4,
                        )
                    if tail:
                        n0 += _array_block(tail, sep, n0, mode, ctx, sink, limit)
                    break
                cut = data.rfind(sep)
                if cut < 0:
                    if len(data) > limit + 2 * _JSONL_CHUNK:
                        raise _Restart
                    continue
                block, data = data[:cut], data[cut + len(sep) - 1 :]
                n0 += _array_block(block, sep, n0, mode, ctx, sink, limit)
                update(tell())
    return sink.finish()


#: Newlines inside an element are JSON whitespace (strings hold none raw): blank them, then turn the
#: element separators (marked with NUL, which valid JSON text never contains raw) into line breaks.
_FLATTEN = bytes.maketrans(b"\r\n\x00", b"  \n")


def _array_block(
    block: bytes, sep: bytes, n0: int, mode: str, ctx: LoadContext, sink: _BulkSink, limit: int
) -> int:
    """Account for the elements of one block of a pretty-printed array; returns how many it held."""
    import pyarrow.json as pj

    if b"\x00" in block:
        flat = None
    else:
        flat = block.replace(sep, b"\x00{").translate(_FLATTEN)
    elements = flat.split(b"\n") if flat is not None else block.split(sep)
    if flat is None:
        elements = [elements[0]] + [b"{" + e for e in elements[1:]]
    count = len(elements)
    numbers = np.arange(n0 + 1, n0 + count + 1)
    if flat is not None and max(len(e) for e in elements) <= limit:
        try:
            flat.decode("utf-8")
            table = pj.read_json(io.BytesIO(flat))
        except Exception:  # noqa: BLE001 - a broken element: the per-element path names it
            table = None
        if table is not None and table.num_rows == count:
            _bulk(table, numbers, mode, ctx, sink)
            return count
    sink.per_record((int(k), _parse_element(e, limit)) for k, e in zip(numbers, elements, strict=True))
    return count


def _parse_element(element: bytes, limit: int) -> Any:
    if len(element) > limit:
        return _io.too_large(len(element), limit)
    try:
        return json.loads(element)
    except UnicodeDecodeError as exc:
        return _io.Bad(f"malformed JSON: invalid UTF-8 at byte {exc.start}")
    except ValueError as exc:
        return _io.Bad(f"malformed JSON: {exc}")


def _array_batches(path: Path, mode: str, ctx: LoadContext, fmt: str, batch: int = 20_000) -> BattleSet:
    """Compact arrays: decode element by element, convert to Arrow in batches, check in bulk."""
    import pyarrow as pa

    sink = _BulkSink(Ledger(ctx.file, fmt), mode, ctx)
    pending: list[tuple[int, dict[str, Any]]] = []

    def flush() -> None:
        if not pending:
            return
        numbers = np.array([k for k, _ in pending])
        try:
            table = pa.Table.from_pylist([r for _, r in pending])
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            sink.per_record(list(pending))
        else:
            _bulk(table, numbers, mode, ctx, sink)
        pending.clear()

    with file_progress(path, ctx.file, float(path.stat().st_size)) as update:
        for k, rec in _io.iter_json_records(path, ctx.max_record_bytes, update):
            if isinstance(rec, dict):
                pending.append((k, rec))
                if len(pending) >= batch:
                    flush()
            else:
                sink.per_record([(k, rec)])
        flush()
    return sink.finish()


# ------------------------------------------------------------------------------------------ in-memory frames


def _plain_value(value: Any) -> Any:
    """numpy arrays/scalars inside a pandas cell (``datasets.to_pandas()``) as plain lists and numbers."""
    if isinstance(value, np.ndarray):
        return [_plain_value(v) for v in value.tolist()]
    if isinstance(value, list | tuple):
        return [_plain_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain_value(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def battles_from_fastchat_frame(
    df: pd.DataFrame, *, source: str = "<DataFrame>", judge: str | None = None
) -> BattleSet:
    """FastChat's in-memory battles DataFrame -> :class:`BattleSet`, with the same checks as a file.

    Accepts both shapes FastChat pipelines hold: conversations (``model_a, model_b, winner,
    conversation_a, conversation_b`` with lists of ``{role, content}``) and metadata-only (``conv_metadata``
    dicts with ``sum_assistant_a_tokens``, ``header_count_a`` ...). The mode comes from the first row, as for
    files. Every row is accepted or rejected with a reason; a rejected row is named in ``rejects`` by its
    1-based position in ``df`` (``record``) and ``source`` (``file``). Cells holding numpy arrays (as from
    ``datasets.Dataset.to_pandas()``) are read like lists.
    """
    import pyarrow as pa

    from ..errors import DataError, UsageError

    if not isinstance(df, pd.DataFrame):
        raise UsageError(f"expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in ("model_a", "model_b", "winner") if c not in df.columns]
    if missing:
        raise DataError(
            f"not a FastChat battles frame: missing column(s) {', '.join(missing)} "
            f"(columns: {', '.join(map(str, df.columns))})",
            file=source,
        )
    ctx = LoadContext(source, judge=judge)
    ledger = Ledger(source, "lmarena")
    if not len(df):
        return ledger.to_battleset()
    frame = df.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        table = None
    numbers = np.arange(1, len(frame) + 1)
    if table is not None:
        first = table.slice(0, 1).to_pylist()[0]
    else:
        first = _plain_value(frame.iloc[0].to_dict())
    mode = record_mode(first)
    if mode != "text" and table is not None:
        sink = _BulkSink(ledger, mode, ctx)
        _bulk(table, numbers, mode, ctx, sink)
        return sink.finish()
    if table is not None:
        records: Any = (
            (int(k), rec)
            for k, rec in zip(numbers, (r for b in table.to_batches(512) for r in b.to_pylist()), strict=True)
        )
    else:
        records = ((k, _plain_value(rec)) for k, rec in enumerate(frame.to_dict("records"), 1))
    feed(ledger, records, _converter(mode, ctx))
    return ledger.to_battleset()
