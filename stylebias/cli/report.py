"""``stylebias report``: one self-contained HTML page (inline CSS and SVG, no scripts, no network)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from . import app
from .common import console, progress_bars, shown_warnings, write_csv, write_json
from .options import (
    DEFAULT_MAX_RECORD_BYTES,
    AnswersOpt,
    ColumnOpt,
    FormatOpt,
    JobsOpt,
    LabelOpt,
    MaxRecordOpt,
    PathsArg,
    QuietOpt,
    load_input,
)
from .rank import parse_features


def _size(n: int) -> str:
    return f"{n / 1024:,.0f} kB" if n < 1024 * 1024 else f"{n / 1024 / 1024:,.1f} MB"


@app.command("report")
def report(
    paths: PathsArg = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="HTML file to write (replaced atomically).")
    ] = Path("report.html"),
    fmt: FormatOpt = None,
    column: ColumnOpt = None,
    label: LabelOpt = None,
    answers: AnswersOpt = None,
    features: Annotated[
        str | None,
        typer.Option(
            "--features",
            help=(
                "Style features to control for (as in `stylebias rank`): style, lmarena, full, a family, or a "
                "comma list; none = no style control. Default: style with texts, lmarena for metadata-only."
            ),
            show_default=False,
        ),
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="Page title.", show_default=False)] = None,
    ci: Annotated[
        str, typer.Option("--ci", help="Interval method: sandwich (fast, robust) or bootstrap.")
    ] = "sandwich",
    rounds: Annotated[int, typer.Option("--rounds", help="Bootstrap replicates.", min=2)] = 100,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    no_explain: Annotated[
        bool,
        typer.Option("--no-explain", help="Skip the LightGBM + SHAP part (faster; ratings and cards stay)."),
    ] = False,
    jobs: JobsOpt = None,
    json_out: Annotated[
        Path | None,
        typer.Option(
            "--json",
            help="Also write the ranking behind the page as JSON (- for stdout).",
            show_default=False,
        ),
    ] = None,
    csv_out: Annotated[
        Path | None,
        typer.Option(
            "--csv",
            help="Also write the model table as CSV, as `rank --csv` (- for stdout).",
            show_default=False,
        ),
    ] = None,
    max_record_bytes: MaxRecordOpt = DEFAULT_MAX_RECORD_BYTES,
    quiet: QuietOpt = False,
) -> None:
    """Write one self-contained HTML report of the raw and style-controlled ranking.

    Contents: data accounting (read/accepted/rejected with reasons), leaderboard raw vs style-controlled with rank-shift arrows, forest plot with intervals, slope chart of rank shifts, style effects, SHAP summary of the vote model, and a "why it won" card per model.

    The file has inline CSS and SVG only (no scripts, no fonts or images fetched, no CDN), so it opens offline and can be mailed or archived. Every name that came from the data is HTML-escaped. Details: docs/report.md.

    Examples:

        stylebias report -o demo.html          # the embedded demo
        stylebias report battles.jsonl -o report.html --title "Arena, March"
        stylebias report arena.json --features lmarena --no-explain -o arena.html
    """
    from ..report import build_report, write_report

    data = load_input(
        paths, fmt, column, max_record_bytes=max_record_bytes, quiet=quiet, labels=label, answers=answers
    )
    with shown_warnings(quiet), progress_bars(quiet):
        built = build_report(
            data,
            features=parse_features(features),
            title=title,
            explain=not no_explain,
            ci=ci,
            rounds=rounds,
            seed=seed,
            n_jobs=jobs,
        )
        path = write_report(built, output)
    size = path.stat().st_size
    if json_out is not None:
        write_json(json_out, {"report": {"path": str(path), "bytes": size}, **built.rank.to_json()})
    if csv_out is not None:
        from .rank import groups_csv

        write_csv(csv_out, *groups_csv([(None, built.rank)], None))
    console.print(f"wrote {escape(str(path))} ({_size(size)})")
