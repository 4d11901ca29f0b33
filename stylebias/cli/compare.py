"""``stylebias compare A.json [B.json]``: two leaderboards side by side, rank shifts and rating deltas; one
board of ours alone: its style-controlled ratings against its raw ones (Δ = what style bought)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from . import app
from . import options as opt
from .common import console, shift_style, write_outputs


@app.command("compare")
def compare(
    board_a: Annotated[Path, typer.Argument(help="First leaderboard (ours or LMArena leaderboard-*.json).")],
    board_b: Annotated[
        Path | None,
        typer.Argument(
            help="Second leaderboard (e.g. the style-controlled one). Omitted: A must be ours, and its "
            "style-controlled ratings are compared with its raw ones.",
            show_default=False,
        ),
    ] = None,
    category: Annotated[
        str, typer.Option("--category", help="Category of LMArena files (full, coding, hard_6, ...).")
    ] = "full",
    group: Annotated[
        str | None,
        typer.Option(
            "--group",
            help="Group of a `stylebias rank --by` file (e.g. a judge or language); needed when it has several.",
            show_default=False,
        ),
    ] = None,
    json_out: opt.JsonOpt = None,
    csv_out: opt.CsvOpt = None,
    top: Annotated[int | None, typer.Option("--top", help="Show only the first N models.", min=1)] = None,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            help="Show only models whose name contains this text (case-insensitive; repeatable). "
            "Filters the table only; --json/--csv keep every model.",
            show_default=False,
        ),
    ] = None,
    quiet: opt.QuietOpt = False,
) -> None:
    """Compare two leaderboards: rank shifts (LMArena's rank rule) and rating deltas, Δ = B minus A.

    Reads LMArena's published leaderboard JSON (one category, --category) or a board written by
    `stylebias rank --json` (every component; one group of a --by file with --group). With one board of
    ours, A is its style-controlled board and B its raw one: Δ = raw − controlled, what style bought each
    model, with the interval the file holds (the rank table's Δ column). Between two files Δ has no
    interval: how the two boards' errors are correlated is unknown. Example, LMArena's raw vs
    style-controlled board of 2025-04-24:

        stylebias compare leaderboard-text.json leaderboard-text-style-control.json -m maverick
        stylebias compare ranks.json                       # ours: controlled vs raw, Δ with its interval
    """
    from ..leaderboards import compare_leaderboards, comparison_json, read_leaderboard, style_gain_board

    if board_b is None:
        table = style_gain_board(board_a, group)
        name_a, name_b = f"{board_a.name} (style-controlled)", f"{board_a.name} (raw)"
        delta = "Δ raw − ctrl"
    else:
        a = read_leaderboard(board_a, category, group=group)
        b = read_leaderboard(board_b, category, group=group)
        table = compare_leaderboards(a, b)
        name_a, name_b, delta = board_a.name, board_b.name, "Δ B − A"
    doc = comparison_json(table, name_a, name_b, category)
    has_ci = "delta_low" in table.columns

    t = Table(
        title=f"{escape(name_a)} → {escape(name_b)}  [dim](category {escape(category)})[/]",
        title_justify="left",
        show_edge=False,
        header_style="bold",
    )
    t.add_column("model", overflow="fold")
    for name, justify in (
        ("rating A", "right"),
        ("rank A", "right"),
        ("rating B", "right"),
        ("rank B", "right"),
        (delta, "right"),
        *((("Δ 95% CI", "right"),) if has_ci else ()),
        ("shift", "center"),
    ):
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    shown = table
    if model:
        needles = [m.lower() for m in model]
        keep = shown["model"].astype(str).str.lower().map(lambda name: any(n in name for n in needles))
        shown = shown[keep]
        if not len(shown):
            from ..errors import UsageError

            raise UsageError(f"no model name contains any of: {', '.join(model)}")
    if top is not None:
        shown = shown.head(top)
    for r in shown.to_dict("records"):
        arrow = r["arrow"]
        t.add_row(
            escape(str(r["model"])) + ("" if r["present"] == "both" else f" [dim]({r['present']})[/]"),
            _num(r["rating_a"]),
            _int(r["rank_a"]),
            _num(r["rating_b"]),
            _int(r["rank_b"]),
            "" if r["present"] != "both" else f"{r['delta']:+.1f}",
            *([_interval(r["delta_low"], r["delta_high"])] if has_ci else []),
            f"[{shift_style(arrow)}]{arrow}[/]",
        )
    if len(shown) < len(table):
        t.caption = f"{len(table) - len(shown)} more models not shown" + (f" (--top {top})" if top else "")
    if board_b is None:
        t.caption = (t.caption + ". " if t.caption else "") + (
            "Δ = raw − ctrl: Elo that style bought (+) or cost (−) each model, on the file's scale (see "
            "style_gain_relative_to in it)"
        )
    t.caption_justify = "left"
    s = doc["summary"]
    console.print(t)
    console.print(
        f"[dim]{s['both']} models on both boards ({s['a_only']} only in A, {s['b_only']} only in B); "
        f"{s['moved_up']} moved up, {s['moved_down']} down; Δ rating median {_num(s['median_delta'])}, "
        f"mean |Δ| {_num(s['mean_abs_delta'])}[/]"
    )
    cols = list(doc["models"][0]) if doc["models"] else []
    write_outputs(
        json_out, lambda: doc, csv_out, lambda: (cols, [[m[c] for c in cols] for m in doc["models"]])
    )


def _interval(low: float, high: float) -> str:
    return "" if low != low or high != high else f"{low:+.0f}…{high:+.0f}"


def _num(v: float | None) -> str:
    return "" if v is None or v != v else f"{v:,.1f}"


def _int(v: float) -> str:
    return "" if v != v else str(int(v))
