"""What every loader shares: the load context, the per-record driver and the progress hook.

A per-record loader is a function ``convert(record, number) -> row`` that raises
:class:`~stylebias.rows.Reject` for a bad record; :func:`load_records` walks any container (JSON
array, JSONL, CSV, Parquet), sends parse failures and rejects to the ledger, and returns the file's
:class:`~stylebias.battles.BattleSet`. Formats that need speed on millions of text-free rows add a
vectorised path but keep this one as the reference for every record it cannot take in bulk.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..battles import BattleSet, Ledger
from ..progress import task
from ..rows import Reject, check_strings
from . import _io

Convert = Callable[[dict[str, Any], int], dict[str, Any]]


@dataclass(frozen=True)
class LoadContext:
    """Options of one load, shared by every file.

    Attributes:
        file: the name written to ``source_file`` and to the rejects ledger for this file.
        max_record_bytes: records larger than this are rejected (see :mod:`stylebias.formats._io`).
        columns: canonical-name -> source-column mapping for the ``generic`` family of layouts.
        judge: judge written on every battle when the source names none (e.g. the embedded demo).
        constants: canonical-name -> one value for every row (``--column model_a==llama-3-70b``).
        labels: canonical column -> {source label: canonical label} (``--label winner=left:model_a``).
        answers: the model-answer directory of a judge benchmark (Arena-Hard-Auto, MT-Bench) when it is not
            where the upstream layout puts it (``--answers DIR``).
        shared: per-load scratch space the files of one load share (e.g. a benchmark's answer files, read
            once for all its judgment files); gone when the load returns.
    """

    file: str
    max_record_bytes: int = _io.DEFAULT_MAX_RECORD_BYTES
    columns: dict[str, str] | None = None
    judge: str | None = None
    constants: dict[str, str] | None = None
    labels: dict[str, dict[str, str]] | None = None
    answers: Path | None = None
    shared: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    def with_file(self, file: str) -> LoadContext:
        return dataclasses.replace(self, file=file)


@contextlib.contextmanager
def file_progress(path: Path, label: str, total: float | None) -> Iterator[Callable[[int], None]]:
    """A progress task for one file; yields ``update(position)`` taking absolute positions."""
    with task(f"loading {label}", total=total) as advance:
        last = [0]

        def update(position: int) -> None:
            if position > last[0]:
                advance(position - last[0])
                last[0] = position

        yield update


def iter_records(
    path: Path, container: str, ctx: LoadContext, update: Callable[[int], None] | None = None
) -> Iterator[tuple[int, Any]]:
    """``(record number, record or _io.Bad)`` for any supported container."""
    if container == "json":
        return _io.iter_json_records(path, ctx.max_record_bytes, update)
    if container == "csv":
        return _io.iter_csv_records(path, ctx.max_record_bytes, update)
    if container == "parquet":
        return _io.iter_parquet_records(path, progress=update, max_record_bytes=ctx.max_record_bytes)
    raise ValueError(f"unknown container {container!r}")


def progress_total(path: Path, container: str) -> float | None:
    if container == "parquet":
        return float(_io.parquet_file(path).metadata.num_rows)
    return float(path.stat().st_size)


def load_records(path: Path, container: str, fmt: str, ctx: LoadContext, convert: Convert) -> BattleSet:
    """Run ``convert`` over every record of ``path``; every record ends up accepted or rejected."""
    ledger = Ledger(ctx.file, fmt)
    with file_progress(path, ctx.file, progress_total(path, container)) as update:
        feed(ledger, iter_records(path, container, ctx, update), convert)
    return ledger.to_battleset()


def feed(ledger: Ledger, records: Any, convert: Convert) -> None:
    """Account for each ``(number, record)`` pair in ``ledger``."""
    for number, rec in records:
        if isinstance(rec, _io.Bad):
            ledger.reject(number, rec.reason)
            continue
        if not isinstance(rec, dict):
            ledger.reject(number, f"malformed record: expected an object, got {type(rec).__name__}")
            continue
        try:
            row = convert(rec, number)
            check_strings(row)
        except Reject as exc:
            ledger.reject(number, str(exc))
            continue
        ledger.accept(number, row)


def peek_keys(path: Path, container: str, ctx: LoadContext, limit: int = 100) -> set[str] | None:
    """Column names of a file: the CSV header, the Parquet schema, or the first JSON object's keys.

    ``None`` when no JSON object appears among the first ``limit`` records (not a battle file).
    """
    if container == "csv":
        return set(_io.csv_header(path))
    if container == "parquet":
        return set(_io.parquet_file(path).schema_arrow.names)
    for i, (_, rec) in enumerate(_io.iter_json_records(path, ctx.max_record_bytes)):
        if isinstance(rec, dict):
            return set(rec)
        if i + 1 >= limit:
            break
    return None
