"""``stylebias rank``: raw and style-controlled ratings, 95 % intervals, rank shifts, style effects."""

from __future__ import annotations

import math
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import UsageError
from . import app
from . import options as opt
from .common import console, err_console, progress_bars, shift_style, shown_warnings, write_outputs


def parse_anchor(value: str | None) -> tuple[str, float] | None:
    """``"gpt-4=1250"`` -> ("gpt-4", 1250.0); the model name may itself contain '='."""
    if value is None:
        return None
    model, sep, rating = value.rpartition("=")
    try:
        number = float(rating)
    except ValueError:
        number = math.nan
    if not sep or not model.strip() or not math.isfinite(number):
        raise UsageError(f"--anchor expects MODEL=RATING (e.g. gpt-4-0613=1163), got {value!r}")
    return model.strip(), number


def parse_features(value: str | None) -> Any:
    """``None`` -> "auto"; "none" -> no style control; anything else is passed to the feature registry."""
    if value is None:
        return "auto"
    if value.strip().lower() in ("none", "off", ""):
        return None
    return value


@app.command("rank")
def rank(
    paths: opt.PathsArg = None,
    fmt: opt.FormatOpt = None,
    column: opt.ColumnOpt = None,
    label: opt.LabelOpt = None,
    answers: opt.AnswersOpt = None,
    features: opt.StyleFeaturesOpt = None,
    ci: opt.CiOpt = "sandwich",
    rounds: opt.RoundsOpt = 100,
    seed: opt.SeedOpt = 0,
    anchor: Annotated[
        str | None,
        typer.Option(
            "--anchor", help="Pin one model's rating, e.g. --anchor gpt-4-0613=1163.", show_default=False
        ),
    ] = None,
    min_battles: Annotated[
        int, typer.Option("--min-battles", help="Rate only models with at least this many battles.", min=1)
    ] = 1,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Rank separately per value of this column (e.g. language, judge).",
            show_default=False,
        ),
    ] = None,
    ties: opt.TiesOpt = "half",
    reg: opt.RegOpt = 0.5,
    winrate_vs: Annotated[
        str | None,
        typer.Option(
            "--winrate-vs", help="Add each model's style-neutral win rate against MODEL.", show_default=False
        ),
    ] = None,
    components: Annotated[
        str,
        typer.Option(
            "--components",
            help="Disconnected comparison graph: split (one table per component), largest, or refuse.",
        ),
    ] = "split",
    json_out: opt.JsonOpt = None,
    csv_out: opt.CsvOpt = None,
    jobs: opt.JobsOpt = None,
    top: Annotated[int | None, typer.Option("--top", help="Show only the first N models.", min=1)] = None,
    max_record_bytes: opt.MaxRecordOpt = opt.DEFAULT_MAX_RECORD_BYTES,
    dask: opt.DaskOpt = None,
    quiet: opt.QuietOpt = False,
) -> None:
    """Rank models with and without style control (Bradley-Terry + style covariates, FastChat objective).

    Prints the raw and style-controlled leaderboard (95 % CI, LMArena's rank rule, rank shift), then what
    each style feature does to the odds of winning. Math and choices: docs/rating.md, docs/methods.md.

    Examples:

        stylebias rank                                   # the embedded demo
        stylebias rank battles.jsonl --ci bootstrap --rounds 200 --json ranks.json
        stylebias rank clean_battle.json --features lmarena --anchor gpt-4-0613=1163
        stylebias rank votes.csv --column model_a=left --column model_b=right --column winner=vote
        stylebias rank shards/*.parquet --dask tcp://scheduler:8786     # fitted on a Dask cluster
    """
    from ..rating import FitSettings, rank_battles_by
    from ..rating.pipeline import GroupedRanks

    settings = FitSettings(
        features=parse_features(features),
        reg=reg,
        ties=ties,
        ci=ci,
        rounds=rounds,
        seed=seed,
        anchor=parse_anchor(anchor),
        min_battles=min_battles,
        components=components,
        n_jobs=jobs,
    )
    if dask is not None:
        from ..cluster import rank_files

        if by is not None:
            raise UsageError("--by is not available with --dask; rank each group's files separately")
        options = opt.cluster_load_options(fmt, column, label, answers, max_record_bytes)
        with shown_warnings(quiet), progress_bars(quiet):
            result, ledger = rank_files(
                paths, dask=dask, settings=settings, winrate_vs=winrate_vs, options=options
            )
        if not quiet and ledger.rejected:
            opt.warn_rejects(ledger)
        ranks = GroupedRanks(None, [(None, result)], ledger.accounting())
    else:
        data = opt.load_input(
            paths, fmt, column, max_record_bytes=max_record_bytes, quiet=quiet, labels=label, answers=answers
        )
        with shown_warnings(quiet), progress_bars(quiet):
            ranks = rank_battles_by(data, by, settings=settings, winrate_vs=winrate_vs)

    for value, result in ranks.groups:
        if by is not None:
            console.rule(f"[bold]{escape(by)} = {escape(str(value))}[/]")
        if isinstance(result, str):
            err_console.print(f"[yellow]skipped:[/] {escape(result)}")
            continue
        show_result(result, top=top)
    write_outputs(json_out, ranks.to_json, csv_out, ranks.csv)


def _fmt(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def show_result(result: Any, top: int | None = None) -> None:
    """Print, per component: the model table, win rates, the style effects; then what was not rated."""
    parts = result.all_parts()
    for part in parts:
        title = "Leaderboard: raw and style-controlled (ctrl) ratings"
        if len(parts) > 1:
            title += f" — component {part.component + 1} of {len(parts)} (own scale; not comparable across)"
        console.print(model_table(part, title, top))
        if "winrate" in part.models.columns:
            console.print(winrate_table(part, top))
            console.print("[dim]  (same style on both sides, either side of the screen; ties count half)[/]")
        if len(part.features):
            console.print(feature_table(part.features, part.controlled.elo_per_logit, part.settings["level"]))
            for s in part.features["sentence"]:
                console.print(f"  • {escape(s)}")
        dropped = part.controlled.dropped_features_
        if dropped:
            console.print(
                f"[dim]dropped (constant or collinear in these battles): {escape(', '.join(dropped))}[/]"
            )
        console.print()
    if len(result.excluded):
        t = Table(title="Not rated", title_justify="left", show_edge=False)
        t.add_column("model", overflow="fold")
        t.add_column("battles", justify="right")
        t.add_column("reason")
        for r in result.excluded.itertuples(index=False):
            t.add_row(escape(str(r.model)), _fmt(r.battles), escape(str(r.reason)))
        console.print(t)
    d = result.data
    console.print(
        f"[dim]{d['read']:,} records read, {d['accepted']:,} accepted, {d['rejected']:,} rejected; "
        f"{sum(p.n_battles for p in parts):,} battles rated; ties={result.settings['ties']}, "
        f"reg={result.settings['reg']}, ci={result.settings['ci']}[/]"
    )


def winrate_table(part: Any, top: int | None) -> Table:
    pct = round(part.settings["level"] * 100)
    ref = escape(str(part.winrate_reference))
    t = Table(
        title=f"Style-neutral win rate vs {ref}",
        title_justify="left",
        show_edge=False,
    )
    t.add_column("model", overflow="fold")
    t.add_column("win rate", justify="right", style="bold")
    t.add_column(f"{pct}% CI", justify="right")
    rows = part.models if top is None else part.models.head(top)
    for r in rows.to_dict("records"):
        t.add_row(
            escape(str(r["model"])), f"{r['winrate']:.1%}", f"{r['winrate_low']:.1%}–{r['winrate_high']:.1%}"
        )
    return t


def model_table(part: Any, title: str, top: int | None) -> Table:
    m = part.models
    pct = round(part.settings["level"] * 100)
    t = Table(title=title, title_justify="left", show_edge=False, header_style="bold", pad_edge=False)
    t.add_column("rank", justify="right")
    t.add_column("model", overflow="fold", min_width=12, ratio=1)
    t.add_column("battles", justify="right")
    t.add_column("raw", justify="right")
    t.add_column("ctrl", justify="right", style="bold")
    t.add_column(f"{pct}% CI", justify="right", no_wrap=True)
    t.add_column("rank raw→ctrl", justify="right", no_wrap=True, min_width=9)
    rows = m if top is None else m.head(top)
    for r in rows.to_dict("records"):
        arrow = r["shift"]
        cells = [
            str(r["rank"]),
            escape(str(r["model"])),
            _fmt(r["battles"]),
            f"{r['rating_raw']:.1f}",
            f"{r['rating']:.1f}",
            f"{r['rating_low']:.0f}–{r['rating_high']:.0f}",
            f"{r['rank_raw']}→{r['rank']} [{shift_style(arrow)}]{arrow:>3}[/]",
        ]
        t.add_row(*cells)
    if top is not None and len(m) > top:
        t.caption = f"{len(m) - top} more models not shown (--top {top})"
    return t


def feature_table(effects: Any, elo_per_logit: float, level: float) -> Table:
    """Style effects per +1 SD of the pair feature: coefficient, interval, odds ratio, Elo equivalent."""
    t = Table(title="Style effects (per +1 SD of the pair feature)", title_justify="left", show_edge=False)
    t.add_column("feature")
    t.add_column("coef (log-odds)", justify="right")
    t.add_column(f"{round(level * 100)}% CI", justify="right")
    t.add_column("odds ×", justify="right", style="bold")
    t.add_column("Elo-equivalent", justify="right")
    for r in effects.to_dict("records"):
        t.add_row(
            escape(str(r["name"])),
            f"{r['coef']:+.3f}",
            f"{r['low']:+.3f} – {r['high']:+.3f}",
            f"{r['odds_ratio']:.2f}",
            f"{r['coef'] * elo_per_logit:+.1f}",
        )
    return t
