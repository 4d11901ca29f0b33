"""``stylebias report``: one self-contained HTML page (inline CSS and SVG, one small inline script, nothing
fetched)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from . import app
from . import options as opt
from .common import console, finish, progress_bars, show_problems, shown_warnings, write_outputs
from .rank import parse_features


def _size(n: int) -> str:
    return f"{n / 1024:,.0f} kB" if n < 1024 * 1024 else f"{n / 1024 / 1024:,.1f} MB"


@app.command("report")
def report(
    paths: opt.PathsArg = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="HTML file to write (replaced atomically).")
    ] = Path("report.html"),
    fmt: opt.FormatOpt = None,
    column: opt.ColumnOpt = None,
    label: opt.LabelOpt = None,
    answers: opt.AnswersOpt = None,
    features: opt.StyleFeaturesOpt = None,
    title: Annotated[str | None, typer.Option("--title", help="Page title.", show_default=False)] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Also rank separately per value of this column (e.g. judge, language): one panel each.",
            show_default=False,
        ),
    ] = None,
    ci: opt.CiOpt = "sandwich",
    rounds: opt.RoundsOpt = 100,
    seed: opt.SeedOpt = 0,
    no_explain: Annotated[
        bool,
        typer.Option(
            "--no-explain", help="Skip the vote model and its explanations (faster; ratings and cards stay)."
        ),
    ] = False,
    boot: opt.BootOpt = 30,  # report.build.REPORT_BOOT (a literal: the CLI imports no model code)
    jobs: opt.JobsOpt = None,
    json_out: opt.JsonOpt = None,
    csv_out: opt.CsvOpt = None,
    max_record_bytes: opt.MaxRecordOpt = opt.DEFAULT_MAX_RECORD_BYTES,
    max_rejected: opt.MaxRejectedOpt = opt.MAX_REJECTED_SHARE,
    quiet: opt.QuietOpt = False,
) -> None:
    """Write one self-contained HTML report of the raw and style-controlled ranking.

    Contents: data accounting (read/accepted/rejected with reasons), leaderboard raw vs style-controlled with Δ = raw − controlled and rank-shift arrows, forest plot with intervals, slope chart of rank shifts, style effects with their support, SHAP summary of the vote model, a "why it won" card per model with the battles where style moved its vote most, and with --by one panel per group. Tables sort by a click on a header; a box filters by model name; each leaderboard row links to its card.

    The cards' intervals come from --boot prompt-bootstrap replicates, 30 by default (explain uses 100: each replicate refits the vote model, so fewer keep the report quick; their ends are rougher).

    The file has inline CSS, SVG and one small script; a Content-Security-Policy forbids loading anything (no fonts, images or CDN), so it opens offline and can be mailed or archived. Every string that came from the data is HTML-escaped. Details: docs/report.md.

    Examples:

        stylebias report -o demo.html          # the embedded demo
        stylebias report battles.jsonl -o report.html --title "Arena, March"
        stylebias report arena.json --features lmarena --no-explain -o arena.html
        stylebias report battles.jsonl --by judge -o report.html
    """
    from ..rating import FitSettings
    from ..rating.checks import result_problems
    from ..rating.pipeline import GroupedRanks
    from ..report import build_report, write_report

    settings = FitSettings(features=parse_features(features), ci=ci, rounds=rounds, seed=seed, n_jobs=jobs)
    data = opt.load_input(
        paths, fmt, column, max_record_bytes=max_record_bytes, quiet=quiet, labels=label, answers=answers
    )
    with shown_warnings(quiet), progress_bars(quiet):
        built = build_report(data, settings=settings, title=title, explain=not no_explain, boot=boot, by=by)
        path = write_report(built, output)
    problems = result_problems(built.rank, data, max_rejected)
    show_problems(problems)
    size = path.stat().st_size
    write_outputs(
        json_out,
        lambda: {
            "report": {"path": str(path), "bytes": size},
            "problems": [p.to_json() for p in problems],
            **built.rank.to_json(),
        },
        csv_out,
        GroupedRanks(None, [(None, built.rank)], data.accounting()).csv,
    )
    console.print(f"wrote {escape(str(path))} ({_size(size)})")
    finish(problems)
