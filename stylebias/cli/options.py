"""Option types and the loading helper shared by every command that reads battles.

Every data command (``validate``, ``rank``, ``explain``, ...) takes the same inputs: zero or more paths (none
means the embedded demo), an optional ``--format``, repeatable ``--column model_a=col`` mappings for generic
files, and ``--max-record-bytes``. Declaring them once here keeps the flags, help texts and error messages
identical across commands; :func:`load_input` is the one place that turns them into a
:class:`~stylebias.battles.BattleSet` with progress bars and a reject summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..battles import BattleSet
from ..errors import UsageError
from ..formats import DEFAULT_MAX_RECORD_BYTES
from .common import err_console, progress_bars, shown_warnings

PathsArg = Annotated[
    list[str] | None,
    typer.Argument(
        help=(
            "Battle files, directories or globs (several allowed), or hf://owner/name[@rev][:split]. "
            "None: the embedded demo (AlpacaEval 2 judge votes + PandaLM human votes)."
        ),
        show_default=False,
    ),
]

FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help=(
            "Force the input format instead of auto-detecting it per file: lmarena, arena140k, kaggle, "
            "alpaca_eval, pandalm, hh, generic."
        ),
        show_default=False,
    ),
]

ColumnOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--column",
        help=(
            "Map a canonical column to a column of your file, e.g. --column model_a=left_model "
            "(repeatable; implies --format generic unless another format is given)."
        ),
        show_default=False,
    ),
]

MaxRecordOpt = Annotated[
    int,
    typer.Option(
        "--max-record-bytes",
        help="Reject any single input record (line, array element, row) larger than this many bytes.",
        min=1,
    ),
]


def parse_columns(columns: list[str] | None) -> dict[str, str] | None:
    """Turn ``["model_a=left", ...]`` into ``{"model_a": "left", ...}``; a malformed item is a usage error."""
    if not columns:
        return None
    mapping: dict[str, str] = {}
    for item in columns:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise UsageError(f"--column expects CANONICAL=SOURCE (e.g. model_a=left_model), got {item!r}")
        if key in mapping and mapping[key] != value:
            raise UsageError(f"--column {key} given twice ({mapping[key]!r} and {value!r})")
        mapping[key] = value
    return mapping


def load_input(
    paths: list[str] | None,
    fmt: str | None = None,
    columns: list[str] | dict[str, str] | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    quiet: bool = False,
) -> BattleSet:
    """Load battles for a command: progress bar per file, then one warning line per reject reason.

    Library errors propagate unchanged (``UsageError`` -> exit 1, ``DataError`` -> exit 2 via
    :func:`stylebias.cli.main`).
    """
    from ..formats import load_battles

    mapping = columns if isinstance(columns, dict) else parse_columns(columns)
    with shown_warnings(quiet), progress_bars(quiet):
        data = load_battles(paths or None, format=fmt, columns=mapping, max_record_bytes=max_record_bytes)
    if not quiet and data.rejected:
        warn_rejects(data)
    return data


def warn_rejects(data: BattleSet, limit: int = 8) -> None:
    """One stderr line for the total and one per (file, reason) with its count."""
    err_console.print(
        f"[yellow]warning:[/] {data.rejected:,} of {data.read:,} records rejected "
        "(run `stylebias validate` on the same input for details)",
        markup=True,
        highlight=False,
    )
    reasons = data.reject_reasons()
    for row in reasons.head(limit).itertuples(index=False):
        err_console.print(
            f"  {row.count:>8,}  {escape(str(row.reason))}  [dim]{escape(str(row.file))}[/]",
            markup=True,
            highlight=False,
        )
    if len(reasons) > limit:
        err_console.print(f"  ... and {len(reasons) - limit} more reason(s)", highlight=False)


# Options shared by the commands (one definition, one help text). The defaults are FitSettings' own.
JsonOpt = Annotated[
    Path | None, typer.Option("--json", help="Write the result as JSON ('-' = stdout).", show_default=False)
]
CsvOpt = Annotated[
    Path | None,
    typer.Option(
        "--csv",
        help="Write the main table as CSV ('-' = stdout): the models (rank, report, explain, rerank), the style "
        "effects (fit), the files (validate) or the comparison (compare).",
        show_default=False,
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars, warnings or tables.")]
StyleFeaturesOpt = Annotated[
    str | None,
    typer.Option(
        "--features",
        help=(
            "Style features to control for: style (one per concept: length, markdown, emoji, flattery, "
            "refusal, tone, readability), lmarena (LMArena's 4: tokens, headers, lists, bold), full (every "
            "feature, incl. near-duplicates), a family, or a comma list; none = no style control. Default: "
            "style when the battles have response texts, lmarena when they are metadata-only."
        ),
        show_default=False,
    ),
]
CiOpt = Annotated[str, typer.Option("--ci", help="Interval method: sandwich (fast, robust) or bootstrap.")]
RoundsOpt = Annotated[int, typer.Option("--rounds", help="Bootstrap replicates.", min=2)]
SeedOpt = Annotated[
    int,
    typer.Option(
        "--seed",
        help="Bootstrap seed (replicate r draws from the seed sequence (seed, r), so each replicate is "
        "reproducible on its own).",
    ),
]
TiesOpt = Annotated[str, typer.Option("--ties", help="Tie model: half (LMArena), rao-kupper, davidson.")]
RegOpt = Annotated[
    float,
    typer.Option(
        "--reg", help="L2 penalty reg/2*||theta||^2 on the summed log-loss (0.5 = FastChat/LMArena).", min=0.0
    ),
]
JobsOpt = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        help="Worker processes for feature extraction (and bootstrap where there is one); default: all cores. "
        "Results do not depend on it.",
        min=1,
        show_default=False,
    ),
]
