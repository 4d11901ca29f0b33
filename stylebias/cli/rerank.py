"""``stylebias rerank``: style-neutral scores for a leaderboard with model outputs but no votes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from . import app
from . import options as opt
from .common import console, err_console, progress_bars, shift_style, shown_warnings, write_outputs

CSV_COLUMNS = (
    "model",
    "score_raw",
    "score_style_neutral",
    "score_style_neutral_low",
    "score_style_neutral_high",
    "rank_raw",
    "rank",
    "lc",
    "style_push_logit",
    "n_matched",
    "n_unmatched",
    "note",
)


@app.command("rerank")
def rerank(
    leaderboard: Annotated[
        Path,
        typer.Argument(
            help=(
                "Leaderboard file: AlpacaEval's leaderboard CSV (first column = model, win_rate in percent vs "
                "the reference), or any CSV/JSON board with --score-column."
            ),
            show_default=False,
        ),
    ],
    outputs: Annotated[
        list[str],
        typer.Option(
            "--outputs",
            help=(
                "AlpacaEval model_outputs.json files (plain or .gz), directories or quoted globs "
                "('results/*/model_outputs.json'); repeat --outputs for several."
            ),
            show_default=False,
        ),
    ],
    reference: Annotated[
        str,
        typer.Option(
            "--reference", help="The board's reference model (its outputs must be given).", show_default=False
        ),
    ],
    load: Annotated[
        str,
        typer.Option(
            "--load",
            help=(
                "Saved style model: a folder from `stylebias fit --save`, or a shipped name: alpaca_eval_style "
                "(length; validates best against human ratings) or alpaca_eval_style_all (every style family)."
            ),
        ),
    ] = "alpaca_eval_style",
    score_column: Annotated[
        str | None,
        typer.Option(
            "--score-column",
            help="Column holding each model's win rate vs the reference (default: win_rate).",
            show_default=False,
        ),
    ] = None,
    rounds: Annotated[
        int,
        typer.Option(
            "--rounds",
            help="Draws of the style effects (and of the reported score, given its standard_error) for the 95% interval; 0 = none.",
            min=0,
        ),
    ] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of those draws.")] = 0,
    json_out: opt.JsonOpt = None,
    csv_out: opt.CsvOpt = None,
    jobs: opt.JobsOpt = None,
    quiet: opt.QuietOpt = False,
) -> None:
    """Re-rank a board of win rates against a reference with every style difference set to zero.

    For each model: pair features of its answers vs the reference's answers to the same instructions, the
    saved style effects, and the strength that reproduces its reported win rate; the style-neutral win
    rate is that strength with no style difference (AlpacaEval's length control, generalised to any saved
    feature set). The effects must come from a judge like the board's. Method, assumptions and the validation
    against LMArena's human ratings: docs/rerank.md.

    Example:

        stylebias rerank weighted_alpaca_eval_gpt4_turbo_leaderboard.csv --outputs results/ \\
            --reference gpt4_1106_preview --load alpaca_eval_style --json reranked.json
    """
    from ..rerank import rerank_leaderboard

    with shown_warnings(quiet), progress_bars(quiet):
        result = rerank_leaderboard(
            leaderboard,
            outputs,
            reference,
            load,
            score_column=score_column,
            jobs=jobs,
            rounds=rounds,
            seed=seed,
        )
    show(result, json_out)
    header = [c for c in CSV_COLUMNS if c in result.models.columns]
    rows = result.models.to_dict("records")
    write_outputs(json_out, result.to_json, csv_out, lambda: (header, [[r[c] for c in header] for r in rows]))


#: A reason shared by more models than this is one summary line, not one row per model.
LIST_AT_MOST = 5


def show_not_reranked(not_reranked: Any, json_out: Path | None) -> None:
    """Models left out, by reason: a few are listed, a long list (a board of 200 models of which a
    handful have outputs) is one line with its count and where the full list is."""
    where = f"--json {json_out}" if json_out is not None and str(json_out) != "-" else "--json FILE"
    nt = Table(title="Not re-ranked", title_justify="left", show_edge=False)
    nt.add_column("model", overflow="fold")
    nt.add_column("reason")
    for reason, group in not_reranked.groupby("reason", sort=False):
        names = [str(m) for m in group["model"]]
        if len(names) <= LIST_AT_MOST:
            for name in names:
                nt.add_row(escape(name), escape(str(reason)))
        else:
            shown = ", ".join(names[:3])
            nt.add_row(
                f"{len(names):,} models",
                escape(f"{reason} (e.g. {shown}; every name is under not_reranked in {where})"),
            )
    console.print(nt)


def show(result: Any, json_out: Path | None = None) -> None:
    """The re-ranked table, then what was not re-ranked and why, then where the numbers came from."""
    m = result.models
    has_ci = "score_style_neutral_low" in m.columns
    has_lc = "lc" in m.columns
    ref = escape(str(result.settings["reference"]))
    t = Table(
        title=f"Win rate vs {ref}: reported (raw) and style-neutral (%)",
        title_justify="left",
        show_edge=False,
        header_style="bold",
        pad_edge=False,
    )
    t.add_column("rank", justify="right")
    t.add_column("model", overflow="fold", min_width=12, ratio=1)
    t.add_column("raw", justify="right")
    if has_lc:
        t.add_column("LC", justify="right")
    t.add_column("style-neutral", justify="right", style="bold")
    if has_ci:
        t.add_column("95% CI", justify="right", no_wrap=True)
    t.add_column("rank raw→new", justify="right", no_wrap=True, min_width=9)
    for r in m.to_dict("records"):
        arrow = r["shift"]
        cells = [str(r["rank"]), escape(str(r["model"])), f"{r['score_raw']:.1f}"]
        if has_lc:
            lc = r.get("lc")
            cells.append("" if lc is None or lc != lc else f"{lc:.1f}")
        cells.append(f"{r['score_style_neutral']:.1f}")
        if has_ci:
            cells.append(f"{r['score_style_neutral_low']:.1f}–{r['score_style_neutral_high']:.1f}")
        cells.append(f"{r['rank_raw']}→{r['rank']} [{shift_style(arrow)}]{arrow:>3}[/]")
        t.add_row(*cells)
    console.print(t)
    notes = [
        (r["model"], r["note"])
        for r in m.to_dict("records")
        if r.get("note") and r["model"] != result.settings["reference"]
    ]
    for model, note in notes:
        console.print(f"  [yellow]note[/] {escape(str(model))}: {escape(str(note))}")
    partial = m[m["n_unmatched"] + m["n_reference_missing"] > 0]
    for r in partial.to_dict("records"):
        console.print(
            f"  [dim]{escape(str(r['model']))}: {r['n_matched']} instructions matched, {r['n_unmatched']} of its "
            f"outputs without a reference answer, {r['n_reference_missing']} reference instructions unanswered[/]"
        )
    if len(result.not_reranked):
        show_not_reranked(result.not_reranked, json_out)
    s = result.settings
    console.print(
        f"[dim]{len(m)} models re-ranked, {len(result.not_reranked)} not; {s['outputs_read']:,} output records "
        f"read from {s['output_files']} file(s), {s['outputs_rejected']:,} rejected; style model "
        f"{escape(str(s['style_model']))} ({len(s['features'])} features)[/]"
    )
    if len(result.rejects):
        first = result.rejects.iloc[0]
        err_console.print(
            f"[yellow]warning:[/] {len(result.rejects):,} output record(s) rejected, first: "
            f"{escape(str(first['file']))} record {first['record']}: {escape(str(first['reason']))}"
        )
