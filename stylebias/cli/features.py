"""``stylebias features``: extract style features for every response (and every battle with ``--pairs``).

Per-response rows carry ``battle_id``, ``side`` (a/b) and ``model``; the extraction streams in blocks, so the
output file is written block by block and memory stays bounded.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from . import app
from . import options as opt
from .common import console, err_console, finish, progress_bars, show_problems, shown_warnings, write_outputs


@app.command("features")
def features(
    paths: opt.PathsArg = None,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Per-response features (.parquet or .csv; with --dask a directory of Parquet parts); "
            "required, so nothing is written where you did not ask.",
            show_default=False,
        ),
    ] = ...,  # type: ignore[assignment]
    feature_spec: Annotated[
        str,
        typer.Option(
            "--features",
            help=(
                "lmarena (tokens, headers, lists, bold), style (one feature per concept), full (all 21), a "
                "family (verbosity, structure, emoji, flattery, refusal, tone), or a comma list."
            ),
        ),
    ] = "full",
    pairs: Annotated[
        bool,
        typer.Option("--pairs", help="Also write battle-level pair features to <output>_pairs.<ext>."),
    ] = False,
    jobs: opt.JobsOpt = None,
    no_cache: Annotated[
        bool,
        typer.Option("--no-cache", help="Do not read or write the feature cache ($STYLEBIAS_CACHE_DIR)."),
    ] = False,
    json_out: opt.JsonOpt = None,
    fmt: opt.FormatOpt = None,
    column: opt.ColumnOpt = None,
    label: opt.LabelOpt = None,
    answers: opt.AnswersOpt = None,
    max_record_bytes: opt.MaxRecordOpt = opt.DEFAULT_MAX_RECORD_BYTES,
    dask: opt.DaskOpt = None,
    max_rejected: opt.MaxRejectedOpt = opt.MAX_REJECTED_SHARE,
    quiet: opt.QuietOpt = False,
) -> None:
    """Extract style features (length, markdown, emoji, flattery, refusal, tone) from battle files.

    Writes one row per response (battle_id, side, model, features) as Parquet or CSV, and with --pairs the
    battle-level pair features the rating fit uses. Feature definitions: features/README.md.

        stylebias features battles.jsonl -o feats.parquet --features style --pairs
        stylebias features shards/*.parquet -o feats/ --dask local:4     # one Parquet part per file
    """
    from ..rating.checks import rejected_problem

    if dask is not None:
        from ..cluster import extract_features

        t0 = time.perf_counter()  # loading happens on the workers, inside the timed run
        options = opt.cluster_load_options(fmt, column, label, answers, max_record_bytes)
        with shown_warnings(quiet), progress_bars(quiet):
            written, ledger = extract_features(
                paths, output, feature_spec, dask=dask, pairs=pairs, cache=not no_cache, options=options
            )
        if not quiet and ledger.rejected:
            opt.warn_rejects(ledger)
        rejected = rejected_problem(ledger, max_rejected)
        problems = [] if rejected is None else [rejected]
        show_problems(problems)
    else:
        from ..extract.stream import write_features

        data = opt.load_input(paths, fmt, column, max_record_bytes, quiet, labels=label, answers=answers)
        rejected = rejected_problem(data, max_rejected)
        problems = [] if rejected is None else [rejected]
        show_problems(problems)
        t0 = time.perf_counter()
        with shown_warnings(quiet), progress_bars(quiet):
            written = write_features(data, output, feature_spec, pairs=pairs, jobs=jobs, cache=not no_cache)
    dt = time.perf_counter() - t0
    write_outputs(json_out, lambda: {"problems": [p.to_json() for p in problems], **written.to_json()})
    if not quiet:
        _print(written, dt)
    finish(problems)


def _print(written: Any, dt: float) -> None:
    table = Table(
        title=f"Style features of {written.responses:,} responses ({written.battles:,} battles)",
        title_justify="left",
    )
    table.add_column("feature")
    table.add_column("mean", justify="right")
    for n, mean in written.means().items():
        table.add_row(n, f"{mean:,.3f}" if mean is not None else "-")
    if written.refusal:
        table.add_row("refusal", ", ".join(f"{k} {v:,}" for k, v in sorted(written.refusal.items())))
    if written.scripts:
        table.add_row("script", ", ".join(f"{k} {v:,}" for k, v in sorted(written.scripts.items())))
    console.print(table)
    err_console.print(f"wrote {' and '.join(written.outputs)} in {dt:.1f}s")
