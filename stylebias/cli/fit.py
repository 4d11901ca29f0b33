"""``stylebias fit``: fit the style-controlled model on battles and save it (JSON artifact + model card)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

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


@app.command("fit")
def fit(
    paths: PathsArg = None,
    save: Annotated[
        Path,
        typer.Option(
            "--save", help="Folder to write the fitted model to (created; existing files replaced)."
        ),
    ] = ...,  # type: ignore[assignment]
    features: Annotated[
        str,
        typer.Option(
            "--features",
            help=(
                "Style features: style (one per concept), lmarena (tokens, headers, lists, bold), full, a "
                "family (verbosity, structure, emoji, flattery, refusal, tone) or a comma list."
            ),
        ),
    ] = "style",
    fmt: FormatOpt = None,
    column: ColumnOpt = None,
    label: LabelOpt = None,
    answers: AnswersOpt = None,
    reg: Annotated[
        float,
        typer.Option(
            "--reg", help="L2 penalty reg/2*||theta||^2 on the summed log-loss (0.5 = LMArena).", min=0.0
        ),
    ] = 0.5,
    ties: Annotated[
        str, typer.Option("--ties", help="Tie model: half (LMArena), rao-kupper, davidson.")
    ] = "half",
    components: Annotated[
        str,
        typer.Option(
            "--components",
            help="Disconnected comparison graph (e.g. two judges): largest (fit the biggest part) or refuse.",
        ),
    ] = "largest",
    title: Annotated[
        str | None, typer.Option("--title", help="Title of the model card.", show_default=False)
    ] = None,
    note: Annotated[
        list[str] | None,
        typer.Option(
            "--note", help="Extra line for the model card's notes (repeatable).", show_default=False
        ),
    ] = None,
    json_out: Annotated[
        Path | None,
        typer.Option(
            "--json",
            help="Write effects, metrics and data summary as JSON ('-' = stdout).",
            show_default=False,
        ),
    ] = None,
    csv_out: Annotated[
        Path | None,
        typer.Option(
            "--csv",
            help="Write the style effects (name, coef, low, high, odds ratios) as CSV ('-' = stdout).",
            show_default=False,
        ),
    ] = None,
    jobs: JobsOpt = None,
    max_record_bytes: MaxRecordOpt = DEFAULT_MAX_RECORD_BYTES,
    quiet: QuietOpt = False,
) -> None:
    """Fit Bradley-Terry with style covariates on battles and save it for `stylebias rerank --load`.

    The saved folder holds artifact.json (ratings, style coefficients, feature standardisation, covariance,
    data summary; JSON only, no pickle) and MODEL_CARD.md. Needs response texts.

    Examples:

        stylebias fit --save my_model                                  # the embedded demo
        stylebias fit annotations/ --features lmarena --save ae2_lmarena --json fit.json
    """
    from ..rating.persist import fit_style_model, save_fitted

    data = load_input(
        paths, fmt, column, max_record_bytes=max_record_bytes, quiet=quiet, labels=label, answers=answers
    )
    with shown_warnings(quiet), progress_bars(quiet):
        fitted, metrics = fit_style_model(
            data, features, reg=reg, ties=ties, jobs=jobs, components=components
        )
        extra = {"notes": list(note)} if note else None
        folder = save_fitted(fitted, save, metrics, title=title, extra_card=extra)
    bt = fitted.model
    acc = data.accounting()
    console.print(
        f"[bold]{acc['accepted']:,}[/] battles ({acc['read']:,} read, {acc['rejected']:,} rejected), "
        f"{bt.n_models_} models, judges: {escape(', '.join(fitted.data.get('judges', {})) or 'unknown')}"
    )
    console.print(effects_table(bt))
    dropped = bt.dropped_features_
    if dropped:
        console.print(f"[dim]dropped (no variance): {escape(', '.join(dropped))}[/]")
    ll = metrics["log_loss"]
    console.print(f"in-sample log-loss {ll:.4f} per battle (coin flip {metrics['log_loss_coin_flip']:.4f})")
    console.print(f"saved to [bold]{escape(str(folder))}[/] (artifact.json, MODEL_CARD.md)")
    if json_out is not None:
        doc = {
            "saved": str(folder),
            "features": list(fitted.features),
            "feature_set": fitted.feature_set,
            "effects": [
                {k: v for k, v in r.items() if k != "sentence"} for r in bt.effects().to_dict("records")
            ],
            "metrics": metrics,
            "data": fitted.data,
        }
        write_json(json_out, doc)
        if str(json_out) != "-":
            console.print(f"[dim]wrote {escape(str(json_out))}[/]")
    if csv_out is not None:
        eff = bt.effects()
        cols = [c for c in eff.columns if c != "sentence"]
        write_csv(csv_out, cols, eff[cols].itertuples(index=False, name=None))  # type: ignore[arg-type]


def effects_table(bt: object) -> Table:
    """Style effects per +1 SD of the pair feature: coefficient, interval, odds ratio, Elo equivalent."""
    t = Table(title="Style effects (per +1 SD of the pair feature)", title_justify="left", show_edge=False)
    t.add_column("feature")
    t.add_column("coef (log-odds)", justify="right")
    t.add_column("95% CI", justify="right")
    t.add_column("odds ×", justify="right", style="bold")
    t.add_column("Elo-equivalent", justify="right")
    per = bt.elo_per_logit  # type: ignore[attr-defined]
    for r in bt.effects().to_dict("records"):  # type: ignore[attr-defined]
        t.add_row(
            escape(str(r["name"])),
            f"{r['coef']:+.3f}",
            f"{r['low']:+.3f} – {r['high']:+.3f}",
            f"{r['odds_ratio']:.2f}",
            f"{r['coef'] * per:+.1f}",
        )
    return t
