"""Metadata-only arena files in bulk: the per-record checks done column-wise with pyarrow.

FastChat's public ``clean_battle`` release and the metadata-only 100k file hold millions of rows without
texts, so checking them one Python dict at a time is too slow. Rows passing every check become one Arrow
table per block (canonical columns in canonical order), converted to pandas once at the end of the file;
rows failing any check go through :func:`~.lmarena_records.convert`, which accepts or rejects them with
the exact reason, so both paths give the same rows and the same reject reasons. Three readers feed the
checks: Parquet row groups, JSONL in ~32 MiB blocks of whole lines, and JSON arrays.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..battles import PREF_FROM_WINNER, BattleSet, Ledger
from ..rows import META_SOURCES, WINNER_LABELS, flat_name
from . import _io
from ._base import LoadContext, feed, file_progress, progress_total
from .lmarena_records import ID_KEYS, SCALAR_EXTRAS, TAG_FIELDS, converter


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


class BulkSink:
    """Collects one file's bulk-accepted Arrow blocks and the per-record results for the other rows."""

    def __init__(self, ledger: Ledger, mode: str, ctx: LoadContext) -> None:
        self.ledger = ledger
        self.ctx = ctx
        self.convert = converter(mode, ctx)
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


def check_block(table: Any, numbers: np.ndarray, mode: str, ctx: LoadContext, sink: BulkSink) -> None:
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


def load_parquet(path: Path, mode: str, ctx: LoadContext, fmt: str) -> BattleSet:
    import pyarrow as pa

    pf = _io.parquet_file(path)
    names = set(pf.schema_arrow.names)
    columns = [c for c in _BULK_COLUMNS if c in names]
    sink = BulkSink(Ledger(ctx.file, fmt), mode, ctx)
    offset = 0
    with file_progress(path, ctx.file, progress_total(path, "parquet")) as update:
        try:
            for batch in pf.iter_batches(batch_size=1 << 18, columns=columns):
                table = pa.Table.from_batches([batch])
                check_block(table, np.arange(offset + 1, offset + table.num_rows + 1), mode, ctx, sink)
                offset += table.num_rows
                del table, batch
                pa.default_memory_pool().release_unused()  # hand decoded-but-dropped buffers back to the OS
                update(offset)
        except (OSError, pa.ArrowException) as exc:
            from ..errors import DataError

            raise DataError(f"Parquet file unreadable after row {offset}: {exc}", file=ctx.file) from exc
    return sink.finish()


_JSONL_CHUNK = 32 << 20


def load_jsonl(path: Path, mode: str, ctx: LoadContext, fmt: str) -> BattleSet:
    """JSONL in ~32 MiB blocks of whole lines: each clean block is parsed by pyarrow and checked in bulk;
    a block with a blank, oversized or malformed line goes through the per-line reader instead."""
    sink = BulkSink(Ledger(ctx.file, fmt), mode, ctx)
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


def _bulk_block(block: bytes, line0: int, mode: str, ctx: LoadContext, sink: BulkSink, limit: int) -> int:
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
            check_block(table, np.arange(line0 + 1, line0 + nlines + 1), mode, ctx, sink)
            return nlines
    _per_line(io.BytesIO(block), line0, limit, sink)
    return nlines


def _per_line(stream: Any, line0: int, limit: int, sink: BulkSink) -> None:
    sink.per_record((line0 + k, rec) for k, rec in _io.iter_lines(stream, lambda: 0, limit, None))


class _Restart(Exception):
    """The pretty-array fast path cannot continue (an element longer than the limit): use the batch path."""


def load_array(path: Path, mode: str, ctx: LoadContext, fmt: str) -> BattleSet:
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
    sink = BulkSink(Ledger(ctx.file, fmt), mode, ctx)
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
    block: bytes, sep: bytes, n0: int, mode: str, ctx: LoadContext, sink: BulkSink, limit: int
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
            check_block(table, numbers, mode, ctx, sink)
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

    sink = BulkSink(Ledger(ctx.file, fmt), mode, ctx)
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
            check_block(table, numbers, mode, ctx, sink)
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
