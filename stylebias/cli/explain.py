"""``stylebias explain``: why each model won — vote model, held-out scores, style points, SHAP, BT cross-check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from . import app
from . import options as opt
from .common import console, progress_bars, shown_warnings, write_outputs


@app.command("explain")
def explain(
    paths: opt.PathsArg = None,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            help="Explain this model (repeatable). Default: the top movers (largest |observed − style-neutral|).",
            show_default=False,
        ),
    ] = None,
    features: Annotated[
        str,
        typer.Option(
            "--features",
            help=(
                "Pair features of the vote model: auto (style with texts, lmarena for metadata-only), style, "
                "lmarena, full, a family or a comma list. Ignored with --load (the saved model's features)."
            ),
        ),
    ] = "auto",
    judge: Annotated[
        str | None,
        typer.Option(
            "--judge",
            help="Keep only battles of this judge (exact, else substring), e.g. --judge alpaca or --judge human.",
            show_default=False,
        ),
    ] = None,
    fmt: opt.FormatOpt = None,
    column: opt.ColumnOpt = None,
    label: opt.LabelOpt = None,
    answers: opt.AnswersOpt = None,
    folds: Annotated[
        int,
        typer.Option(
            "--folds", help="Outer cross-validation folds (grouped by prompt): the held-out scores.", min=2
        ),
    ] = 5,
    inner_folds: Annotated[
        int,
        typer.Option(
            "--inner-folds",
            help="Inner folds of each training fold (grouped by prompt): where the vote model is chosen.",
            min=2,
        ),
    ] = 5,
    reg: Annotated[
        str,
        typer.Option(
            "--reg",
            help=(
                "L2 penalty of the plain Bradley-Terry + style fits (the BT baseline and the BT view): auto = "
                "chosen by grouped cross-validation from 0.5-2048, or a number (0.5 = LMArena's). The vote "
                "model's own penalties are always chosen by cross-validation."
            ),
        ),
    ] = "auto",
    search: Annotated[
        str,
        typer.Option(
            "--search",
            help="Vote-model candidates: auto (length-only, BT + style on a penalty grid, residual trees) "
            "or linear (no trees; faster).",
        ),
    ] = "auto",
    boot: opt.BootOpt = 100,  # explain.api.DEFAULT_BOOT (a literal: the CLI imports no model code)
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the fold split, LightGBM and the bootstrap.")
    ] = 0,
    load: Annotated[
        str | None,
        typer.Option(
            "--load",
            help="Reuse a saved vote model (folder or shipped name, e.g. alpaca_eval_vote): no refit, no CV.",
            show_default=False,
        ),
    ] = None,
    save: Annotated[
        Path | None,
        typer.Option(
            "--save",
            help="Save the fitted vote model (JSON + LightGBM text + model card).",
            show_default=False,
        ),
    ] = None,
    note: opt.NoteOpt = None,
    plots: Annotated[
        Path | None,
        typer.Option("--plots", help="Write the figures (PNG and SVG) into this folder.", show_default=False),
    ] = None,
    json_out: opt.JsonOpt = None,
    csv_out: opt.CsvOpt = None,
    top: Annotated[
        int, typer.Option("--top", help="How many top movers to show without --model.", min=1)
    ] = 5,
    jobs: opt.JobsOpt = None,
    max_record_bytes: opt.MaxRecordOpt = opt.DEFAULT_MAX_RECORD_BYTES,
    quiet: opt.QuietOpt = False,
) -> None:
    """Explain why each model won: a vote model chosen by nested cross-validation, with intervals.

    The vote model's complexity (length-only, Bradley-Terry + style on a penalty grid, residual LightGBM
    trees) is chosen on inner folds; its held-out log-loss, Brier and AUC come from outer folds grouped by
    prompt, next to baselines (prior, length-only logistic, Bradley-Terry + style). Then per model: observed
    win rate, style-neutral win rate (every style difference set to 0, same opponents) and the points of win
    rate each style group bought or cost, with 95 % bootstrap intervals; the Bradley-Terry view of the same
    numbers, and a note wherever the two disagree. Method: docs/explain.md.

    Examples:

        stylebias explain --judge alpaca --model gpt-3.5-turbo-1106_verbose --model gpt-3.5-turbo-1106_concise
        stylebias explain votes.jsonl --plots figs/ --json why.json --save models/my_vote
        stylebias explain new_votes.jsonl --load models/my_vote
    """
    from ..explain import data_description, explain_battles, save_vote_model

    data = opt.load_input(
        paths, fmt, column, max_record_bytes=max_record_bytes, quiet=quiet, labels=label, answers=answers
    )
    with shown_warnings(quiet), progress_bars(quiet):
        result = explain_battles(
            data,
            features,
            model=load,
            folds=folds,
            inner_folds=inner_folds,
            seed=seed,
            judge=judge,
            reg=reg,
            search=search,
            boot=boot,
            jobs=jobs,
        )
        chosen = list(model) if model else result.top_movers(top)
        for m in chosen:
            result.model_row(m)  # UsageError naming the model if absent
        if plots is not None:
            from ..explain.plots import save_all

            written = save_all(result, plots, chosen)
    show(result, chosen, movers=not model)
    if plots is not None:
        console.print(f"[dim]wrote {len(written)} figure files to {escape(str(plots))}[/]")
    if save is not None:
        save_vote_model(result.vote_model, save, data_description=data_description(data, judge), notes=note)
        console.print(f"[dim]saved the vote model to {escape(str(save))}[/]")
    write_outputs(json_out, result.to_json, csv_out, result.models_csv)


def _pts(v: float) -> str:
    return f"{v:+.1f}"


def _rate(v: float, lo: float, hi: float) -> str:
    import math

    if math.isfinite(lo) and math.isfinite(hi):
        return f"{v:.1%} ({100 * lo:.0f}–{100 * hi:.0f})"
    return f"{v:.1%}"


def show(result: Any, models: list[str], movers: bool) -> None:
    if result.cv is not None:
        console.print(scores_table(result))
        console.print(
            "[dim]  log-loss = mean cross-entropy of P(A wins) vs pref_a (ties 0.5, soft as given); "
            "AUC on non-tie battles only; each outer fold's choice was made on inner folds of its training "
            "battles[/]"
        )
        console.print(choice_line(result), highlight=False)
    else:
        vm = result.vote_model.metrics
        console.print(
            f"[dim]reused saved vote model (no refit, no intervals); its held-out log-loss when fitted: "
            f"{vm.get('cv_log_loss', float('nan')):.4f} (length-only {vm.get('length_only_log_loss', float('nan')):.4f})[/]"
        )
    console.print(points_table(result, models, movers))
    for m in models:
        console.print(f"  • {escape(result.model_sentence(m))}", highlight=False)
        for note in result.model_notes(m):
            console.print(f"    [dim]– {escape(note)}[/]", highlight=False)
    if result.rank is not None:
        console.print(bt_table(result, models))
        console.print(
            "[dim]  BT points: the same split from the Bradley-Terry + style fit (same definition of "
            "style-neutral: every style difference 0, same opponents and sides); vote = the vote model's.[/]"
        )
    console.print(feature_table(result))
    d = result.data
    console.print(
        f"[dim]{d['read']:,} records read, {d['accepted']:,} accepted, {d['rejected']:,} rejected; "
        f"{d['explained']:,} battles explained; features: {escape(', '.join(result.vote_model.features))}[/]"
    )


def choice_line(result: Any) -> str:
    """Which vote model the explanations come from, and the test that picked it."""
    label = result.vote_model.candidate.get("label", result.vote_model.kind)
    sel = result.cv.selection
    text = f"explanations from: [bold]{escape(str(label))}[/]"
    t = getattr(sel, "test", None) or {}
    if t.get("reference_log_loss") is not None and "pick_log_loss" in t:
        ref = escape(str(t.get("reference", "length-only")))
        verdict = "richer model kept" if t.get("passed") else f"{ref} kept"
        text += (
            f" [dim](inner CV on all battles: best richer pick {t['pick_log_loss']:.4f} vs {ref} "
            f"{t['reference_log_loss']:.4f}, SE {t['se']:.4f}; {verdict}: a richer model must win by 2 SE)[/]"
        )
    elif t.get("note"):
        text += f" [dim]({escape(str(t['note']))})[/]"
    return text


def scores_table(result: Any) -> Table:
    cv = result.cv
    t = Table(
        title=f"Held-out vote prediction (nested: {cv.folds} outer folds grouped by prompt, {cv.inner_folds} "
        f"inner; {cv.n_battles:,} battles, {cv.n_prompts:,} prompts)",
        title_justify="left",
        show_edge=False,
    )
    t.add_column("predictor")
    t.add_column("log-loss", justify="right", style="bold")
    t.add_column("Brier", justify="right")
    t.add_column("AUC", justify="right")
    for m in cv.scores.index:
        s = cv.scores.loc[m]
        t.add_row(escape(cv.label(m)), f"{s['log_loss']:.4f}", f"{s['brier']:.4f}", f"{s['auc']:.3f}")
    return t


def shown_groups(result: Any, models: list[str], min_points: float = 0.5) -> list[str]:
    """Groups worth a column: at least ``min_points`` (or an interval excluding 0) for one shown model."""
    gp = result.group_points.loc[models]
    keep = []
    for g in gp.columns:
        big = (gp[g].abs() >= min_points).any()
        clear = any((lambda lo, hi: lo > 0 or hi < 0)(*result.point_interval(m, g)) for m in models)
        if big or clear:
            keep.append(g)
    return keep or list(gp.columns[:1])


def _points_cell(result: Any, m: str, g: str) -> str:
    """The points; dim when the interval includes 0 (the sentences give the intervals)."""
    v = float(result.group_points.at[m, g])
    lo, hi = result.point_interval(m, g)
    if lo == lo and hi == hi and not (lo > 0 or hi < 0):  # finite interval that includes 0
        return f"[dim]{_pts(v)}[/]"
    return _pts(v)


def points_table(result: Any, models: list[str], movers: bool) -> Table:
    from ..explain.design import GROUP_WORDS

    groups = shown_groups(result, models)
    title = "Why they won: win rate and the points each style group bought (+) or cost (−); dim = 95 % interval includes 0"
    if movers:
        title += " — top movers"
    t = Table(title=title, title_justify="left", show_edge=False)
    t.add_column("model", overflow="fold", min_width=14)
    t.add_column("battles", justify="right")
    t.add_column("won", justify="right", style="bold")
    t.add_column("model pred.", justify="right")
    t.add_column("style-neutral", justify="right")
    for g in groups:
        t.add_column(GROUP_WORDS.get(g, g), justify="right")
    for m in models:
        r = result.model_row(m)
        t.add_row(
            escape(m),
            f"{int(r['battles']):,}",
            f"{r['observed']:.1%}",
            f"{r['predicted']:.1%}",
            _rate(r["neutral"], r.get("neutral_low", float("nan")), r.get("neutral_high", float("nan"))),
            *[_points_cell(result, m, g) for g in groups],
        )
    return t


def bt_table(result: Any, models: list[str]) -> Table:
    from ..explain.design import GROUP_WORDS

    t = Table(
        title="Bradley-Terry view: ratings, style-neutral win rate and points per group (BT / vote model)",
        title_justify="left",
        show_edge=False,
    )
    t.add_column("model", overflow="fold", min_width=14)
    t.add_column("raw", justify="right")
    t.add_column("ctrl", justify="right", style="bold")
    t.add_column("neutral · BT", justify="right")
    groups = shown_groups(result, models)
    for g in groups:
        t.add_column(GROUP_WORDS.get(g, g), justify="right")
    for m in models:
        r = result.model_row(m)
        cells = []
        for g in groups:
            b = float(result.bt_points.at[m, g]) if result.bt_points is not None else float("nan")
            cells.append(f"{b:+.1f} / {float(result.group_points.at[m, g]):+.1f}")
        t.add_row(
            escape(m),
            f"{r.get('rating_raw', float('nan')):.0f}",
            f"{r.get('rating', float('nan')):.0f}",
            _rate(
                r.get("neutral_bt", float("nan")),
                r.get("neutral_bt_low", float("nan")),
                r.get("neutral_bt_high", float("nan")),
            ),
            *cells,
        )
    return t


def feature_table(result: Any, limit: int = 10) -> Table:
    import pandas as pd

    f = result.features.sort_values("mean_abs_shap", ascending=False, kind="stable").head(limit)
    t = Table(
        title="Features by mean |contribution| (log-odds; linear part + TreeSHAP of the trees)",
        title_justify="left",
        show_edge=False,
    )
    t.add_column("feature")
    t.add_column("group")
    t.add_column("mean |contrib.|", justify="right", style="bold")
    t.add_column("vote coef (per RMS)", justify="right")
    t.add_column("BT coef (per SD)", justify="right")
    for r in f.to_dict("records"):
        t.add_row(
            escape(str(r["feature"])),
            escape(str(r["group"])),
            f"{r['mean_abs_shap']:.3f}",
            f"{r['coef_per_rms']:+.3f}",
            "dropped" if pd.isna(r["bt_coef"]) else f"{r['bt_coef']:+.3f}",
        )
    return t
