"""Option types and the loading helper shared by every command that reads battles.

Every data command (``validate``, ``rank``, ``explain``, ...) takes the same inputs: zero or more paths (none
means the embedded demo), an optional ``--format``, repeatable ``--column model_a=col`` mappings (and
``--column model_a==VALUE`` constants) and ``--label winner=SRC:model_a,...`` vote-label maps for generic files,
``--answers DIR`` for LLM-judge benchmarks not in their upstream layout, and ``--max-record-bytes``. Declaring
them once here keeps the flags, help texts and error messages identical across commands; :func:`layout_options`
turns the layout flags into :func:`~stylebias.formats.load_battles` arguments and :func:`load_input` is the one
place that loads a :class:`~stylebias.battles.BattleSet` with progress bars and a reject summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from ..battles import BattleSet
from ..errors import UsageError
from ..formats import DEFAULT_MAX_RECORD_BYTES
from ..rating.checks import MAX_REJECTED_SHARE as MAX_REJECTED_SHARE  # the default, re-exported
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
            "alpaca_eval, pandalm, hh, arena_hard, mtbench, mtbench_human, generic, pairs, model_columns."
        ),
        show_default=False,
    ),
]

ColumnOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--column",
        help=(
            "Map a canonical column to a column of your file, e.g. --column model_a=left_model, or give it "
            "one value for every row with ==, e.g. --column model_a==llama-3-70b (repeatable; implies "
            "--format generic unless another format is given)."
        ),
        show_default=False,
    ),
]

LabelOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--label",
        help=(
            "Read your file's vote labels as canonical ones, e.g. --label winner=left:model_a,right:model_b,"
            "tie:tie (targets: model_a, model_b, tie, tie_bothbad; repeatable). Labels neither mapped nor "
            "canonical still reject their row, naming the label."
        ),
        show_default=False,
    ),
]

AnswersOpt = Annotated[
    str | None,
    typer.Option(
        "--answers",
        help=(
            "Model answers of Arena-Hard-Auto or MT-Bench judgments: a model_answer/ folder, or the benchmark "
            "folder holding it (default: the upstream layout beside model_judgment/)."
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


def _parse_column_items(columns: list[str] | None) -> tuple[dict[str, str], dict[str, str]]:
    """``["model_a=left", "judge==crowd"]`` -> (``{"model_a": "left"}``, ``{"judge": "crowd"}``)."""
    mapping: dict[str, str] = {}
    constants: dict[str, str] = {}
    for item in columns or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        const = value.startswith("=")
        value = value[1:].strip() if const else value.strip()
        if not sep or not key or not value:
            raise UsageError(
                "--column expects CANONICAL=SOURCE (e.g. model_a=left_model) or CANONICAL==VALUE "
                f"(e.g. model_a==llama-3-70b), got {item!r}"
            )
        table = constants if const else mapping
        if (key in mapping or key in constants) and table.get(key) != value:
            old = mapping.get(key, constants.get(key))
            raise UsageError(f"--column {key} given twice ({old!r} and {value!r})")
        table[key] = value
    return mapping, constants


def parse_columns(columns: list[str] | None) -> dict[str, str] | None:
    """Turn ``["model_a=left", ...]`` into ``{"model_a": "left", ...}``; a malformed item is a usage error."""
    return _parse_column_items(columns)[0] or None


def parse_labels(labels: list[str] | None) -> dict[str, dict[str, str]] | None:
    """``["winner=left:model_a,right:model_b"]`` -> ``{"winner": {"left": "model_a", "right": "model_b"}}``.

    The last ``:`` of an item separates the source label from the canonical one, so a source label may hold
    colons; items are separated by commas.
    """
    if not labels:
        return None
    out: dict[str, dict[str, str]] = {}
    for item in labels:
        column, sep, pairs = item.partition("=")
        column = column.strip()
        if not sep or not column or not pairs:
            raise UsageError(
                f"--label expects COLUMN=SOURCE:CANONICAL[,...] (e.g. winner=left:model_a), got {item!r}"
            )
        table = out.setdefault(column, {})
        for pair in pairs.split(","):
            source, colon, target = pair.rpartition(":")
            target = target.strip()
            if not colon or not source or not target:
                raise UsageError(f"--label {column}: expected SOURCE:CANONICAL, got {pair!r}")
            if table.get(source, target) != target:
                raise UsageError(
                    f"--label {column}: {source!r} mapped twice ({table[source]!r} and {target!r})"
                )
            table[source] = target
    return out


def layout_options(
    columns: list[str] | None = None, labels: list[str] | None = None, answers: str | None = None
) -> dict[str, Any]:
    """The ``load_battles`` keyword arguments behind ``--column``, ``--label`` and ``--answers``."""
    mapping, constants = _parse_column_items(columns)
    return {
        "columns": mapping or None,
        "constants": constants or None,
        "labels": parse_labels(labels),
        "answers": answers,
    }


def load_input(
    paths: list[str] | None,
    fmt: str | None = None,
    columns: list[str] | None = None,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    quiet: bool = False,
    *,
    labels: list[str] | None = None,
    answers: str | None = None,
) -> BattleSet:
    """Load battles for a command: progress bar per file, then one warning line per reject reason.

    Library errors propagate unchanged (``UsageError`` -> exit 1, ``DataError`` -> exit 2 via
    :func:`stylebias.cli.main`).
    """
    from ..formats import load_battles

    layout = layout_options(columns, labels, answers)
    with shown_warnings(quiet), progress_bars(quiet):
        data = load_battles(paths or None, format=fmt, max_record_bytes=max_record_bytes, **layout)
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


MaxRejectedOpt = Annotated[
    float,
    typer.Option(
        "--max-rejected",
        help=(
            "Largest share of input records that may be rejected (0-1); above it the command says so first "
            "and exits with code 3 (degenerate result) after its output. 1 = never."
        ),
        min=0.0,
        max=1.0,
    ),
]

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
            "refusal, tone, readability), lmarena (LMArena's 4: tokens, headers, lists, bold), lmarena-2025 "
            "(+ emoji and tone levels), arena-hard / arena-hard-v0.1 (Arena-Hard-Auto's own length and "
            "markdown terms), full (every feature, incl. near-duplicates), a family, or a comma list; none = "
            "no style control. Default: style when the battles have response texts, lmarena when they are "
            "metadata-only."
        ),
        show_default=False,
    ),
]
WeightsOpt = Annotated[
    bool,
    typer.Option(
        "--weights/--no-weights",
        help="Use the battles' weight column as frequency weights when they have one (Arena-Hard-Auto: a "
        "strong verdict counts as 3 battles, as upstream counts it).",
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
NoteOpt = Annotated[
    list[str] | None,
    typer.Option("--note", help="Extra line for the saved model's card (repeatable).", show_default=False),
]
BootOpt = Annotated[
    int,
    typer.Option(
        "--boot",
        help="Prompt-bootstrap replicates for the intervals of the explanation's numbers (each refits the chosen "
        "vote model); 0 = no intervals.",
        min=0,
    ),
]
JobsOpt = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        help="Processes for feature extraction (and bootstrap where there is one); default: one per core, "
        "started only when the input is big enough to pay for starting them; 1 = this process only. "
        "Results do not depend on it.",
        min=1,
        show_default=False,
    ),
]
DaskOpt = Annotated[
    str | None,
    typer.Option(
        "--dask",
        help="Run on a Dask cluster: a scheduler address (tcp://host:8786) or local[:N] (N worker processes "
        "here). Each input file is a partition loaded on a worker. Needs: pip install 'stylebias[dask]'.",
        show_default=False,
    ),
]


def cluster_load_options(
    fmt: str | None,
    columns: list[str] | None,
    labels: list[str] | None,
    answers: str | None,
    max_record_bytes: int,
) -> Any:
    """The input options as every worker of a ``--dask`` run loads its files with them."""
    from ..cluster.files import LoadOptions

    return LoadOptions(
        format=fmt, max_record_bytes=max_record_bytes, **layout_options(columns, labels, answers)
    )
