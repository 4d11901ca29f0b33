"""``stylebias explain``: why each model won — vote model, held-out scores, style points, SHAP, BT cross-check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from . import app
from . import options as opt
from .common import console, progress_bars, shown_warnings, write_csv, write_json


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
        int, typer.Option("--folds", help="Cross-validation folds (grouped by prompt).", min=2)
    ] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the fold split and LightGBM.")] = 0,
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
    """Explain why each model won: a LightGBM vote model of style + Bradley-Terry strength, explained with SHAP.

    Prints the vote model's held-out log-loss, Brier and AUC next to baselines (prior, length-only logistic,
    Bradley-Terry + style), then per model: observed win rate, style-neutral win rate (same style on both
    sides) and the points of win rate each style group bought or cost, next to the Bradley-Terry view (raw −
    controlled rating split per feature). Method: docs/explain.md.

    Examples:

        stylebias explain --judge alpaca --model gpt-3.5-turbo-1106_verbose --model gpt-3.5-turbo-1106_concise
        stylebias explain votes.jsonl --plots figs/ --json why.json --save models/my_vote
        stylebias explain new_votes.jsonl --load models/my_vote
    """
    from ..explain import explain_battles, save_vote_model

    data = opt.load_input(
        paths, fmt, column, max_record_bytes=max_record_bytes, quiet=quiet, labels=label, answers=answers
    )
    with shown_warnings(quiet), progress_bars(quiet):
        result = explain_battles(data, features, model=load, folds=folds, seed=seed, judge=judge, jobs=jobs)
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
        save_vote_model(result.vote_model, save, data_description=describe(data, judge))
        console.print(f"[dim]saved the vote model to {escape(str(save))}[/]")
    if json_out is not None:
        write_json(json_out, result.to_json())
        console.print(f"[dim]wrote {escape(str(json_out))}[/]")
    if csv_out is not None:
        header, rows = models_csv(result)
        write_csv(csv_out, header, rows)
        console.print(f"[dim]wrote {escape(str(csv_out))}[/]")


def describe(data: Any, judge: str | None) -> str:
    files = ", ".join(sorted(map(str, data.sources["file"]))) if len(data.sources) else "a battle table"
    return f"{files}" + (f" (judge {judge})" if judge else "")


def models_csv(result: Any) -> tuple[list[str], list[list[Any]]]:
    groups = list(result.group_points.columns)
    base = ["model", "battles", "observed", "predicted", "neutral", "style_points"]
    bt = [c for c in ("rating_raw", "rating", "bt_shift") if c in result.models.columns]
    header = base + [f"points_{g}" for g in groups] + bt
    rows = []
    for r in result.models.to_dict("records"):
        gp = result.group_points.loc[r["model"]]
        rows.append([r[c] for c in base] + [float(gp[g]) for g in groups] + [r[c] for c in bt])
    return header, rows


def _pts(v: float) -> str:
    return f"{v:+.1f}"


def show(result: Any, models: list[str], movers: bool) -> None:
    if result.cv is not None:
        console.print(scores_table(result))
        console.print(
            "[dim]  log-loss = mean cross-entropy of P(A wins) vs pref_a (ties 0.5, soft as given); "
            "AUC on non-tie battles only[/]"
        )
    else:
        vm = result.vote_model.metrics
        console.print(
            f"[dim]reused saved vote model (no refit); its held-out log-loss when fitted: "
            f"{vm.get('cv_log_loss', float('nan')):.4f} (length-only {vm.get('length_only_log_loss', float('nan')):.4f})[/]"
        )
    console.print(points_table(result, models, movers))
    for m in models:
        console.print(f"  • {escape(result.model_sentence(m))}", highlight=False)
    if result.rank is not None:
        console.print(bt_table(result, models))
        console.print(
            "[dim]  BT = γ_k × mean z_k on the model's side (Elo, relative to the average style difference; "
            "sums to ≈ raw − ctrl). SHAP = mean TreeSHAP on its side × 400/ln10 (Elo-equivalent, relative to "
            "no style difference).[/]"
        )
    console.print(feature_table(result))
    d = result.data
    console.print(
        f"[dim]{d['read']:,} records read, {d['accepted']:,} accepted, {d['rejected']:,} rejected; "
        f"{d['explained']:,} battles explained; features: {escape(', '.join(result.vote_model.features))}[/]"
    )


def scores_table(result: Any) -> Table:
    from ..explain.cv import LABELS, MODELS

    cv = result.cv
    t = Table(
        title=f"Held-out vote prediction ({cv.folds} folds grouped by prompt; {cv.n_battles:,} battles, "
        f"{cv.n_prompts:,} prompts)",
        title_justify="left",
        show_edge=False,
    )
    t.add_column("predictor")
    t.add_column("log-loss", justify="right", style="bold")
    t.add_column("Brier", justify="right")
    t.add_column("AUC", justify="right")
    for m in MODELS:
        s = cv.scores.loc[m]
        t.add_row(escape(LABELS[m]), f"{s['log_loss']:.4f}", f"{s['brier']:.4f}", f"{s['auc']:.3f}")
    return t


def shown_groups(result: Any, models: list[str], min_points: float = 0.5) -> list[str]:
    """Groups worth a column: at least ``min_points`` for one shown model (the rest are listed as ~0)."""
    gp = result.group_points.loc[models]
    keep = [g for g in gp.columns if (gp[g].abs() >= min_points).any()]
    return keep or list(gp.columns[:1])


def points_table(result: Any, models: list[str], movers: bool) -> Table:
    from ..explain.design import GROUP_WORDS

    groups = shown_groups(result, models)
    title = "Why they won: win rate and the points each style group bought (+) or cost (−)"
    if movers:
        title += " — top movers"
    t = Table(title=title, title_justify="left", show_edge=False)
    t.add_column("model", overflow="fold", min_width=14)
    t.add_column("battles", justify="right")
    t.add_column("won", justify="right", style="bold")
    t.add_column("model pred.", justify="right")
    t.add_column("neutral", justify="right")
    for g in groups:
        t.add_column(GROUP_WORDS.get(g, g), justify="right")
    for m in models:
        r = result.model_row(m)
        gp = result.group_points.loc[m]
        t.add_row(
            escape(m),
            f"{int(r['battles']):,}",
            f"{r['observed']:.1%}",
            f"{r['predicted']:.1%}",
            f"{r['neutral']:.1%}",
            *[_pts(float(gp[g])) for g in groups],
        )
    return t


def bt_table(result: Any, models: list[str]) -> Table:
    from ..explain.design import GROUP_WORDS

    per = 400.0 / 2.302585092994046
    t = Table(
        title="Cross-check per style group, Elo: Bradley-Terry (γ·mean z) / vote model (SHAP)",
        title_justify="left",
        show_edge=False,
    )
    t.add_column("model", overflow="fold", min_width=14)
    t.add_column("raw", justify="right")
    t.add_column("ctrl", justify="right", style="bold")
    t.add_column("raw−ctrl", justify="right")
    groups = shown_groups(result, models)
    for g in groups:
        t.add_column(GROUP_WORDS.get(g, g), justify="right")
    for m in models:
        r = result.model_row(m)
        bt = result.bt_contributions.loc[m] if m in result.bt_contributions.index else None
        cells = []
        for g in groups:
            fs = result.groups[g]
            b = float(sum(bt.get(f, 0.0) for f in fs)) if bt is not None else float("nan")
            s = float(result.feature_shap.loc[m, fs].sum()) * per
            cells.append(f"{b:+.0f} / {s:+.0f}")
        t.add_row(
            escape(m),
            f"{r.get('rating_raw', float('nan')):.0f}",
            f"{r.get('rating', float('nan')):.0f}",
            f"{r.get('bt_shift', float('nan')):+.0f}",
            *cells,
        )
    return t


def feature_table(result: Any, limit: int = 10) -> Table:
    import pandas as pd

    f = result.features.sort_values("mean_abs_shap", ascending=False, kind="stable").head(limit)
    t = Table(title="Features by mean |SHAP| (log-odds)", title_justify="left", show_edge=False)
    t.add_column("feature")
    t.add_column("group")
    t.add_column("mean |SHAP|", justify="right", style="bold")
    t.add_column("BT coef (per SD)", justify="right")
    for r in f.to_dict("records"):
        t.add_row(
            escape(str(r["feature"])),
            escape(str(r["group"])),
            f"{r['mean_abs_shap']:.3f}",
            "dropped" if pd.isna(r["bt_coef"]) else f"{r['bt_coef']:+.3f}",
        )
    return t
