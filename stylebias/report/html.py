"""Render :class:`~stylebias.report.build.ReportData` as one self-contained HTML page.

Self-contained means: inline CSS, inline SVG charts, one small inline script (:mod:`.script`: sorting,
the model filter, opening a linked card), and nothing fetched from anywhere — a Content-Security-Policy
says so to the browser — so the file can be mailed, archived or opened offline. All markup is built with
:func:`~stylebias.report.markup.el`, which escapes every value that is not already trusted markup; the
script holds no data.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..outputs import write_text
from ..rating.support import MIN_SUPPORT_BATTLES, MIN_SUPPORT_PROMPTS, TOO_FEW
from .build import ModelCard, ReportData
from .markup import Markup, el, join
from .script import CSP, SCRIPT
from .style import CSS
from .svg import contribution_bars, effects_chart, forest_plot, slope_chart

SECTIONS = (
    ("summary", "Summary"),
    ("data", "Data"),
    ("leaderboard", "Leaderboard"),
    ("charts", "Forest & slope charts"),
    ("effects", "Style effects"),
    ("shap", "SHAP summary"),
    ("groups", "By group"),
    ("cards", "Why it won"),
    ("method", "Method"),
)


def _n(x: Any) -> str:
    return f"{int(x):,}"


def _r(x: float, digits: int = 1, signed: bool = False) -> str:
    if x is None or not math.isfinite(float(x)):
        return "–"
    return f"{float(x):+,.{digits}f}" if signed else f"{float(x):,.{digits}f}"


def _pct(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{x:.1%}"


def shift_span(shift: str) -> Markup:
    """The rank-shift arrow with a colour class; the arrow glyph carries the direction without colour."""
    cls = "up" if shift.startswith("↑") else "down" if shift.startswith("↓") else "same"
    label = {"up": "moved up", "down": "moved down", "same": "unchanged"}[cls]
    return el("span", shift, class_=cls, title=label)


def table(
    head: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[tuple[Any, ...]]],
    *,
    row_models: Sequence[str] | None = None,
    **kw: Any,
) -> Markup:
    """``head``: (label, css class); ``rows``: cells as (content, css class) or (content, css class, sort
    key): a number the page's script sorts that column by (NaN/None sort last), when every cell has one.
    ``row_models``: the model each row is about (the filter box matches it)."""
    thead = el("thead", el("tr", [el("th", label, class_=cls or None, scope="col") for label, cls in head]))
    body = el(
        "tbody",
        [
            el(
                "tr",
                [el("td", c[0], class_=c[1] or None, data_v=_key(c[2]) if len(c) > 2 else None) for c in row],
                data_model=None if row_models is None else row_models[i],
            )
            for i, row in enumerate(rows)
        ],
    )
    return el("table", thead, body, **kw)


def _key(x: Any) -> str:
    """A sort key for ``data-v``: the number as Python prints it, ``NaN`` when missing."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "NaN"
    return repr(v) if math.isfinite(v) else "NaN"


# ----------------------------------------------------------------------------------------------------
def _components_note(report: ReportData) -> Markup | None:
    parts = report.parts
    if len(parts) < 2:
        return None
    return el(
        "div",
        el("strong", f"The comparison graph has {len(parts)} disconnected components. "),
        "No battle links models in different components, so their ratings are on separate scales and "
        "must not be compared across components; each component has its own tables and charts below.",
        class_="callout",
    )


def _section(id_: str, title: Any, lead: Any, *body: Any) -> Markup:
    """One report section: its heading, the lead paragraph saying how to read it, then its content."""
    return el("section", el("h2", title), el("p", lead, class_="lead"), *body, id=id_)


def section_summary(report: ReportData) -> Markup:
    parts = report.parts
    rated = sum(p.n_battles for p in parts)
    n_models = sum(len(p.models) for p in parts)
    kpis: list[Markup] = [
        _kpi("battles rated", _n(rated), f"of {_n(report.accounting['read'])} records read"),
        _kpi(
            "models", _n(n_models), f"{len(parts)} component(s)" if len(parts) > 1 else "one connected graph"
        ),
    ]
    allm = [r for p in parts for r in p.models.to_dict("records")]
    if allm:
        best_up = max(allm, key=lambda r: r["rank_raw"] - r["rank"])
        best_down = min(allm, key=lambda r: r["rank_raw"] - r["rank"])
        if best_up["rank_raw"] > best_up["rank"]:
            kpis.append(
                _kpi(
                    "biggest gain from style control",
                    el("span", best_up["shift"], class_="up"),
                    f"{best_up['model']}: rank {best_up['rank_raw']} → {best_up['rank']}",
                )
            )
        if best_down["rank_raw"] < best_down["rank"]:
            kpis.append(
                _kpi(
                    "biggest loss from style control",
                    el("span", best_down["shift"], class_="down"),
                    f"{best_down['model']}: rank {best_down['rank_raw']} → {best_down['rank']}",
                )
            )
    main = parts[0]
    if main.raw is not main.controlled and len(main.models) > 1:
        top = main.models.loc[main.models["style_gain"].abs().idxmax()]
        kpis.append(
            _kpi(
                f"style {'bought' if top['style_gain'] >= 0 else 'cost'} most (Δ)",
                f"{top['style_gain']:+.1f} Elo",
                f"{top['model']}, {main.reference_text()}",
            )
        )
    feats = main.features
    if len(feats):
        top = feats.loc[feats["coef"].abs().idxmax()]
        kpis.append(
            _kpi(
                "strongest style effect",
                f"odds ×{top['odds_ratio']:.2f}",
                f"per +1 SD of {top['name']} ({top['verdict']})",
            )
        )
    return _section(
        "summary",
        "Summary",
        "How much do style choices (length, markdown, emoji, flattery, refusals, tone) buy votes in these "
        "battles, and how do the ratings look with that effect removed? Raw ratings come from a "
        "Bradley-Terry fit on the votes alone; style-controlled ratings add the pair style features as "
        "covariates (LMArena's style control).",
        el("div", kpis, class_="kpis"),
        _components_note(report),
    )


def _kpi(key: str, value: Any, sub: Any = None) -> Markup:
    return el(
        "div",
        el("div", key, class_="k"),
        el("div", value, class_="v"),
        el("div", sub, class_="s") if sub else None,
        class_="kpi",
    )


def section_data(report: ReportData) -> Markup:
    acc = report.accounting
    files = table(
        [("file", ""), ("format", ""), ("read", "n"), ("accepted", "n"), ("rejected", "n")],
        [
            [
                (f["file"], "brk"),
                (f["format"], ""),
                (_n(f["read"]), "n"),
                (_n(f["accepted"]), "n"),
                (_n(f["rejected"]), "n"),
            ]
            for f in report.files
        ]
        + [
            [
                (el("strong", "total"), ""),
                ("", ""),
                (_n(acc["read"]), "n b"),
                (_n(acc["accepted"]), "n b"),
                (_n(acc["rejected"]), "n b"),
            ]
        ],
        class_="files",
        id="accounting",
    )
    if report.reasons:
        reasons = table(
            [("reason", ""), ("records", "n"), ("file", ""), ("examples (record: detail)", "")],
            [
                [
                    (r["reason"], "brk"),
                    (_n(r["count"]), "n"),
                    (r["file"], "brk dim"),
                    (
                        join(
                            [
                                el("div", el("code", f"#{e['record']}"), " ", e["detail"])
                                for e in r.get("examples", [])
                            ]
                        ),
                        "brk",
                    ),
                ]
                for r in report.reasons
            ],
            class_="rejects",
        )
        rej_block = [el("h3", "Rejected records"), _collapsible(reasons, len(report.reasons), "reasons")]
    else:
        rej_block = [el("p", "No record was rejected.", class_="note")]
    who = []
    for heading, counts in (("Judges", report.judges), ("Languages", report.languages)):
        if counts:
            tags = [el("span", f"{name} · {_n(n)}", class_="tag") for name, n in counts]
            who += [el("h3", heading), el("p", tags, class_="tags")]
    return _section(
        "data",
        "Data",
        f"{_n(acc['read'])} records read, {_n(acc['accepted'])} accepted as battles, "
        f"{_n(acc['rejected'])} rejected. Every record is either a battle or listed with its reason; "
        "record numbers are 1-based lines/rows or source ids.",
        _collapsible(files, len(report.files), "input files"),
        *rej_block,
        *who,
    )


def _fold(*content: Any, summary: str, open_: bool = False) -> Markup:
    """Content in a native ``<details>`` (folded unless ``open_``), so the page stays short to scan."""
    return el("details", el("summary", summary), *content, open=open_ or None, class_="fold")


def _collapsible(content: Markup, n: int, what: str, limit: int = 12) -> Markup:
    """Long tables fold into a native ``<details>`` element (no script needed); short ones stay open."""
    if n <= limit:
        return content
    return el("details", el("summary", f"{n:,} {what} (click to show)"), content)


def _part_title(report: ReportData, part: Any) -> Markup | None:
    if len(report.parts) < 2:
        return None
    return el(
        "h3",
        f"Component {part.component + 1} of {len(report.parts)} — {len(part.models)} models, "
        f"{_n(part.n_battles)} battles (own scale)",
    )


def _model_cell(name: str, card_ids: dict[str, str]) -> Any:
    """The model's name, linked to its card when it has one (ids are ``card-N``, never made from data)."""
    target = card_ids.get(name)
    return name if target is None else el("a", name, href=f"#{target}")


def leaderboard_table(part: Any, card_ids: dict[str, str] | None = None) -> Markup:
    """One component's leaderboard: ranks, raw and controlled ratings with intervals, Δ = raw − controlled
    (what style bought, :mod:`stylebias.rating.gain`'s column) with its interval, and the rank shift."""
    card_ids = card_ids or {}
    pct = round(part.settings["level"] * 100)
    styled = part.raw is not part.controlled  # without style control there is no Δ
    rows = []
    for r in part.models.to_dict("records"):
        gain = (
            [
                (
                    _with_ci(
                        _r(r["style_gain"], 1, signed=True), _span(r["style_gain_low"], r["style_gain_high"])
                    ),
                    "n b",
                    r["style_gain"],
                )
            ]
            if styled
            else []
        )
        rows.append(
            [
                (str(r["rank"]), "n b", r["rank"]),
                (_model_cell(str(r["model"]), card_ids), "model"),
                (_n(r["battles"]), "n", r["battles"]),
                (
                    _with_ci(
                        _r(r["rating_raw"]), f"{_r(r['rating_raw_low'], 0)}–{_r(r['rating_raw_high'], 0)}"
                    ),
                    "n",
                    r["rating_raw"],
                ),
                (str(r["rank_raw"]), "n", r["rank_raw"]),
                (
                    _with_ci(_r(r["rating"]), f"{_r(r['rating_low'], 0)}–{_r(r['rating_high'], 0)}"),
                    "n b",
                    r["rating"],
                ),
                *gain,
                (shift_span(str(r["shift"])), "n", r["rank_raw"] - r["rank"]),
            ]
        )
    head = [
        ("rank", "n"),
        ("model", ""),
        ("battles", "n"),
        (f"raw ({pct}% CI)", "n"),
        ("raw rank", "n"),
        (f"controlled ({pct}% CI)", "n"),
        *([(f"Δ raw − ctrl ({pct}% CI)", "n")] if styled else []),
        ("shift", "n"),
    ]
    caption = (
        f"Δ = raw − controlled: the Elo that style bought (+) or cost (−) each model, {part.reference_text()}."
        if styled
        else f"No style control in this fit: ratings {part.reference_text()}."
    )
    return join(
        [
            table(head, rows, row_models=list(map(str, part.models["model"])), class_="leaderboard sortable"),
            el("p", caption, *[f" {n}" for n in part.notes], class_="note caption"),
        ]
    )


def _with_ci(value: str, interval: str) -> Markup:
    """A number with its interval in small type under it (one cell, so the table stays narrow)."""
    return join([value, el("span", interval, class_="ci")])


def _span(low: float, high: float) -> str:
    """ "+3.1 to +20.4" (empty when the interval is unknown)."""
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in (low, high)):
        return "–"
    return f"{low:+.0f} to {high:+.0f}"


def card_ids(report: ReportData) -> dict[str, str]:
    """Model -> its card's element id. Ids are numbered (``card-1``...), never built from a name, so a
    hostile name cannot break the id or the link; models are unique across components."""
    return {c.model: f"card-{i + 1}" for i, c in enumerate(report.cards)}


def section_leaderboard(report: ReportData) -> Markup:
    blocks: list[Any] = []
    ids = card_ids(report)
    for part in report.parts:
        blocks += [_part_title(report, part), leaderboard_table(part, ids)]
    excluded = report.rank.excluded
    if len(excluded):
        blocks.append(el("h3", "Not rated"))
        blocks.append(
            table(
                [("model", ""), ("battles", "n"), ("reason", "")],
                [
                    [(r["model"], "model"), (_n(r["battles"]), "n"), (r["reason"], "")]
                    for r in excluded.to_dict("records")
                ],
            )
        )
    return _section(
        "leaderboard",
        "Leaderboard: raw vs style-controlled",
        "Ratings on the Elo scale (400 points = 10:1 odds). Rank follows LMArena's rule: 1 + the number of "
        "models whose interval lies entirely above this one's, so overlapping models share a rank. "
        "Δ = raw − controlled is what style bought (+) or cost (−) the model, with its own interval (the two "
        "fits share the battles, so it is narrower than the two ratings' intervals suggest). "
        "Shift: ↑ the model ranks better once style is controlled, ↓ worse, = unchanged. Click a column "
        "header to sort, a model to open its card.",
        *blocks,
    )


def section_charts(report: ReportData) -> Markup:
    blocks: list[Any] = []
    for part in report.parts:
        m = part.models
        names = list(m["model"])
        level = part.settings["level"]
        forest = forest_plot(
            names,
            list(zip(m["rating_raw"], m["rating_raw_low"], m["rating_raw_high"], strict=True)),
            list(zip(m["rating"], m["rating_low"], m["rating_high"], strict=True)),
            level=level,
        )
        raw_order = m.sort_values(["rating_raw", "model"], ascending=[False, True], kind="stable")["model"]
        raw_pos = {name: i + 1 for i, name in enumerate(raw_order)}
        slope = slope_chart(
            names,
            [raw_pos[n] for n in names],
            list(range(1, len(names) + 1)),
            list(m["rank_raw"]),
            list(m["rank"]),
        )
        first = part is report.parts[0]
        blocks += [
            _part_title(report, part),
            _fold(el("h3", "Forest plot"), forest, summary="forest plot", open_=first),
            _fold(
                el(
                    "p",
                    "Each line joins a model's place in the raw order (left) to its place in the "
                    "style-controlled order (right); the numbers are LMArena ranks. Blue lines: rank improved, "
                    "vermillion: rank worsened, grey: same rank (its interval still overlaps the same models).",
                    class_="note",
                ),
                slope,
                summary="rank shifts (slope chart)",
            ),
        ]
    return _section(
        "charts",
        "Forest plot and slope chart",
        "Hollow orange: raw rating; filled blue: style-controlled rating; lines are the intervals. Models "
        "whose blue point sits left of the orange one were helped by their style in the raw ranking.",
        *blocks,
    )


def effects_table(part: Any, families: dict[str, str]) -> Markup:
    """One fit's style effects: coefficient, interval, odds, Elo-equivalent, support (battles whose answers
    differ in the feature, and their prompts) and the verdict, both as :mod:`stylebias.rating.support` has
    them (below the minimum support: "too few battles to tell")."""
    f = part.features.sort_values("coef", ascending=False, kind="stable")
    pct = round(part.settings["level"] * 100)
    per = part.controlled.elo_per_logit
    rows = [
        [
            (r["name"], "model"),
            (families.get(r["name"], "other"), "dim"),
            (f"{r['coef']:+.3f}", "n", r["coef"]),
            (f"{r['low']:+.3f} – {r['high']:+.3f}", "n", r["low"]),
            (f"×{r['odds_ratio']:.2f}", "n b", r["odds_ratio"]),
            (f"{r['coef'] * per:+.1f}", "n", r["coef"] * per),
            (_count(r["battles_nonzero"]), "n", r["battles_nonzero"]),
            (_count(r["prompts_nonzero"]), "n", r["prompts_nonzero"]),
            (_verdict(str(r["verdict"])), ""),
        ]
        for r in f.to_dict("records")
    ]
    return table(
        [
            ("feature", ""),
            ("family", ""),
            ("coef (log-odds)", "n"),
            (f"{pct}% CI", "n"),
            ("odds", "n"),
            ("Elo-equivalent", "n"),
            ("battles differing", "n"),
            ("prompts", "n"),
            ("verdict", ""),
        ],
        rows,
        class_="effects sortable",
    )


def _count(value: float) -> str:
    return "?" if value is None or not math.isfinite(float(value)) else f"{float(value):,.0f}"


def effects_block(part: Any, families: dict[str, str], chart_open: bool = True) -> list[Any]:
    """Chart (folded unless ``chart_open``), table and dropped features of one fit's style effects."""
    f = part.features
    if not len(f):
        return [el("p", "No style features in this fit.", class_="note")]
    f = f.sort_values("coef", ascending=False, kind="stable")
    chart = effects_chart(
        list(f["name"]),
        list(f["coef"]),
        list(f["low"]),
        list(f["high"]),
        level=part.settings["level"],
        verdicts=list(f["verdict"]),
    )
    blocks: list[Any] = [_fold(chart, summary="chart", open_=chart_open), effects_table(part, families)]
    dropped = part.controlled.dropped_features_
    if dropped:
        blocks.append(
            el("p", "Dropped (constant or collinear in these battles): ", ", ".join(dropped), class_="note")
        )
    return blocks


def section_effects(report: ReportData) -> Markup:
    blocks: list[Any] = []
    for part in report.parts:
        first = part is report.parts[0]
        blocks += [_part_title(report, part), *effects_block(part, report.families, chart_open=first)]
    return _section(
        "effects",
        "Style effects",
        "Each coefficient is the change in the log-odds of winning when a response has one standard "
        "deviation more of the pair feature than its opponent, with the models' strengths held fixed. "
        "Odds ×1.5 means 1.5 times the odds of winning. Elo-equivalent converts the coefficient to rating "
        "points. A feature is learned only from battles whose two answers differ in it: those are counted "
        f"(and their prompts), and with fewer than {MIN_SUPPORT_BATTLES} such battles or "
        f"{MIN_SUPPORT_PROMPTS} prompts the verdict is “{TOO_FEW}”, whatever the interval says.",
        *blocks,
    )


def _verdict(verdict: str) -> Markup:
    if verdict == "helps":
        return el("span", "helps win", class_="up")
    if verdict == "hurts":
        return el("span", "hurts", class_="down")
    return el("span", verdict, class_="same")


def section_shap(report: ReportData) -> Markup:
    body: list[Any] = []
    if report.shap_svg:
        body.append(
            el(
                "p",
                "A LightGBM vote model predicts each vote from the style differences between the two answers, "
                "with the models' Bradley-Terry strengths as a fixed offset. Each dot is one battle: its SHAP "
                "value is how far that feature pushed the prediction towards A (right) or B (left); colour is "
                "the pair feature A − B (red: A has more, blue: B has more).",
                class_="lead",
            )
        )
        body.append(Markup(report.shap_svg))
    if report.vote_scores:
        best = min(r.get("log_loss", math.inf) for r in report.vote_scores)
        body += [
            el("h3", "How well the vote model predicts held-out votes"),
            table(
                [("model", ""), ("log-loss", "n"), ("Brier", "n"), ("AUC", "n")],
                [
                    [
                        (r["label"], ""),
                        (f"{r.get('log_loss', math.nan):.4f}", "n b" if r.get("log_loss") == best else "n"),
                        (f"{r.get('brier', math.nan):.4f}", "n"),
                        ("–" if not math.isfinite(r.get("auc", math.nan)) else f"{r['auc']:.3f}", "n"),
                    ]
                    for r in report.vote_scores
                ],
                class_="scores",
            ),
            el(
                "p",
                "Cross-validated with folds grouped by prompt (no prompt in both training and test). Log-loss: "
                "mean binary cross-entropy of P(A wins) against the vote share (ties 0.5); lower is better, "
                "best in bold. AUC on non-tie battles only.",
                class_="note",
            ),
        ]
    if report.explain_note:
        body.append(el("p", report.explain_note, class_="note"))
    if not body:
        body.append(el("p", "No SHAP summary.", class_="note"))
    return el("section", el("h2", "SHAP summary"), *body, id="shap")


def _bar(value: float, cls: str) -> Markup:
    w = 0 if not math.isfinite(value) else max(0.0, min(1.0, value)) * 100
    return el("div", el("span", style=f"width:{w:.1f}%"), class_=f"bar {cls}")


def _rate_row(label: str, value: float, cls: str, tip: str) -> list[Markup]:
    return [el("span", label, title=tip), _bar(value, cls), el("span", _pct(value), class_="n")]


def model_card(
    card: ModelCard,
    index: int = 0,
    extent: float | None = None,
    points_extent: float | None = None,
    card_id: str | None = None,
) -> Markup:
    """One model's card. Its "what style bought" sentence is the leaderboard's Δ = raw − controlled, word
    for word (:func:`stylebias.rating.gain.gain_sentence`); every other number on it is a different
    quantity and says so: win rates against identical style (Bradley-Terry and, when the explain module ran,
    the vote model), and the style term per family."""
    delta = card.observed - card.neutral
    headline = card.gain_sentence or "No style features in this fit, so no Δ: raw and controlled are one fit."
    if card.families:
        gap = (
            "Share of the vote: the same as with identical style"
            if abs(delta) < 0.0005
            else f"Share of the vote: {abs(delta) * 100:.1f} points {'above' if delta > 0 else 'below'} its "
            "share with identical style"
        ) + " (Bradley-Terry + style; a win rate against no style difference, not Δ)."
    else:
        gap = (
            "Share of the vote: what the Bradley-Terry fit expects against the same opponents."
            if abs(delta) < 0.0005
            else f"Share of the vote: {abs(delta) * 100:.1f} points {'above' if delta > 0 else 'below'} what "
            "the Bradley-Terry fit expects against the same opponents."
        )
    ex = card.explain or {}
    rates = _rate_row("observed", card.observed, "obs", "share of the vote it got (ties half)")
    rates += _rate_row(
        "neutral · BT", card.neutral, "neu", "Bradley-Terry + style: expected share with identical style"
    )
    if ex:
        lo, hi = ex.get("neutral_low"), ex.get("neutral_high")
        ci = (
            f"; 95 % interval {_pct(lo)} to {_pct(hi)}"
            if isinstance(lo, float) and isinstance(hi, float) and math.isfinite(lo) and math.isfinite(hi)
            else ""
        )
        rates += _rate_row(
            "neutral · vote model",
            ex["neutral"],
            "vm",
            "vote model: expected share with no style difference, same opponents" + ci,
        )
    blocks: list[Any] = []
    if ex.get("groups"):
        blocks += [
            el(
                "div",
                "Win-rate points per style group (vote model, against no style difference)",
                class_="cap",
            ),
            contribution_bars(ex["groups"], extent=points_extent, unit="points"),
        ]
    if card.families:
        total = sum(v for _, v in card.families)
        blocks += [
            el(
                "div",
                f"Style term per family, Elo (BT: its style against the average battle's; sums to "
                f"{total:+.0f}, which is not Δ — the raw fit also re-rates its opponents)",
                class_="cap",
            ),
            contribution_bars(card.families, extent=extent),
        ]
    vote = (
        el(
            "p",
            el("strong", "Vote model"),
            " (win rates and win-rate points against no style difference; a different quantity from Δ): ",
            card.sentence,
            class_="note",
        )
        if card.sentence
        else None
    )
    delta_txt = (
        f"Δ {_r(card.style_gain, 1, signed=True)} Elo"
        + (
            f" ({_span(card.style_gain_low, card.style_gain_high)})"
            if math.isfinite(card.style_gain_low)
            else ""
        )
        if card.families
        else "no style control"
    )
    summary = el(
        "summary",
        el("h4", card.model),
        el(
            "div",
            el("strong", delta_txt),
            f" · rank {card.rank_raw} → {card.rank} ",
            shift_span(card.shift),
            f" · observed {_pct(card.observed)}, neutral {_pct(card.neutral)}",
            class_="meta",
        ),
    )
    return el(
        "details",
        summary,
        el(
            "div",
            f"rating {_r(card.rating_raw)} raw, {_r(card.rating)} controlled · {_n(card.battles)} battles",
            class_="meta",
        ),
        el("p", headline, class_="gain"),
        el("div", rates, class_="rates"),
        el("p", gap, class_="note"),
        vote,
        *[el("p", note, class_="note") for note in ex.get("notes", [])],
        el("details", el("summary", "style split (bars)"), *blocks) if blocks else None,
        examples_block(card),
        class_="card",
        id=card_id or f"card-{index}",
        data_model=card.model,
    )


def examples_block(card: ModelCard) -> Markup | None:
    """The battles where style moved this model's vote most, folded: prompt and both answers, escaped."""
    if not card.examples:
        return None
    items = []
    for i, e in enumerate(card.examples):
        outcome = (
            "won" if e["share"] == 1 else "lost" if e["share"] == 0 else f"got {e['share']:.0%} of the vote"
        )
        head = (
            f"{i + 1}. vs {e['opponent']} (answer {e['side']}): {outcome}; style moved its win probability "
            f"{100 * e['move']:+.0f} points ({_pct(e['p_neutral'])} with identical style → {_pct(e['p'])})"
        )
        texts = [
            _text_block("prompt", e["prompt"], e["prompt_chars"]),
            _text_block(f"{card.model} (answer {e['side']})", e["answer"], e["answer_chars"]),
            _text_block(e["opponent"], e["opponent_answer"], e["opponent_answer_chars"]),
        ]
        items.append(el("details", el("summary", head), *texts, class_="example"))
    source = card.examples[0]["source"]
    return el(
        "details",
        el("summary", f"{len(card.examples)} battles where style moved its vote most ({source})"),
        *items,
        class_="examples",
    )


def _text_block(label: str, text: str, chars: int) -> Markup:
    cut = len(text) < chars
    note = f" — first {len(text):,} of {chars:,} characters shown" if cut else ""
    return el(
        "div",
        el("div", label, el("span", note, class_="dim") if cut else None, class_="who"),
        el("div", text + (" …" if cut else ""), class_="text"),
        class_="answer",
    )


def _extents(cards: Sequence[ModelCard], values: Any) -> dict[int, float]:
    """Largest |value| per component, so every card of a component uses one bar scale."""
    out: dict[int, float] = {}
    for c in cards:
        top = max((abs(v) for _, v in values(c) if math.isfinite(v)), default=0.0)
        out[c.component] = max(out.get(c.component, 0.0), top)
    return out


def section_cards(report: ReportData) -> Markup:
    elo = _extents(report.cards, lambda c: c.families)
    pts = _extents(report.cards, lambda c: (c.explain or {}).get("groups", []))
    items: list[Any] = [
        el(
            "li",
            el("strong", "Δ"),
            ": the leaderboard's column, raw − controlled rating in Elo, with its interval and reference: the "
            "one number for what style bought (+) or cost (−) the model. Every other number on a card is a "
            "different quantity and says so.",
        ),
        el("li", el("strong", "observed"), ": the share of the vote the model got (ties count half)."),
        el(
            "li",
            el("strong", "neutral · BT"),
            ": the share the style-controlled Bradley-Terry model expects against the same opponents if both "
            "answers had identical style.",
        ),
        el(
            "li",
            el("strong", "Elo bars"),
            " (folded under “style split”): the style term per family, γ·(mean standardised style difference "
            "on the model's side): its style against the average battle's. They do not add up to Δ: the raw "
            "fit also re-rates the model's opponents.",
        ),
        el(
            "li",
            el("strong", "example battles"),
            ": the few battles where style moved the model's win probability most (with its style vs "
            "identical style), each with the prompt and both answers; long texts are cut, and say so.",
        ),
    ]
    if report.explain is not None:
        items += [
            el(
                "li",
                el("strong", "neutral · vote model"),
                " and the ",
                el("strong", "points bars"),
                ": the vote model's prediction with no style difference (the model chosen by nested "
                "cross-validation, from length-only to Bradley-Terry + style with residual trees), and the "
                "win-rate points each style group bought or cost (exact Shapley values over groups; they add up "
                "to predicted − neutral). Both style-neutral scores use the same definition: every style "
                "difference set to 0, same opponents and sides. The sentence gives 95 % bootstrap intervals; "
                "a note says where the vote model and Bradley-Terry disagree, and why.",
            ),
            el(
                "li",
                "The two views use different reference points: the Elo bars measure style against the "
                "average style difference in these battles, the points bars against no difference at all, so "
                "a long answer facing even longer opponents can get a positive Elo bar and a negative points "
                "bar.",
            ),
        ]
    ids = card_ids(report)
    return el(
        "section",
        el("h2", "Why it won: one card per model"),
        el(
            "p",
            "One card per model, best controlled rating first: click a card (or a model in a leaderboard) to "
            "open it. Its summary line gives Δ (with its interval), the rank change and the share of the "
            "vote observed vs with identical style.",
            class_="lead",
        ),
        el("details", el("summary", "How to read a card"), el("ul", items, class_="sentences")),
        el("p", report.examples_note, class_="note") if report.examples_note else None,
        el(
            "div",
            [
                model_card(c, i + 1, elo.get(c.component), pts.get(c.component), ids[c.model])
                for i, c in enumerate(report.cards)
            ],
            class_="cards",
        ),
        id="cards",
    )


def section_groups(report: ReportData) -> Markup | None:
    """With ``by``: one folded panel per value of the column, its own leaderboard(s) and style effects."""
    if report.by is None:
        return None
    ids = card_ids(report)
    panels = []
    for value, result in report.groups:
        label = f"{report.by} = {'(missing)' if value is None else value}"
        if isinstance(result, str):
            panels.append(
                el("details", el("summary", label, " — not ranked"), el("p", result, class_="note"))
            )
            continue
        parts = result.all_parts()
        body: list[Any] = []
        for part in parts:
            if len(parts) > 1:
                body.append(el("h4", f"Component {part.component + 1} of {len(parts)} (own scale)"))
            body += [leaderboard_table(part, ids), *effects_block(part, report.families, chart_open=False)]
        n_b = sum(p.n_battles for p in parts)
        n_m = sum(len(p.models) for p in parts)
        panels.append(
            el(
                "details",
                el("summary", label, f" — {_n(n_b)} battles, {n_m} models"),
                *body,
                class_="group",
            )
        )
    return _section(
        "groups",
        f"By {report.by}",
        f"The same ranking fitted separately on the battles of each {report.by} (its own ratings, Δ and style "
        "effects; not comparable across panels). Model names link to the cards above, which are from all "
        "battles.",
        *panels,
    )


def section_method(report: ReportData) -> Markup:
    s = report.settings
    part = report.parts[0]
    rows = [
        ("features", ", ".join(s.get("features", [])) or "none (no style control)"),
        ("feature set", s.get("feature_set") or "custom"),
        ("ties", s.get("ties")),
        ("L2 penalty", f"{s.get('reg')}/2 · ‖θ‖² on the summed log-loss (FastChat objective)"),
        (
            "intervals",
            f"{s.get('ci')} ({round(s.get('level', 0.95) * 100)}%)"
            + (f", {s.get('rounds')} rounds, seed {s.get('seed')}" if s.get("ci") == "bootstrap" else ""),
        ),
        ("scale", f"Elo = {s.get('base')} + {s.get('scale')} · β (base-10)"),
        ("converged", "yes" if part.controlled.converged_ and part.raw.converged_ else "NO"),
    ]
    return el(
        "section",
        el("h2", "Method and settings"),
        table(
            [("setting", ""), ("value", "")], [[(k, "dim"), (v, "brk")] for k, v in rows], class_="settings"
        ),
        el(
            "p",
            "P(A beats B) = σ(β_A − β_B + γ·z), z = standardised antisymmetric pair style features. Details: "
            "docs/rating.md and docs/methods.md in the stylebias source tree.",
            class_="note",
        ),
        id="method",
    )


def render_html(report: ReportData) -> str:
    """The full page as a string (deterministic for identical input)."""
    from .. import __version__

    acc = report.accounting
    parts = report.parts
    subtitle = (
        f"{_n(sum(p.n_battles for p in parts))} battles · {_n(sum(len(p.models) for p in parts))} models · "
        f"{_n(acc['rejected'])} record{'' if acc['rejected'] == 1 else 's'} rejected · stylebias {__version__}"
    )
    shown = [(sid, label) for sid, label in SECTIONS if sid != "groups" or report.by is not None]
    nav = el(
        "nav",
        el(
            "div",
            [el("a", label, href=f"#{sid}") for sid, label in shown],
            el(
                "div",
                el("label", "Filter ", for_="model-filter"),
                el("input", type="search", id="model-filter", placeholder="model name…", autocomplete="off"),
                el("span", id="filter-count", aria_live="polite"),
                class_="filter",
                hidden=True,  # shown by the script: without it the box would do nothing
            ),
            class_="wrap",
        ),
        class_="toc",
    )
    main = el(
        "main",
        section_summary(report),
        section_data(report),
        section_leaderboard(report),
        section_charts(report),
        section_effects(report),
        section_shap(report),
        section_groups(report),
        section_cards(report),
        section_method(report),
        class_="wrap",
    )
    head = el(
        "head",
        Markup('<meta charset="utf-8">'),
        el("meta", http_equiv="Content-Security-Policy", content=CSP),
        Markup('<meta name="viewport" content="width=device-width, initial-scale=1">'),
        el("meta", name="generator", content=f"stylebias {__version__}"),
        el("title", report.title),
        el("style", CSS),
    )
    body = el(
        "body",
        el("header", el("div", el("h1", report.title), el("p", subtitle), class_="wrap"), class_="top"),
        nav,
        main,
        el(
            "footer",
            el(
                "div",
                "Generated by stylebias ",
                __version__,
                ". One offline file: one small inline script (sorting, the model filter), nothing fetched "
                "(a Content-Security-Policy forbids it).",
                class_="wrap",
            ),
        ),
        el("script", SCRIPT),
    )
    return "<!doctype html>\n" + el("html", head, body, lang="en") + "\n"


def write_report(report: ReportData, path: str | os.PathLike[str]) -> Path:
    """Render and write atomically (:func:`stylebias.outputs.write_text`); returns the path."""
    return write_text(path, render_html(report))
