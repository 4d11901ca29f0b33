"""``stylebias rank``: raw and style-controlled ratings, 95 % intervals, rank shifts, style effects."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import UsageError
from . import app
from .common import console, err_console, progress_bars, shown_warnings, write_csv, write_json
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
    paths: PathsArg = None,
    fmt: FormatOpt = None,
    column: ColumnOpt = None,
    label: LabelOpt = None,
    answers: AnswersOpt = None,
    features: Annotated[
        str | None,
        typer.Option(
            "--features",
            help=(
                "Style features to control for: style (one per concept: length, markdown, emoji, flattery, "
                "refusal, tone, readability), lmarena (LMArena's 4: tokens, headers, lists, bold), full (every "
                "feature, incl. near-duplicates), a family, or a comma list; none = no style control. Default: "
                "style when the battles have response texts, lmarena when they are metadata-only."
            ),
            show_default=False,
        ),
    ] = None,
    ci: Annotated[
        str, typer.Option("--ci", help="Interval method: sandwich (fast, robust) or bootstrap.")
    ] = ("sandwich"),
    rounds: Annotated[int, typer.Option("--rounds", help="Bootstrap replicates.", min=2)] = 100,
    seed: Annotated[
        int,
        typer.Option(
            "--seed",
            help="Bootstrap seed (replicate r draws from the seed sequence (seed, r), so each replicate is reproducible on its own).",
        ),
    ] = 0,
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
    ties: Annotated[
        str, typer.Option("--ties", help="Tie model: half (LMArena), rao-kupper, davidson.")
    ] = "half",
    reg: Annotated[
        float,
        typer.Option(
            "--reg",
            help="L2 penalty reg/2*||theta||^2 on the summed log-loss (0.5 = FastChat/LMArena).",
            min=0.0,
        ),
    ] = 0.5,
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
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the result as JSON.", show_default=False)
    ] = None,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Write the model table as CSV.", show_default=False)
    ] = None,
    jobs: JobsOpt = None,
    top: Annotated[int | None, typer.Option("--top", help="Show only the first N models.", min=1)] = None,
    max_record_bytes: MaxRecordOpt = DEFAULT_MAX_RECORD_BYTES,
    quiet: QuietOpt = False,
) -> None:
    """Rank models with and without style control (Bradley-Terry + style covariates, FastChat objective).

    Prints the raw and style-controlled leaderboard (95 % CI, LMArena's rank rule, rank shift), then what
    each style feature does to the odds of winning. Math and choices: docs/rating.md, docs/methods.md.

    Examples:

        stylebias rank                                   # the embedded demo
        stylebias rank battles.jsonl --ci bootstrap --rounds 200 --json ranks.json
        stylebias rank clean_battle.json --features lmarena --anchor gpt-4-0613=1163
        stylebias rank votes.csv --column model_a=left --column model_b=right --column winner=vote
    """
    from ..rating.pipeline import rank_battles, rank_battles_by

    anchor_t = parse_anchor(anchor)
    feature_spec = parse_features(features)
    data = load_input(
        paths, fmt, column, max_record_bytes=max_record_bytes, quiet=quiet, labels=label, answers=answers
    )
    options = dict(
        reg=reg,
        ties=ties,
        ci=ci,
        rounds=rounds,
        seed=seed,
        anchor=anchor_t,
        min_battles=min_battles,
        components=components,
        n_jobs=jobs,
        winrate_vs=winrate_vs,
    )
    with shown_warnings(quiet), progress_bars(quiet):
        if by is None:
            groups = [(None, rank_battles(data, feature_spec, **options))]
        else:
            groups = rank_battles_by(data, by, features=feature_spec, **options)

    for value, result in groups:
        if by is not None:
            console.rule(f"[bold]{escape(by)} = {escape(str(value))}[/]")
        if isinstance(result, str):
            err_console.print(f"[yellow]skipped:[/] {escape(result)}")
            continue
        show_result(result, top=top)
    if json_out is not None:
        write_json(json_out, groups_json(groups, by, data.accounting()))
        console.print(f"[dim]wrote {escape(str(json_out))}[/]")
    if csv_out is not None:
        header, rows = groups_csv(groups, by)
        write_csv(csv_out, header, rows)
        console.print(f"[dim]wrote {escape(str(csv_out))}[/]")


def groups_json(groups: list[tuple[Any, Any]], by: str | None, accounting: dict[str, int]) -> dict[str, Any]:
    if by is None:
        return groups[0][1].to_json()
    out: list[dict[str, Any]] = []
    for value, result in groups:
        if isinstance(result, str):
            out.append({"value": value, "error": result})
        else:
            out.append({"value": value, **result.to_json()})
    return {"by": by, "groups": out, "data": dict(accounting)}


CSV_COLUMNS = (
    "model",
    "battles",
    "rating",
    "rating_low",
    "rating_high",
    "rank",
    "rating_raw",
    "rating_raw_low",
    "rating_raw_high",
    "rank_raw",
)


def groups_csv(groups: list[tuple[Any, Any]], by: str | None) -> tuple[list[str], list[list[Any]]]:
    header = ([by] if by else []) + ["component", *CSV_COLUMNS]
    extra = ["winrate", "winrate_low", "winrate_high"]
    has_wr = any(not isinstance(r, str) and "winrate" in r.models.columns for _, r in groups)
    if has_wr:
        header += extra
    rows: list[list[Any]] = []
    for value, result in groups:
        if isinstance(result, str):
            continue
        for part in result.all_parts():
            for rec in part.models.to_dict("records"):
                row = ([value] if by else []) + [part.component + 1] + [rec[c] for c in CSV_COLUMNS]
                if has_wr:
                    row += [rec.get(c) for c in extra]
                rows.append(row)
    return header, rows


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
            console.print(feature_table(part))
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
        style = "green" if arrow.startswith("↑") else ("red" if arrow.startswith("↓") else "dim")
        cells = [
            str(r["rank"]),
            escape(str(r["model"])),
            _fmt(r["battles"]),
            f"{r['rating_raw']:.1f}",
            f"{r['rating']:.1f}",
            f"{r['rating_low']:.0f}–{r['rating_high']:.0f}",
            f"{r['rank_raw']}→{r['rank']} [{style}]{arrow:>3}[/]",
        ]
        t.add_row(*cells)
    if top is not None and len(m) > top:
        t.caption = f"{len(m) - top} more models not shown (--top {top})"
    return t


def feature_table(result: Any) -> Table:
    pct = round(result.settings["level"] * 100)
    t = Table(title="Style effects (per +1 SD of the pair feature)", title_justify="left", show_edge=False)
    t.add_column("feature")
    t.add_column("coef (log-odds)", justify="right")
    t.add_column(f"{pct}% CI", justify="right")
    t.add_column("odds ×", justify="right", style="bold")
    t.add_column("Elo-equivalent", justify="right")
    per = result.controlled.elo_per_logit
    for r in result.features.to_dict("records"):
        t.add_row(
            escape(str(r["name"])),
            f"{r['coef']:+.3f}",
            f"{r['low']:+.3f} – {r['high']:+.3f}",
            f"{r['odds_ratio']:.2f}",
            f"{r['coef'] * per:+.1f}",
        )
    return t
