"""``stylebias detector-error``: style effects and ratings corrected for the flattery and refusal detectors'
measured error (MC-SIMEX, :mod:`stylebias.rating.simex`); this module only parses and prints."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from . import app
from . import options as opt
from .common import console, finish, progress_bars, show_problems, shown_warnings, write_outputs

RATING_CSV = ("rank_corrected", "model", "rating", "corrected", "low", "high", "shift", "rank")


@app.command("detector-error")
def detector_error(
    paths: opt.PathsArg = None,
    features: Annotated[
        str,
        typer.Option(
            "--features",
            help="Style features (as for rank); the detector ones must be the labels flattery and refusal.",
        ),
    ] = "style",
    misclassification: Annotated[
        str | None,
        typer.Option(
            "--misclassification",
            help=(
                "Which measured detector error to correct for: validation (default: the shipped detectors on "
                "benchmark answers, a sample stratified by their labels), random (replies drawn at random, "
                "labelled by detectors that never saw them), held_out (the shipped detectors on held-out "
                "answers, mostly red-team chats) or loso (all tuning replies, half drawn enriched); pooled, or "
                "one source as MEASUREMENT:SOURCE (e.g. loso:alpaca_eval_ae2)."
            ),
            show_default=False,
        ),
    ] = None,
    misclassification_file: Annotated[
        Path | None,
        typer.Option(
            "--misclassification-file",
            help="Your own counts of (hand label, detector label), in the shape of models/detectors/confusion.json.",
            show_default=False,
        ),
    ] = None,
    correct: Annotated[
        str | None,
        typer.Option(
            "--correct",
            help="Which detector labels to correct: flattery, refusal or both (comma list; default: every one "
            "in the features). The others stay in the fit as they are.",
            show_default=False,
        ),
    ] = None,
    replicates: Annotated[
        int, typer.Option("--replicates", help="Re-draws of the labels per added-error level.", min=2)
    ] = 5,
    draws: Annotated[
        int,
        typer.Option(
            "--draws",
            help="Draws of the misclassification from its counts, so the intervals carry its uncertainty; 0 = "
            "its point estimate only.",
            min=0,
        ),
    ] = 10,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the re-draws (the result is reproducible).")
    ] = 0,
    fmt: opt.FormatOpt = None,
    column: opt.ColumnOpt = None,
    label: opt.LabelOpt = None,
    answers: opt.AnswersOpt = None,
    reg: opt.RegOpt = 0.5,
    ties: opt.TiesOpt = "half",
    weights: opt.WeightsOpt = True,
    top: Annotated[int | None, typer.Option("--top", help="Show only the first N models.", min=1)] = None,
    json_out: opt.JsonOpt = None,
    csv_out: opt.CsvOpt = None,
    jobs: opt.JobsOpt = None,
    max_record_bytes: opt.MaxRecordOpt = opt.DEFAULT_MAX_RECORD_BYTES,
    max_rejected: opt.MaxRejectedOpt = opt.MAX_REJECTED_SHARE,
    quiet: opt.QuietOpt = False,
) -> None:
    """Correct the style effects and ratings for the flattery and refusal detectors' measured error.

    The flattery and refusal features are detector labels, right only so often; an effect read through them
    is biased toward 0, and so is the style control for it. This refits Bradley-Terry + style with both
    sides' labels re-drawn through the measured misclassification raised to 0.5-2 and extrapolates back to no
    error (MC-SIMEX). Prints the misclassification used, the effects per unit as fitted and corrected, and
    the leaderboard with corrected ratings. Assumptions and what a simulation says of its accuracy:
    docs/rating.md#detector-error.

    Examples:

        stylebias detector-error                                 # the embedded demo
        stylebias detector-error battles.jsonl --correct refusal --draws 20
        stylebias detector-error votes/ --misclassification-file my_counts.json --json corrected.json

    It refuses a measured error that could not have produced the labels (say, --misclassification random on
    the demo: its false positives alone would give more full refusals than the demo's detectors find).
    """
    from ..rating import FitSettings
    from ..rating.checks import fit_problems
    from ..rating.simex import correct_detector_error, load_misclassification

    mis = load_misclassification(misclassification, misclassification_file)
    settings = FitSettings(features=features, reg=reg, ties=ties, n_jobs=jobs, weights=weights)
    data = opt.load_input(
        paths, fmt, column, max_record_bytes=max_record_bytes, quiet=quiet, labels=label, answers=answers
    )
    with shown_warnings(quiet), progress_bars(quiet):
        result = correct_detector_error(
            data,
            features,
            misclassification=mis,
            replicates=replicates,
            draws=draws,
            seed=seed,
            correct=None if correct is None else [c.strip() for c in correct.split(",") if c.strip()],
            settings=settings,
        )
    problems = fit_problems(result.naive.controlled, data, max_rejected)
    show_problems(problems)
    console.print(misclassification_table(result.misclassification))
    console.print(effect_table(result.effects, result.naive.settings["level"]))
    console.print(rating_table(result.ratings, result.naive.settings["level"], top))
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    write_outputs(
        json_out,
        result.to_json,
        csv_out,
        lambda: (RATING_CSV, result.ratings[list(RATING_CSV)].itertuples(index=False, name=None)),
    )
    finish(problems)


def misclassification_table(mis: Any) -> Table:
    """P(detector says column | hand label row), with the replies each row rests on."""
    t = Table(
        title=f"Detector error corrected for: {escape(mis.basis)} (P(detector says column | hand label))",
        title_justify="left",
        show_edge=False,
    )
    t.add_column("detector")
    t.add_column("hand label")
    t.add_column("detector says", justify="right")
    t.add_column("replies", justify="right")
    from ..rating.simex import DETECTOR_LEVELS

    for name, matrix in mis.matrices.items():
        levels = DETECTOR_LEVELS[name]
        for i, row in enumerate(matrix):
            cells = "  ".join(f"{lv} {p:.0%}" for lv, p in zip(levels, row, strict=True))
            t.add_row(name if i == 0 else "", levels[i], cells, f"{mis.counts[name][i].sum():,.0f}")
    t.caption = escape(mis.how)
    t.caption_justify = "left"
    return t


def effect_table(effects: Any, level: float) -> Table:
    t = Table(
        title="Style effects per unit of the pair feature (log-odds): as fitted, and corrected for detector error",
        title_justify="left",
        show_edge=False,
    )
    t.add_column("feature")
    t.add_column("fitted", justify="right")
    t.add_column("corrected", justify="right", style="bold")
    t.add_column(f"{round(level * 100)}% CI", justify="right")
    t.add_column("× fitted", justify="right")
    t.add_column("unit")
    for r in effects.to_dict("records"):
        t.add_row(
            escape(str(r["name"])) + (" *" if r["detector"] else ""),
            _coef(r["fitted"]),
            _coef(r["corrected"]),
            _interval(r["low"], r["high"], 3),
            "" if not math.isfinite(r["ratio"]) else f"{r['ratio']:.2f}",
            escape(str(r["unit"])),
        )
    t.caption = (
        "* a detector feature, its labels re-drawn; the others move because they share battles with it."
    )
    t.caption_justify = "left"
    return t


def rating_table(ratings: Any, level: float, top: int | None) -> Table:
    t = Table(
        title="Leaderboard: style-controlled ratings, as fitted and corrected for detector error",
        title_justify="left",
        show_edge=False,
    )
    for name, justify in (("rank", "right"), ("model", "left"), ("rating", "right"), ("corrected", "right"),
                          (f"{round(level * 100)}% CI", "right"), ("shift", "right"), ("rank as fitted", "right")):  # fmt: skip
        t.add_column(name, justify=justify, overflow="fold" if name == "model" else None)
    shown = ratings if top is None else ratings.head(top)
    for r in shown.to_dict("records"):
        t.add_row(
            str(r["rank_corrected"]),
            escape(str(r["model"])),
            f"{r['rating']:.1f}",
            f"{r['corrected']:.1f}",
            _interval(r["low"], r["high"], 1),
            f"{r['shift']:+.1f}",
            str(r["rank"]),
        )
    return t


def _coef(x: float) -> str:
    """Three decimals, or three significant digits for a coefficient per unit of a feature with large units."""
    return f"{x:+.3f}" if x == 0 or abs(x) >= 0.01 else f"{x:+.2e}"


def _interval(low: float, high: float, digits: int) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return "n/a"
    if digits == 3:
        return f"{_coef(low)} – {_coef(high)}"
    return f"{low:.{digits}f} – {high:.{digits}f}"
