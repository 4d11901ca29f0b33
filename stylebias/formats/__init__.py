"""Load pairwise votes from every supported source into one :class:`~stylebias.battles.BattleSet`.

:func:`load_battles` takes files, directories, globs and ``hf://`` dataset names, picks the format of each
file (extension + the first record's keys, or ``format=``), and returns the canonical battle table with a
rejects ledger in which every input record that did not become a battle has its file, record number and
reason. Per file, accepted + rejected = read. With no path it returns the embedded demo.

Registered formats (see ``docs/formats.md``): ``lmarena`` (FastChat/LMArena conversations and
metadata-only battles), ``arena140k`` (the same loader; typed content parts, ``both_bad``), ``kaggle``,
``alpaca_eval``, ``pandalm``, ``hh`` (Anthropic HH-RLHF pairs), ``generic`` (any table plus a column mapping).
"""

from __future__ import annotations

import glob
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..battles import BattleSet
from ..errors import DataError, StyleBiasWarning, UsageError
from ..resources import demo_dir
from . import _io, alpaca_eval, generic, hf, hh, kaggle, lmarena, pandalm
from ._base import LoadContext, peek_keys
from ._io import DEFAULT_MAX_RECORD_BYTES, JSON_EXTS, Bad, iter_json_records, split_ext

__all__ = [
    "DEFAULT_MAX_RECORD_BYTES",
    "FORMATS",
    "JSON_EXTS",
    "Bad",
    "detect_format",
    "expand_paths",
    "iter_json_records",
    "load_battles",
    "load_demo",
    "split_ext",
]


@dataclass(frozen=True)
class Format:
    """One registered source format."""

    name: str
    description: str
    required: tuple[str, ...]
    load: Callable[[Path, str, LoadContext, str], BattleSet]


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "lmarena",
            "LMArena/FastChat battles: conversations, clean_battle JSON, metadata-only conv_metadata files",
            ("model_a", "model_b", "winner"),
            lmarena.load,
        ),
        Format(
            "arena140k",
            "lmarena-ai/arena-human-preference-140k: typed content parts, winner both_bad",
            ("model_a", "model_b", "winner"),
            lmarena.load,
        ),
        Format(
            "kaggle",
            "Kaggle lmsys-arena-human-preference-55k CSV: JSON turn lists, one-hot winner columns",
            kaggle.REQUIRED,
            kaggle.load,
        ),
        Format(
            "alpaca_eval",
            "AlpacaEval annotations (.json/.json.gz): generator_1/2, preference in [1, 2]",
            alpaca_eval.REQUIRED,
            alpaca_eval.load,
        ),
        Format(
            "pandalm",
            "PandaLM human test set: cmp_key, three annotators, majority vote",
            pandalm.REQUIRED,
            pandalm.load,
        ),
        Format(
            "hh",
            "Anthropic HH-RLHF {chosen, rejected} transcripts (sides by hash; no model names: no ratings)",
            hh.REQUIRED,
            hh.load,
        ),
        Format(
            "generic",
            "any CSV/JSONL/JSON/Parquet table with a column mapping (--column model_a=...)",
            (),
            generic.load,
        ),
    )
}

# Detection order: the most specific schemas first; generic last (it only needs model_a/model_b + a vote).
_DETECTORS = (alpaca_eval.detect, pandalm.detect, kaggle.detect, lmarena.detect, hh.detect, generic.detect)

#: The embedded demo's files and the name each gets in ``source_file``.
DEMO_FILES: tuple[str, ...] = ("alpaca_eval_ae2_demo.json.xz", "pandalm_testset.json.xz")


def detect_format(path: str | Path, *, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> str:
    """The registered format name for one file (raises :class:`DataError` naming the file if none fits)."""
    path = Path(path)
    ctx = LoadContext(str(path), max_record_bytes)
    return _detect(path, _container(path, str(path)), ctx)


def _container(path: Path, display: str) -> str:
    container = _io.container_of(path)
    if container is None:
        raise DataError(
            "unknown file type: expected .json, .jsonl, .csv or .parquet (optionally .gz/.xz/.bz2)",
            file=display,
        )
    return container


def _detect(path: Path, container: str, ctx: LoadContext) -> str:
    keys = peek_keys(path, container, ctx)
    if not keys:
        raise DataError(
            f"not a battle file: no {'header' if container == 'csv' else 'JSON object'} found in its first records",
            file=ctx.file,
        )
    for detector in _DETECTORS:
        name = detector(keys)
        if name:
            return name
    shown = ", ".join(sorted(keys)[:20]) + (" ..." if len(keys) > 20 else "")
    raise DataError(
        f"unknown battle format (columns: {shown}). Name it with --format, or map columns with "
        "--format generic --column model_a=COL --column model_b=COL --column winner=COL",
        file=ctx.file,
    )


def _load_file(
    path: Path, display: str, fmt: str | None, ctx: LoadContext, *, skip_unknown: bool
) -> BattleSet | None:
    ctx = ctx.with_file(display)
    container = _container(path, display)
    if fmt is None:
        try:
            fmt = _detect(path, container, ctx)
        except DataError as exc:
            if skip_unknown:
                warnings.warn(f"skipped {display}: {exc}", StyleBiasWarning, stacklevel=3)
                return None
            raise
    elif FORMATS[fmt].required:
        keys = peek_keys(path, container, ctx) or set()
        missing = [k for k in FORMATS[fmt].required if k not in keys]
        if missing:
            raise DataError(
                f"format {fmt!r} needs column(s) {', '.join(missing)}, which the file lacks", file=display
            )
    data = FORMATS[fmt].load(path, container, ctx, fmt)
    data.check_accounting()
    return data


_GLOB_CHARS = set("*?[")


def expand_paths(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> list[tuple[str, Path, bool]]:
    """``(display name, local path, from_hf)`` for every file behind files, directories, globs and hf:// names."""
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    out: list[tuple[str, Path, bool]] = []
    seen: set[Path] = set()

    def add(display: str, p: Path, from_hf: bool = False) -> None:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            out.append((display, p, from_hf))

    for item in items:
        text = os.fspath(item)
        if hf.is_hf(text):
            for display, p in hf.resolve(text):
                add(display, p, True)
            continue
        p = Path(text)
        if p.is_dir():
            found = _dir_files(p)
            if not found:
                raise UsageError(f"no battle files (.json, .jsonl, .csv, .parquet) in directory {text}")
            for f in found:
                add(str(f), f)
        elif p.is_file():
            add(text, p)
        elif _GLOB_CHARS & set(text):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise UsageError(f"no files match {text!r}")
            for m in matches:
                mp = Path(m)
                for f in _dir_files(mp) if mp.is_dir() else [mp]:
                    add(str(f), f)
        else:
            raise UsageError(f"no such file or directory: {text}")
    return out


def _dir_files(directory: Path) -> list[Path]:
    files = []
    for f in sorted(directory.rglob("*")):
        rel = f.relative_to(directory)
        if any(part.startswith((".", "_")) for part in rel.parts) or not f.is_file():
            continue
        if _io.split_ext(f)[0] in _io.KNOWN_EXTS:
            files.append(f)
    return files


def load_battles(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    format: str | None = None,  # noqa: A002 - the natural public name
    *,
    columns: dict[str, str] | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    allow_empty: bool = False,
) -> BattleSet:
    """Load battles from files, directories, globs or ``hf://owner/name[@rev][:split]``; none -> the demo.

    Args:
        paths: one path or a list; ``None`` or empty loads the embedded demo.
        format: force one registered format for every file (see :data:`FORMATS`) instead of detecting it.
        columns: canonical -> source column mapping; implies ``format="generic"`` when no format is given.
        max_record_bytes: reject any single record larger than this (a clear error, not a swap storm).
        allow_empty: return an empty set instead of raising when no record was accepted (``validate``).

    Raises:
        UsageError: unknown format name, bad mapping, missing path.
        DataError: a file that cannot be read or whose format is unknown; no usable battle at all.
    """
    if format is not None and format not in FORMATS:
        raise UsageError(f"unknown format {format!r}; choose from {', '.join(FORMATS)}")
    if columns:
        if format is None:
            format = "generic"
        elif format != "generic":
            raise UsageError(f"--column applies to the generic format, not {format!r}")
    if not isinstance(max_record_bytes, int) or max_record_bytes <= 0:
        raise UsageError(f"max_record_bytes must be a positive integer, got {max_record_bytes!r}")
    if paths is None or (not isinstance(paths, str | os.PathLike) and len(paths) == 0):
        return load_demo(max_record_bytes=max_record_bytes)
    ctx = LoadContext("", max_record_bytes, dict(columns) if columns else None)
    parts = []
    for display, path, from_hf in expand_paths(paths):
        part = _load_file(path, display, format, ctx, skip_unknown=from_hf)
        if part is not None:
            parts.append(part)
    data = BattleSet.concat(parts)
    data.check_accounting()
    if not data.accepted and not allow_empty:
        raise DataError(data.nothing_usable())
    return data


def load_demo(*, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> BattleSet:
    """The embedded demo: AlpacaEval 2 judge votes (judge ``weighted_alpaca_eval_gpt4_turbo``) and the PandaLM
    human test set (judge ``human``). See ``stylebias/data/demo/SOURCES.md``."""
    base = demo_dir()
    parts = []
    for name, fmt in zip(DEMO_FILES, ("alpaca_eval", "pandalm"), strict=True):
        path = base / name
        if not path.is_file():
            raise DataError("embedded demo file is missing; reinstall stylebias", file=str(path))
        ctx = LoadContext(f"demo/{name}", max_record_bytes)
        parts.append(FORMATS[fmt].load(path, "json", ctx, fmt))
    data = BattleSet.concat(parts)
    data.check_accounting()
    return data
