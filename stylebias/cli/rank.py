"""``stylebias rank``: raw and style-controlled ratings, 95 % intervals, rank shifts, style effects."""

from __future__ import annotations

import math
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import UsageError
from ..rating.support import MIN_SUPPORT_BATTLES, MIN_SUPPORT_PROMPTS
from . import app
from . import options as opt
from .common import (
    console,
    finish,
    heading,
    progress_bars,
    shift_style,
    show_problems,
    shown_warnings,
    write_outputs,
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
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            help="Add each model's score against MODEL (win rate 0-100, Arena-Hard-Auto's formula), plain, "
            "style-controlled and at equal style; 'auto' = the battles' own baseline column. The baseline is "
            "anchored at 1000 unless --anchor is given.",
            show_default=False,
        ),
    ] = None,
    parity: Annotated[
        str | None,
        typer.Option(
            "--parity",
            help="Compute the --baseline score as an upstream scorer does: arena-hard-v0.1 or arena-hard-v2 "
            "(show_result.py's bootstrap, seeds and optimiser; its feature set by default).",
            show_default=False,
        ),
    ] = None,
    load: Annotated[
        str | None,
        typer.Option(
            "--load",
            help="Saved model (stylebias fit --save, StyleControl.save) whose ratings, style coefficients "
            "and feature standardisation are held fixed: only models it does not know are rated. Its "
            "features, --reg, --ties and --anchor apply.",
            show_default=False,
        ),
    ] = None,
    weights: opt.WeightsOpt = True,
    json_out: opt.JsonOpt = None,
    csv_out: opt.CsvOpt = None,
    jobs: opt.JobsOpt = None,
    top: Annotated[int | None, typer.Option("--top", help="Show only the first N models.", min=1)] = None,
    max_record_bytes: opt.MaxRecordOpt = opt.DEFAULT_MAX_RECORD_BYTES,
    dask: opt.DaskOpt = None,
    max_rejected: opt.MaxRejectedOpt = opt.MAX_REJECTED_SHARE,
    quiet: opt.QuietOpt = False,
) -> None:
    """Rank models with and without style control (Bradley-Terry + style covariates, FastChat objective).

    Prints the raw and style-controlled leaderboard (95 % CI, LMArena's rank rule, rank shift), then what
    each style feature does to the odds of winning. Math and choices: docs/rating.md, docs/methods.md.
    A degenerate result (too many records rejected, every rating equal, a part that could not be fitted)
    is said first and exits with code 3.

    Examples:

        stylebias rank                                   # the embedded demo
        stylebias rank battles.jsonl --ci bootstrap --rounds 200 --json ranks.json
        stylebias rank clean_battle.json --features lmarena --anchor gpt-4-0613=1163
        stylebias rank votes.csv --column model_a=left --column model_b=right --column winner=vote
        stylebias rank shards/*.parquet --dask tcp://scheduler:8786     # fitted on a Dask cluster
        stylebias rank arena-hard-v2.0/ --features arena-hard --baseline auto --by category
        stylebias rank arena-hard-v0.1/ --baseline gpt-4-0314 --parity arena-hard-v0.1
        stylebias fit old_votes/ --save board/ && stylebias rank new_votes/ --load board/
    """
    from ..rating import FitSettings, rank_battles_by
    from ..rating.pipeline import GroupedRanks

    frozen = None
    if load is not None:
        from ..rating.persist import load_frozen

        if features is not None:
            raise UsageError("--load uses the saved model's features; leave --features out")
        frozen = load_frozen(load)
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
        weights=weights,
        baseline=baseline,
        parity=parity,
    )
    if dask is not None:
        from ..cluster import rank_files
        from ..rating.checks import rejected_problem, result_problems

        for option, given in (("--by", by), ("--load", load), ("--baseline", baseline), ("--parity", parity)):
            if given is not None:
                raise UsageError(f"{option} is not available with --dask")
        options = opt.cluster_load_options(fmt, column, label, answers, max_record_bytes)
        with shown_warnings(quiet), progress_bars(quiet):
            result, ledger = rank_files(
                paths, dask=dask, settings=settings, winrate_vs=winrate_vs, options=options
            )
        if not quiet and ledger.rejected:
            opt.warn_rejects(ledger)
        ranks = GroupedRanks(None, [(None, result)], ledger.accounting())
        rejected = rejected_problem(ledger, max_rejected)
        ranks.problems = ([] if rejected is None else [rejected]) + result_problems(result)
    else:
        data = opt.load_input(
            paths, fmt, column, max_record_bytes=max_record_bytes, quiet=quiet, labels=label, answers=answers
        )
        with shown_warnings(quiet), progress_bars(quiet):
            ranks = rank_battles_by(
                data, by, settings=settings, winrate_vs=winrate_vs, frozen=frozen, max_rejected=max_rejected
            )
    show_problems(ranks.problems)
    for value, result in ranks.groups:
        if by is not None:
            heading(f"[bold]{escape(by)} = {escape(str(value))}[/]")
        if isinstance(result, str):
            console.print("[red]not rated[/] (the reason is the problem listed first)")
            continue
        show_result(result, top=top)
    write_outputs(json_out, ranks.to_json, csv_out, ranks.csv)
    finish(ranks.problems)


def _fmt(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def show_result(result: Any, top: int | None = None) -> None:
    """Print, per component: the model table, win rates, the style effects; then what was not rated."""
    parts = result.all_parts()
    n_comp = len(parts) + len(result.skipped)
    for s in result.skipped:
        console.print(
            f"[red]component {s['component']} of {n_comp} not rated[/] ({s['models']} models, "
            f"{s['battles']:,} battles; the reason is the problem listed first)"
        )
    for part in parts:
        title = "Leaderboard: raw and style-controlled (ctrl) ratings"
        if n_comp > 1:
            title += f" — component {part.component + 1} of {n_comp} (own scale; not comparable across)"
        for note in part.notes:
            console.print(f"[yellow]note:[/] {escape(note)}")
        console.print(model_table(part, title, top))
        if part.frozen is not None:
            console.print(frozen_note(part))
        if part.baseline is not None:
            console.print(score_table(part, top))
            for note in part.baseline.get("notes", []):
                console.print(f"  [yellow]note[/] {escape(str(note))}")
        for sentence in gain_extremes(part):
            console.print(f"  • {escape(sentence)}")
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
    weighted = ", weighted by the weight column" if result.settings.get("weights") else ""
    console.print(
        f"[dim]{d['read']:,} records read, {d['accepted']:,} accepted, {d['rejected']:,} rejected; "
        f"{sum(p.n_battles for p in parts):,} battles rated{weighted}; ties={result.settings['ties']}, "
        f"reg={result.settings['reg']}, ci={result.settings['ci']}[/]"
    )


def frozen_note(part: Any) -> str:
    """What a frozen fit held fixed and what it rated (``rank --load``)."""
    fz = part.frozen
    held = part.controlled.fixed_models_
    new = [m for m in part.controlled.models_ if m not in set(held)]
    raw = "the raw fit too" if fz.get("raw_fixed") else "no raw fit saved: raw = ctrl"
    feats = ", ".join(fz["features"]) or "none"
    return (
        f"[bold]frozen:[/] {len(held)} saved models' ratings, style coefficients ({escape(feats)}) and their "
        f"standardisation held fixed from {escape(str(fz['source']))} ({raw}); rated here: "
        f"{escape(', '.join(new)) or 'no new model'}"
    )


def score_table(part: Any, top: int | None) -> Table:
    """Each model's score against the baseline: plain, style-controlled, at equal style (percent)."""
    info = part.baseline
    pct, pct_eq = round(info["level"] * 100), round(info["level_equal_style"] * 100)
    how = f"{info['parity']} show_result.py" if info["parity"] else "stylebias's fits"
    t = Table(
        title=f"Score vs {escape(str(info['model']))} (win rate %, {how})",
        title_justify="left",
        show_edge=False,
        header_style="bold",
        pad_edge=False,
    )
    t.add_column("model", overflow="fold", min_width=12, ratio=1)
    t.add_column(f"plain ({pct}% CI)", justify="right", no_wrap=True)
    t.add_column(f"style-ctrl ({pct}% CI)", justify="right", no_wrap=True, style="bold")
    t.add_column(f"equal style ({pct_eq}% CI)", justify="right", no_wrap=True)
    rows = part.models.sort_values("score", ascending=False, kind="stable")
    rows = rows if top is None else rows.head(top)
    for r in rows.to_dict("records"):
        cells = [escape(str(r["model"]))]
        for name in ("score_raw", "score", "score_equal_style"):
            lo, hi = r[f"{name}_low"] - r[name], r[f"{name}_high"] - r[name]
            cells.append(f"{r[name]:.1f} ({lo:+.1f}/{hi:+.1f})")
        t.add_row(*cells)
    t.caption = (
        "score = 100/(1+10^((r_base − r)/400)); style-ctrl: at the pool's average style gap to the baseline (Arena-Hard-Auto's reading; it moves "
        "when models join); equal style: with no style difference (stylebias's fit)"
    )
    return t


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
    styled = part.raw is not part.controlled  # no Δ without style control: raw is the controlled fit
    if styled:
        t.add_column("Δ raw−ctrl", justify="right", no_wrap=True)
        t.add_column(f"Δ {pct}% CI", justify="right", no_wrap=True)
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
            *(
                [f"{r['style_gain']:+.1f}", _interval(r["style_gain_low"], r["style_gain_high"])]
                if styled
                else []
            ),
            f"{r['rank_raw']}→{r['rank']} [{shift_style(arrow)}]{arrow:>3}[/]",
        ]
        t.add_row(*cells)
    if styled:
        caption = (
            f"Δ = raw − ctrl: Elo that style bought (+) or cost (−) each model, {part.reference_text()}."
        )
    else:
        caption = f"No style control (--features none): ratings {part.reference_text()}."
    if top is not None and len(m) > top:
        caption += f" {len(m) - top} more models not shown (--top {top})."
    t.caption = escape(caption)
    t.caption_justify = "left"
    return t


def _interval(low: float, high: float) -> str:
    return "" if math.isnan(low) or math.isnan(high) else f"{low:+.0f}…{high:+.0f}"


def gain_extremes(part: Any) -> list[str]:
    """The sentences for the models style bought most and cost most (the Δ column's own numbers)."""
    m = part.models
    if len(m) < 2 or part.raw is part.controlled or not m["style_gain"].abs().max() > 0.05:
        return []
    by_gain = m.sort_values(["style_gain", "model"], ascending=[False, True], kind="stable")
    best, worst = by_gain.iloc[0], by_gain.iloc[-1]
    out = [part.gain_sentence(best["model"])] if best["style_gain"] > 0 else []
    if worst["style_gain"] < 0:
        out.append(part.gain_sentence(worst["model"]))
    return out


def feature_table(effects: Any, elo_per_logit: float, level: float) -> Table:
    """Style effects per +1 SD of the pair feature: coefficient, interval, odds ratio, Elo equivalent."""
    t = Table(
        title="Style effects (per +1 SD of the pair feature; its unit is in the sentences below)",
        title_justify="left",
        show_edge=False,
    )
    t.add_column("feature")
    t.add_column("coef (log-odds)", justify="right")
    t.add_column(f"{round(level * 100)}% CI", justify="right")
    t.add_column("odds ×", justify="right", style="bold")
    t.add_column("Elo-equivalent", justify="right")
    t.add_column("battles differing", justify="right")
    t.add_column("prompts", justify="right")
    t.add_column("verdict")
    for r in effects.to_dict("records"):
        t.add_row(
            escape(str(r["name"])),
            f"{r['coef']:+.3f}",
            f"{r['low']:+.3f} – {r['high']:+.3f}",
            f"{r['odds_ratio']:.2f}",
            f"{r['coef'] * elo_per_logit:+.1f}",
            _count(r["battles_nonzero"]),
            _count(r["prompts_nonzero"]),
            escape(str(r["verdict"])),
        )
    t.caption = (
        f"Fewer than {MIN_SUPPORT_BATTLES} battles or {MIN_SUPPORT_PROMPTS} prompts differing in a feature: "
        "too few battles to tell, whatever the interval says."
    )
    t.caption_justify = "left"
    return t


def _count(value: float) -> str:
    return "?" if math.isnan(value) else f"{value:,.0f}"
