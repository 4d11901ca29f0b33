"""``stylebias fit``: fit the style-controlled model on battles and save it (JSON artifact + model card)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from . import app
from . import options as opt
from .common import console, finish, progress_bars, show_problems, shown_warnings, write_outputs
from .rank import feature_table


@app.command("fit")
def fit(
    paths: opt.PathsArg = None,
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
    fmt: opt.FormatOpt = None,
    column: opt.ColumnOpt = None,
    label: opt.LabelOpt = None,
    answers: opt.AnswersOpt = None,
    reg: opt.RegOpt = 0.5,
    ties: opt.TiesOpt = "half",
    components: Annotated[
        str,
        typer.Option(
            "--components",
            help="Disconnected comparison graph (e.g. two judges): largest (fit the biggest part) or refuse.",
        ),
    ] = "largest",
    weights: opt.WeightsOpt = True,
    title: Annotated[
        str | None, typer.Option("--title", help="Title of the model card.", show_default=False)
    ] = None,
    note: opt.NoteOpt = None,
    json_out: opt.JsonOpt = None,
    csv_out: opt.CsvOpt = None,
    jobs: opt.JobsOpt = None,
    max_record_bytes: opt.MaxRecordOpt = opt.DEFAULT_MAX_RECORD_BYTES,
    max_rejected: opt.MaxRejectedOpt = opt.MAX_REJECTED_SHARE,
    quiet: opt.QuietOpt = False,
) -> None:
    """Fit Bradley-Terry with style covariates on battles and save it for `stylebias rerank --load`.

    The saved folder holds artifact.json (ratings, style coefficients, feature standardisation, covariance,
    data summary, and the fit without style; JSON only, no pickle) and MODEL_CARD.md. Needs response texts
    (or metadata for the lmarena and arena-hard sets). `stylebias rank NEW --load DIR` then scores new
    models with all of it held fixed.

    Examples:

        stylebias fit --save my_model                                  # the embedded demo
        stylebias fit annotations/ --features lmarena --save ae2_lmarena --json fit.json
    """
    from ..rating import FitSettings
    from ..rating.checks import fit_problems
    from ..rating.persist import fit_style_model, save_fitted

    settings = FitSettings(
        features=features, reg=reg, ties=ties, components=components, n_jobs=jobs, weights=weights
    )
    data = opt.load_input(
        paths, fmt, column, max_record_bytes=max_record_bytes, quiet=quiet, labels=label, answers=answers
    )
    with shown_warnings(quiet), progress_bars(quiet):
        fitted, metrics = fit_style_model(data, settings=settings)
        extra = {"notes": list(note)} if note else None
        folder = save_fitted(fitted, save, metrics, title=title, extra_card=extra)
    bt = fitted.model
    problems = fit_problems(bt, data, max_rejected)
    show_problems(problems)
    acc = data.accounting()
    console.print(
        f"[bold]{acc['accepted']:,}[/] battles ({acc['read']:,} read, {acc['rejected']:,} rejected), "
        f"{bt.n_models_} models, judges: {escape(', '.join(fitted.data.get('judges', {})) or 'unknown')}"
    )
    console.print(feature_table(bt.effects(), bt.elo_per_logit, bt.level))
    dropped = bt.dropped_features_
    if dropped:
        console.print(f"[dim]dropped (no variance): {escape(', '.join(dropped))}[/]")
    ll = metrics["log_loss"]
    console.print(f"in-sample log-loss {ll:.4f} per battle (coin flip {metrics['log_loss_coin_flip']:.4f})")
    console.print(f"saved to [bold]{escape(str(folder))}[/] (artifact.json, MODEL_CARD.md)")
    effects = bt.effects().drop(columns=["sentence"])
    doc = {
        "problems": [p.to_json() for p in problems],
        "saved": str(folder),
        "features": list(fitted.features),
        "feature_set": fitted.feature_set,
        "effects": effects.to_dict("records"),
        "metrics": metrics,
        "data": fitted.data,
    }
    write_outputs(
        json_out,
        lambda: doc,
        csv_out,
        lambda: (list(effects.columns), effects.itertuples(index=False, name=None)),
    )
    finish(problems)
