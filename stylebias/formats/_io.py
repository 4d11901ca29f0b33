"""Streaming readers for the containers battle files come in: JSON arrays, JSONL, CSV and Parquet.

Every reader yields ``(record_number, value)`` pairs where ``value`` is the parsed record or a
:class:`Bad` saying why that one record could not be parsed. A broken record never stops a file: the
loader puts it in the rejects ledger and goes on. Memory stays bounded by the record size limit
(``max_record_bytes``), never by the file size: JSONL is read line by line with a capped ``readline``,
a JSON array is decoded element by element from a sliding text buffer, CSV through :mod:`csv` with a field
size cap, Parquet in record batches.

Record numbers are 1-based: the physical line for JSONL, the element index for a JSON array, the data
row (header excluded) for CSV and the row for Parquet.
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import csv
import gzip
import io
import json
import lzma
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import DataError, StyleBiasWarning

#: Largest single record (JSONL line, JSON array element, CSV row) accepted by default.
DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024

_COMPRESSIONS = {".gz": gzip.GzipFile, ".xz": lzma.LZMAFile, ".bz2": bz2.BZ2File}
JSON_EXTS = (".json", ".jsonl", ".ndjson")
CSV_EXTS = (".csv",)
PARQUET_EXTS = (".parquet", ".pq")
#: Extensions picked up when a directory is given (after an optional .gz/.xz/.bz2).
KNOWN_EXTS = JSON_EXTS + CSV_EXTS + PARQUET_EXTS

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Bad:
    """A record that could not be parsed; ``reason`` goes to the rejects ledger."""

    reason: str


def too_large(size: int, limit: int) -> Bad:
    return Bad(f"record larger than max_record_bytes: {size:,} > {limit:,} bytes")


def split_ext(path: Path) -> tuple[str, str | None]:
    """``("data.json.gz") -> (".json", ".gz")``: the container extension and the compression, lower-cased."""
    suffixes = [s.lower() for s in path.suffixes]
    compression = suffixes[-1] if suffixes and suffixes[-1] in _COMPRESSIONS else None
    if compression:
        suffixes = suffixes[:-1]
    return (suffixes[-1] if suffixes else ""), compression


def container_of(path: Path) -> str | None:
    """``"json"``, ``"csv"``, ``"parquet"`` from the extension, else from the first bytes, else ``None``."""
    ext, _ = split_ext(path)
    if ext in JSON_EXTS:
        return "json"
    if ext in CSV_EXTS:
        return "csv"
    if ext in PARQUET_EXTS:
        return "parquet"
    try:
        with open(path, "rb") as fh:
            if fh.read(4) == b"PAR1":
                return "parquet"
        with open_binary(path) as (stream, _):
            head = stream.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise DataError(f"cannot read file: {exc}", file=str(path)) from exc
    if head[:1] in (b"[", b"{"):
        return "json"
    return None  # CSV only by extension: too many text files have a comma in their first line


@contextlib.contextmanager
def open_binary(path: Path) -> Iterator[tuple[IO[bytes], Callable[[], int]]]:
    """Open ``path`` for reading, decompressing by extension; yields (stream, compressed bytes consumed)."""
    _, compression = split_ext(path)
    raw = open(path, "rb")  # noqa: SIM115 - closed below
    try:
        if compression:
            # GzipFile takes fileobj=, LZMAFile and BZ2File take the file object positionally
            opener = _COMPRESSIONS[compression]
            stream: IO[bytes] = (
                opener(fileobj=raw, mode="rb") if opener is gzip.GzipFile else opener(raw, "rb")
            )  # type: ignore[call-arg,operator]
        else:
            stream = io.BufferedReader(raw, buffer_size=_CHUNK)  # type: ignore[arg-type]
        yield stream, raw.tell
    finally:
        raw.close()


# --------------------------------------------------------------------------------------------- JSON / JSONL


def iter_json_records(
    path: Path, max_record_bytes: int, progress: Callable[[int], None] | None = None
) -> Iterator[tuple[int, Any]]:
    """Records of a JSON array file or a JSONL file (decided by the first non-blank byte)."""
    try:
        with open_binary(path) as (stream, tell):
            head = stream.peek(64) if hasattr(stream, "peek") else b""
            first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
            if not first:
                # peek may return little for compressed streams: fall back to reading
                head = stream.read(4096)
                stream = Prepend(head, stream)  # type: ignore[assignment]
                first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
            if first == b"[":
                yield from _iter_array(stream, tell, max_record_bytes, progress)
            else:
                yield from iter_lines(stream, tell, max_record_bytes, progress)
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise DataError(f"cannot read file: {exc}", file=str(path)) from exc


class Prepend(io.RawIOBase):
    """A binary stream that first returns ``head`` and then the rest of ``stream``."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._head:
            if n is None or n < 0:
                out, self._head = self._head + self._stream.read(), b""
                return out
            out, self._head = self._head[:n], self._head[n:]
            return out
        return self._stream.read(n)

    def readline(self, limit: int = -1) -> bytes:  # type: ignore[override]
        if self._head:
            idx = self._head.find(b"\n")
            if idx >= 0 and (limit < 0 or idx < limit):
                out, self._head = self._head[: idx + 1], self._head[idx + 1 :]
                return out
            if limit >= 0 and len(self._head) >= limit:
                out, self._head = self._head[:limit], self._head[limit:]
                return out
            out, self._head = self._head, b""
            return out + self._stream.readline(-1 if limit < 0 else limit - len(out))
        return self._stream.readline(limit)


def iter_lines(
    stream: IO[bytes], tell: Callable[[], int], limit: int, progress: Callable[[int], None] | None
) -> Iterator[tuple[int, Any]]:
    lineno = 0
    while True:
        line = stream.readline(limit + 2)
        if not line:
            break
        lineno += 1
        if not line.endswith(b"\n") and len(line) > limit:
            size = len(line)
            while True:  # skip the rest of the oversized line without keeping it
                more = stream.readline(_CHUNK)
                size += len(more)
                if not more or more.endswith(b"\n"):
                    break
            yield lineno, too_large(size, limit)
            continue
        body = line.rstrip(b"\r\n")
        if len(body) > limit:
            yield lineno, too_large(len(body), limit)
            continue
        if lineno == 1 and body.startswith(b"\xef\xbb\xbf"):
            body = body[3:]
        if not body.strip():
            continue  # blank lines are not records
        try:
            yield lineno, json.loads(body)
        except UnicodeDecodeError as exc:
            yield lineno, Bad(f"malformed line: invalid UTF-8 at byte {exc.start}")
        except ValueError as exc:
            yield lineno, Bad(f"malformed JSON: {exc}")
        if progress is not None and lineno % 4096 == 0:
            progress(tell())
    if progress is not None:
        progress(tell())


_WS = re.compile(r"[ \t\r\n]*")
_DEFAULT_SEP = re.compile(r",[ \t\r\n]*(?=\{)")


class _ArrayBuffer:
    """A sliding window of decoded text over a binary stream (invalid UTF-8 kept as lone surrogates)."""

    def __init__(self, stream: IO[bytes], tell: Callable[[], int], progress: Callable[[int], None] | None):
        self.stream = stream
        self.tell = tell
        self.progress = progress
        self.decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self.text = ""
        self.pos = 0
        self.eof = False

    def fill(self, want: int = _CHUNK) -> bool:
        """Drop consumed text and append at least ``want`` more bytes; False at end of file."""
        if self.eof:
            return False
        self.text = self.text[self.pos :]
        self.pos = 0
        parts = []
        got = 0
        while got < want:
            data = self.stream.read(max(_CHUNK, want - got))
            if not data:
                self.eof = True
                parts.append(self.decoder.decode(b"", final=True))
                break
            got += len(data)
            parts.append(self.decoder.decode(data))
        self.text += "".join(parts)
        if self.progress is not None:
            self.progress(self.tell())
        return True

    def skip_ws(self) -> str:
        """Advance over whitespace; return the next character ('' at end of file)."""
        while True:
            self.pos = _WS.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.fill():
                return ""


def _iter_array(
    stream: IO[bytes], tell: Callable[[], int], limit: int, progress: Callable[[int], None] | None
) -> Iterator[tuple[int, Any]]:
    buf = _ArrayBuffer(stream, tell, progress)
    buf.fill()
    if buf.text.startswith("\ufeff"):
        buf.pos = 1
    buf.skip_ws()
    buf.pos += 1  # the opening '['
    decoder = json.JSONDecoder()
    sep: re.Pattern[str] = _DEFAULT_SEP
    learned = False
    n = 0
    if buf.skip_ws() == "]":
        return
    while True:
        start = buf.pos
        try:
            obj, end = decoder.raw_decode(buf.text, start)
        except json.JSONDecodeError as exc:
            near_end = exc.pos >= len(buf.text) - 64 or exc.msg.startswith("Unterminated string")
            if near_end and not buf.eof and len(buf.text) - start <= limit + 8:
                buf.fill(max(_CHUNK, len(buf.text) - start))
                continue
            n += 1
            if len(buf.text) - start > limit and not buf.eof:
                yield n, too_large(len(buf.text) - start, limit)
            else:
                yield n, Bad(f"malformed JSON: {exc.msg} (element {n})")
            if not _resync(buf, sep):
                return
            continue
        size = end - start
        if size * 4 > limit and len(buf.text[start:end].encode("utf-8", "surrogateescape")) > limit:
            n += 1
            yield n, too_large(len(buf.text[start:end].encode("utf-8", "surrogateescape")), limit)
        else:
            n += 1
            yield n, obj
        buf.pos = end
        text_before = buf.text
        nxt = buf.skip_ws()
        if nxt == ",":
            buf.pos += 1
            after = buf.skip_ws()
            if after == "]":
                return
            if not learned and after == "{" and buf.text is text_before:
                # Learn the exact separator (e.g. ",\n  ") so resynchronising after a broken element does
                # not stop at a nested "}, {" inside it (pretty-printed nested lists are indented deeper).
                sep = re.compile(re.escape(buf.text[end : buf.pos]) + r"(?=\{)")
                learned = True
            continue
        if nxt == "]":
            return
        if nxt == "":
            # Every element so far parsed; only the closing bracket is missing (a truncated copy).
            warnings.warn(
                f"JSON array ends without ']' after element {n}: the file may be truncated",
                StyleBiasWarning,
                stacklevel=2,
            )
            return
        # anything else between elements: a broken separator; skip to the next element
        n += 1
        yield n, Bad(f"malformed JSON: expected ',' or ']' after element {n - 1}")
        if not _resync(buf, sep):
            return


def _resync(buf: _ArrayBuffer, sep: re.Pattern[str]) -> bool:
    """Skip past a broken element to the start of the next one; False when the array cannot continue."""
    search_from = buf.pos + 1
    while True:
        m = sep.search(buf.text, search_from)
        if m:
            buf.pos = m.end()
            return True
        # keep a short tail in case the separator straddles two chunks
        keep = max(buf.pos, len(buf.text) - 64)
        buf.pos = keep
        search_from = 0
        if not buf.fill():
            return False


# --------------------------------------------------------------------------------------------------- CSV


def csv_header(path: Path) -> list[str]:
    with open_binary(path) as (stream, _):
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
        try:
            return next(csv.reader(text))
        except StopIteration:
            return []
        except csv.Error as exc:
            raise DataError(f"not a readable CSV file: {exc}", file=str(path)) from exc


class _CsvLines:
    """Physical lines for ``csv.reader``, read in pieces of at most ``limit`` characters.

    Two things the plain line iterator got wrong: a 200 MB line was read whole before the field limit fired
    (peak RSS ~2.5x the record), and after a csv error inside a quoted field that spans lines the reader
    resumed in the middle of the record, so its remaining lines became phantom records (read > records
    written). Here an over-long line is skipped piece by piece together with the rest of its record (the
    record ends at a line end with an even number of quote characters since its start), the reader gets a
    line that ends the record, and :attr:`oversize` tells the caller to reject it.
    """

    def __init__(self, text: IO[str], limit: int) -> None:
        self.text = text
        self.limit = limit
        self.quotes = 0  # quote characters since the start of the current record
        self.oversize = 0  # characters of a skipped over-long record, for the caller to reject

    def __iter__(self) -> _CsvLines:
        return self

    def __next__(self) -> str:
        line = self.text.readline(self.limit + 1)
        if not line:
            raise StopIteration
        if len(line) <= self.limit or line.endswith(("\n", "\r")):
            self.quotes += line.count('"')
            return line
        inside_quotes = self.quotes % 2 == 1
        self.quotes += line.count('"')
        self.oversize = len(line) + self.skip_record(at_line_end=False)
        # end the record for the reader: close the open quoted field first if the record started earlier
        return '"\n' if inside_quotes else "\n"

    def skip_record(self, at_line_end: bool = True) -> int:
        """Read (and drop) the rest of the current record; returns how many characters that was."""
        skipped = 0
        while self.quotes % 2 or not at_line_end:
            chunk = self.text.readline(self.limit + 1)
            if not chunk:
                break
            skipped += len(chunk)
            self.quotes += chunk.count('"')
            at_line_end = chunk.endswith(("\n", "\r"))
        self.quotes = 0
        return skipped


def iter_csv_records(
    path: Path, max_record_bytes: int, progress: Callable[[int], None] | None = None
) -> Iterator[tuple[int, Any]]:
    """Data rows of a CSV file as dicts keyed by the header (field sizes capped at the record limit)."""
    old_limit = csv.field_size_limit()
    csv.field_size_limit(max_record_bytes)
    try:
        with open_binary(path) as (stream, tell):
            text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
            lines = _CsvLines(text, max_record_bytes)
            reader = csv.reader(lines)
            try:
                header = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise DataError(f"not a readable CSV file: {exc}", file=str(path)) from exc
            if lines.oversize:
                raise DataError(
                    f"the header row is larger than max_record_bytes ({max_record_bytes:,})", file=str(path)
                )
            lines.quotes = 0
            n = 0
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    n += 1
                    lines.skip_record()  # resynchronise at the end of the broken record
                    msg = str(exc)
                    if "field larger than field limit" in msg:
                        yield (
                            n,
                            Bad(f"record larger than max_record_bytes: a field exceeds {max_record_bytes:,}"),
                        )
                    else:
                        yield n, Bad(f"malformed CSV row: {msg}")
                    continue
                lines.quotes = 0
                if lines.oversize:
                    n += 1
                    size, lines.oversize = lines.oversize, 0
                    yield n, Bad(f"record larger than max_record_bytes: a line of {size:,}+ characters")
                    continue
                if not row:
                    continue  # blank line
                n += 1
                if len(row) != len(header):
                    yield n, Bad(f"malformed CSV row: {len(row)} fields, header has {len(header)}")
                    continue
                size = sum(len(v) for v in row)
                if size > max_record_bytes:
                    yield n, too_large(size, max_record_bytes)
                    continue
                yield n, dict(zip(header, row, strict=True))
                if progress is not None and n % 1024 == 0:
                    progress(tell())
            if progress is not None:
                progress(tell())
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise DataError(f"cannot read file: {exc}", file=str(path)) from exc
    finally:
        csv.field_size_limit(old_limit)


# ----------------------------------------------------------------------------------------------- Parquet


def parquet_file(path: Path) -> Any:
    """Open a Parquet file, turning any reader failure into a :class:`DataError` naming the file."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
        raise DataError(f"not a readable Parquet file: {exc}", file=str(path)) from exc


def iter_parquet_records(
    path: Path,
    columns: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
    max_record_bytes: int | None = None,
) -> Iterator[tuple[int, Any]]:
    """Rows of a Parquet file as Python dicts, read one record batch at a time.

    A row whose values add up to more than ``max_record_bytes`` (UTF-8 text, bytes; 8 per other scalar) is
    yielded as :class:`Bad`, like an oversized JSON or CSV record. Parquet cannot be read below a column
    chunk, so unlike JSONL this bounds what is accepted, not what pyarrow decodes.
    """
    pf = parquet_file(path)
    n = 0
    try:
        for batch in pf.iter_batches(batch_size=512, columns=columns):
            check = max_record_bytes is not None and batch.nbytes > max_record_bytes
            for rec in batch.to_pylist():
                n += 1
                if check:
                    size = _value_bytes(rec)
                    if size > max_record_bytes:  # type: ignore[operator]
                        yield n, too_large(size, max_record_bytes)  # type: ignore[arg-type]
                        continue
                yield n, rec
            if progress is not None:
                progress(n)
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"Parquet file unreadable after row {n}: {exc}", file=str(path)) from exc


def _value_bytes(value: Any) -> int:
    """Approximate encoded size of a decoded Parquet value (exact for text and bytes)."""
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, dict):
        return sum(len(str(k)) + _value_bytes(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return sum(_value_bytes(v) for v in value)
    return 8
