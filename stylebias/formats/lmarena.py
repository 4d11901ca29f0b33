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
:func:`.lmarena_records.convert` one by one; metadata-only Parquet, JSONL and JSON arrays through the
vectorised checks of :mod:`.lmarena_bulk`, which send every row they cannot take to the same ``convert``.
:func:`battles_from_fastchat_frame` reads FastChat's in-memory battles DataFrame the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..battles import BattleSet, Ledger
from ..outputs import plain
from . import _io
from ._base import LoadContext, feed, iter_records, load_records
from .lmarena_bulk import BulkSink, check_block, load_array, load_jsonl, load_parquet
from .lmarena_records import converter, record_mode

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


def first_record(path: Path, container: str, ctx: LoadContext) -> dict[str, Any] | None:
    """The first record of a file (only the columns that decide its mode, for Parquet)."""
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
    first = first_record(path, container, ctx)
    mode = record_mode(first) if first is not None else "text"
    if mode != "text" and container == "parquet":
        return load_parquet(path, mode, ctx, fmt)
    if mode != "text" and container == "json":
        if _is_jsonl(path):
            return load_jsonl(path, mode, ctx, fmt)
        return load_array(path, mode, ctx, fmt)
    return load_records(path, container, fmt, ctx, converter(mode, ctx))


def _is_jsonl(path: Path) -> bool:
    with _io.open_binary(path) as (stream, _):
        head = stream.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] == b"{"


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
        first = plain(frame.iloc[0].to_dict(), keep_nonfinite=True)
    mode = record_mode(first)
    if mode != "text" and table is not None:
        sink = BulkSink(ledger, mode, ctx)
        check_block(table, numbers, mode, ctx, sink)
        return sink.finish()
    if table is not None:
        records: Any = (
            (int(k), rec)
            for k, rec in zip(numbers, (r for b in table.to_batches(512) for r in b.to_pylist()), strict=True)
        )
    else:
        records = ((k, plain(rec, keep_nonfinite=True)) for k, rec in enumerate(frame.to_dict("records"), 1))
    feed(ledger, records, converter(mode, ctx))
    return ledger.to_battleset()
