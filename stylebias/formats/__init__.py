"""Load pairwise votes from every supported source into one :class:`~stylebias.battles.BattleSet`.

:func:`load_battles` takes files, directories, globs and ``hf://`` dataset names, picks the format of each
file (extension + the first record's keys, or ``format=``), and returns the canonical battle table with a
rejects ledger in which every input record that did not become a battle has its file, record number and
reason. Per file, accepted + rejected = read. With no path it returns the embedded demo.

Registered formats (see ``docs/formats.md``): ``lmarena`` (FastChat/LMArena conversations and
metadata-only battles), ``arena140k`` (the same loader; typed content parts, ``both_bad``), ``kaggle``,
``alpaca_eval``, ``pandalm``, ``hh`` (Anthropic HH-RLHF pairs), ``arena_hard`` (Arena-Hard-Auto judgments joined
with their answers), ``mtbench`` / ``mtbench_human`` (MT-Bench pair judgments, human judgments), ``generic``
(any table plus a layout: column mapping, constants, vote labels) and its two presets ``pairs`` and
``model_columns``.

A directory laid out as an LLM-judge benchmark (it has ``model_judgment/``) is read as one: its judgment files
are the battle files and its answers and questions are joined to them, never read as battles.
"""

from __future__ import annotations

import glob
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..battles import BattleSet, empty_battles
from ..errors import DataError, StyleBiasWarning, UsageError
from ..resources import demo_dir
from . import _io, alpaca_eval, arena_hard, generic, hf, hh, kaggle, lmarena, mtbench, pandalm
from ._base import LoadContext, peek_keys
from ._benchmark import ANSWER_DIR, JUDGMENT_DIR, is_benchmark_root
from ._benchmark import benchmark_answers as _benchmark_answers
from ._io import DEFAULT_MAX_RECORD_BYTES, JSON_EXTS, Bad, iter_json_records, split_ext

__all__ = [
    "ANSWER_DIR",
    "DEFAULT_MAX_RECORD_BYTES",
    "FORMATS",
    "JSON_EXTS",
    "Bad",
    "benchmark_answers",
    "detect_format",
    "expand_paths",
    "iter_json_records",
    "load_battles",
    "load_demo",
    "load_file",
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
            "arena_hard",
            "Arena-Hard-Auto judgments (v0.1 and v2) joined with model_answer/ and question.jsonl",
            ("model", "games"),
            arena_hard.load,
        ),
        Format(
            "mtbench",
            "MT-Bench pairwise judgments (gpt-4_pair.jsonl) joined with model_answer/ and question.jsonl",
            mtbench.PAIR_KEYS,
            mtbench.load,
        ),
        Format(
            "mtbench_human",
            "MT-Bench human judgments (lmsys/mt_bench_human_judgments): conversations, judged turn",
            mtbench.HUMAN_KEYS,
            mtbench.load_human,
        ),
        Format(
            "generic",
            "any CSV/JSONL/JSON/Parquet table with a layout (--column model_a=..., --column x==CONST, --label)",
            (),
            generic.load,
        ),
        Format(
            "pairs",
            "two outputs and a 1|2 label or preference, no model names (LLMBar): output_1 = A, output_2 = B",
            generic.PAIR_OUTPUTS,
            generic.load,
        ),
        Format(
            "model_columns",
            "one answer column per model, the vote naming the winning column (LMArena Llama-3-70b-battles)",
            (),
            generic.load,
        ),
    )
}

# Detection order: the most specific schemas first; generic last (it only needs model_a/model_b + a vote, or
# the pairs layout's output_1/output_2 + label). The MT-Bench human file is a subset of LMArena's keys, so it
# goes first. Files no key-based detector takes get one value-based look (the model_columns layout).
_DETECTORS = (
    alpaca_eval.detect,
    pandalm.detect,
    kaggle.detect,
    arena_hard.detect,
    mtbench.detect,
    lmarena.detect,
    hh.detect,
    generic.detect,
)

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
    name = generic.detect_records(path, container, ctx)
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
    """``(display name, local path, skip_unknown)`` for every file behind files, directories, globs, hf:// names.

    ``skip_unknown`` marks files that may hold something other than battles and are then skipped with a
    warning: files of an ``hf://`` dataset, and judgment files of a benchmark folder (MT-Bench keeps its
    single-answer grades, ``gpt-4_single.jsonl``, beside the pairwise ones).
    """
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
                add(str(f), f, _in_judgments(f))
        elif p.is_file():
            add(text, p)
        elif _GLOB_CHARS & set(text):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise UsageError(f"no files match {text!r}")
            for m in matches:
                mp = Path(m)
                for f in _dir_files(mp) if mp.is_dir() else [mp]:
                    add(str(f), f, mp.is_dir() and _in_judgments(f))
        else:
            raise UsageError(f"no such file or directory: {text}")
    return out


def _dir_files(directory: Path) -> list[Path]:
    """Battle files under a directory. Inside a benchmark folder (one with ``model_judgment/``) only the
    judgment files are battle files; its answers and questions are read by the judgment loaders."""
    files = []
    roots: dict[Path, bool] = {}

    def is_root(d: Path) -> bool:
        if d not in roots:
            roots[d] = is_benchmark_root(d)
        return roots[d]

    for f in sorted(directory.rglob("*")):
        rel = f.relative_to(directory)
        if any(part.startswith((".", "_")) for part in rel.parts) or not f.is_file():
            continue
        if _io.split_ext(f)[0] not in _io.KNOWN_EXTS:
            continue
        root = next((d for d in f.parents if is_root(d)), None)
        if root is not None and f.relative_to(root).parts[0] != JUDGMENT_DIR:
            continue
        files.append(f)
    return files


def _in_judgments(path: Path) -> bool:
    return JUDGMENT_DIR in Path(os.path.abspath(path)).parts[:-1]


def benchmark_answers(
    folder: str | os.PathLike[str], *, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> tuple[list[dict], list[dict]]:
    """The answers of an LLM-judge benchmark folder (Arena-Hard-Auto, MT-Bench: ``model_answer/`` and
    ``question.jsonl``) without its judgments: ``(rows, rejects)``, see :func:`._benchmark.benchmark_answers`."""
    return _benchmark_answers(Path(folder), LoadContext(str(folder), max_record_bytes))


def load_battles(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    format: str | None = None,  # noqa: A002 - the natural public name
    *,
    columns: dict[str, str] | None = None,
    constants: dict[str, str] | None = None,
    labels: dict[str, dict[str, str]] | None = None,
    answers: str | os.PathLike[str] | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    allow_empty: bool = False,
    list_unsupported: bool = False,
) -> BattleSet:
    """Load battles from files, directories, globs or ``hf://owner/name[@rev][:split]``; none -> the demo.

    Args:
        paths: one path or a list; ``None`` or empty loads the embedded demo.
        format: force one registered format for every file (see :data:`FORMATS`) instead of detecting it.
        columns: canonical -> source column mapping; implies ``format="generic"`` when no format is given.
        constants: canonical -> one value for every row (``{"model_a": "llama-3-70b"}``); like ``columns``.
        labels: canonical column -> {source label: canonical label} (``{"winner": {"left": "model_a"}}``);
            like ``columns``.
        answers: the ``model_answer/`` folder (or the benchmark folder holding it) of Arena-Hard-Auto or
            MT-Bench judgments that are not in the upstream layout.
        max_record_bytes: reject any single record larger than this (a clear error, not a swap storm).
        allow_empty: return an empty set instead of raising when no record was accepted (``validate``).
        list_unsupported: a file whose format cannot be detected or that cannot be read is listed in
            ``unsupported`` with the reason, and loading goes on (``validate``), instead of raising.

    Raises:
        UsageError: unknown format name, bad mapping, missing path.
        DataError: a file that cannot be read or whose format is unknown; no usable battle at all.
    """
    format, ctx = _load_options(format, columns, constants, labels, answers, max_record_bytes)
    if paths is None or (not isinstance(paths, str | os.PathLike) and len(paths) == 0):
        return load_demo(max_record_bytes=max_record_bytes)
    parts = []
    for display, path, skip_unknown in expand_paths(paths):
        try:
            part = _load_file(path, display, format, ctx, skip_unknown=skip_unknown)
        except DataError as exc:
            if not list_unsupported:
                raise
            reason = str(exc).removeprefix(f"{display}: ")
            part = BattleSet(empty_battles(), unsupported=[{"file": display, "reason": reason}])
        if part is not None:
            parts.append(part)
    data = BattleSet.concat(parts)
    data.check_accounting()
    if not data.accepted and not allow_empty:
        raise DataError(data.nothing_usable())
    return data


def _load_options(
    format: str | None,  # noqa: A002
    columns: dict[str, str] | None,
    constants: dict[str, str] | None,
    labels: dict[str, dict[str, str]] | None,
    answers: str | os.PathLike[str] | None,
    max_record_bytes: int,
) -> tuple[str | None, LoadContext]:
    """The format to force (``generic`` when a layout is given) and the load context, checked."""
    if format is not None and format not in FORMATS:
        raise UsageError(f"unknown format {format!r}; choose from {', '.join(FORMATS)}")
    if columns or constants or labels:
        if format is None:
            format = "generic"
        elif format not in generic.FORMATS:
            raise UsageError(
                f"--column / --label apply to the generic format (and its layouts {', '.join(generic.FORMATS[1:])}), "
                f"not {format!r}"
            )
    if not isinstance(max_record_bytes, int) or max_record_bytes <= 0:
        raise UsageError(f"max_record_bytes must be a positive integer, got {max_record_bytes!r}")
    ctx = LoadContext(
        "",
        max_record_bytes,
        dict(columns) if columns else None,
        constants=dict(constants) if constants else None,
        labels={k: dict(v) for k, v in labels.items()} if labels else None,
        answers=Path(answers) if answers is not None else None,
    )
    return format, ctx


def load_file(
    display: str,
    path: str | os.PathLike[str],
    format: str | None = None,  # noqa: A002
    *,
    skip_unknown: bool = False,
    columns: dict[str, str] | None = None,
    constants: dict[str, str] | None = None,
    labels: dict[str, dict[str, str]] | None = None,
    answers: str | os.PathLike[str] | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> BattleSet | None:
    """One ``(display, path, skip_unknown)`` entry of :func:`expand_paths`, read exactly as
    :func:`load_battles` reads it (``None``: a skipped file), for callers that load files one by one in
    different places (a cluster's workers). Its battles and rejects name the file ``display``."""
    format, ctx = _load_options(format, columns, constants, labels, answers, max_record_bytes)
    return _load_file(Path(path), display, format, ctx, skip_unknown=skip_unknown)


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
