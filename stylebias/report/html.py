"""Render :class:`~stylebias.report.build.ReportData` as one self-contained HTML page.

Self-contained means: inline CSS, inline SVG charts, no scripts, no fonts, images or stylesheets fetched
from anywhere, so the file can be mailed, archived or opened offline. All markup is built with
:func:`~stylebias.report.markup.el`, which escapes every value that is not already trusted markup.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..outputs import write_text
from .build import ModelCard, ReportData
from .markup import Markup, el, join
from .style import CSS
from .svg import contribution_bars, effects_chart, forest_plot, slope_chart

SECTIONS = (
    ("summary", "Summary"),
    ("data", "Data"),
    ("leaderboard", "Leaderboard"),
    ("charts", "Forest & slope charts"),
    ("effects", "Style effects"),
    ("shap", "SHAP summary"),
    ("cards", "Why it won"),
    ("method", "Method"),
)


def _n(x: Any) -> str:
    return f"{int(x):,}"


def _r(x: float, digits: int = 1) -> str:
    return "–" if x is None or not math.isfinite(float(x)) else f"{float(x):,.{digits}f}"


def _pct(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{x:.1%}"


def shift_span(shift: str) -> Markup:
    """The rank-shift arrow with a colour class; the arrow glyph carries the direction without colour."""
    cls = "up" if shift.startswith("↑") else "down" if shift.startswith("↓") else "same"
    label = {"up": "moved up", "down": "moved down", "same": "unchanged"}[cls]
    return el("span", shift, class_=cls, title=label)


def table(head: Sequence[tuple[str, str]], rows: Sequence[Sequence[tuple[Any, str]]], **kw: Any) -> Markup:
    """``head``: (label, css class); ``rows``: cells as (content, css class)."""
    thead = el("thead", el("tr", [el("th", label, class_=cls or None, scope="col") for label, cls in head]))
    body = el("tbody", [el("tr", [el("td", c, class_=cls or None) for c, cls in row]) for row in rows])
    return el("table", thead, body, **kw)


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
    feats = parts[0].features
    if len(feats):
        top = feats.loc[feats["coef"].abs().idxmax()]
        kpis.append(
            _kpi(
                "strongest style effect",
                f"odds ×{top['odds_ratio']:.2f}",
                f"per +1 SD of {top['name']}"
                + ("" if top["low"] > 0 or top["high"] < 0 else " (interval includes no effect)"),
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


def leaderboard_table(part: Any) -> Markup:
    pct = round(part.settings["level"] * 100)
    rows = []
    for r in part.models.to_dict("records"):
        rows.append(
            [
                (str(r["rank"]), "n b"),
                (r["model"], "model"),
                (_n(r["battles"]), "n"),
                (_r(r["rating_raw"]), "n"),
                (f"{_r(r['rating_raw_low'], 0)}–{_r(r['rating_raw_high'], 0)}", "n dim"),
                (str(r["rank_raw"]), "n"),
                (_r(r["rating"]), "n b"),
                (f"{_r(r['rating_low'], 0)}–{_r(r['rating_high'], 0)}", "n"),
                (shift_span(str(r["shift"])), "n"),
            ]
        )
    return table(
        [
            ("rank", "n"),
            ("model", ""),
            ("battles", "n"),
            ("raw", "n"),
            (f"raw {pct}% CI", "n"),
            ("raw rank", "n"),
            ("controlled", "n"),
            (f"{pct}% CI", "n"),
            ("shift", "n"),
        ],
        rows,
        class_="leaderboard",
    )


def section_leaderboard(report: ReportData) -> Markup:
    blocks: list[Any] = []
    for part in report.parts:
        blocks += [_part_title(report, part), leaderboard_table(part)]
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
        "Shift: ↑ the model ranks better once style is controlled, ↓ worse, = unchanged.",
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
        blocks += [
            _part_title(report, part),
            el("h3", "Forest plot"),
            forest,
            el("h3", "Rank shifts"),
            el(
                "p",
                "Each line joins a model's place in the raw order (left) to its place in the style-controlled "
                "order (right); the numbers are LMArena ranks. Blue lines: rank improved, vermillion: rank "
                "worsened, grey: same rank (its interval still overlaps the same models).",
                class_="note",
            ),
            slope,
        ]
    return _section(
        "charts",
        "Forest plot and slope chart",
        "Hollow orange: raw rating; filled blue: style-controlled rating; lines are the intervals. Models "
        "whose blue point sits left of the orange one were helped by their style in the raw ranking.",
        *blocks,
    )


def section_effects(report: ReportData) -> Markup:
    blocks: list[Any] = []
    for part in report.parts:
        f = part.features
        if not len(f):
            blocks += [_part_title(report, part), el("p", "No style features in this fit.", class_="note")]
            continue
        f = f.sort_values("coef", ascending=False, kind="stable")
        pct = round(part.settings["level"] * 100)
        per = part.controlled.elo_per_logit
        rows = [
            [
                (r["name"], "model"),
                (report.families.get(r["name"], "other"), "dim"),
                (f"{r['coef']:+.3f}", "n"),
                (f"{r['low']:+.3f} – {r['high']:+.3f}", "n"),
                (f"×{r['odds_ratio']:.2f}", "n b"),
                (f"{r['coef'] * per:+.1f}", "n"),
                (_verdict(r["low"], r["high"], r["coef"]), ""),
            ]
            for r in f.to_dict("records")
        ]
        blocks += [
            _part_title(report, part),
            effects_chart(
                list(f["name"]),
                list(f["coef"]),
                list(f["low"]),
                list(f["high"]),
                level=part.settings["level"],
            ),
            table(
                [
                    ("feature", ""),
                    ("family", ""),
                    ("coef (log-odds)", "n"),
                    (f"{pct}% CI", "n"),
                    ("odds", "n"),
                    ("Elo-equivalent", "n"),
                    ("verdict", ""),
                ],
                rows,
                class_="effects",
            ),
        ]
        dropped = part.controlled.dropped_features_
        if dropped:
            blocks.append(
                el(
                    "p",
                    "Dropped (constant or collinear in these battles): ",
                    ", ".join(dropped),
                    class_="note",
                )
            )
    return _section(
        "effects",
        "Style effects",
        "Each coefficient is the change in the log-odds of winning when a response has one standard "
        "deviation more of the pair feature than its opponent, with the models' strengths held fixed. "
        "Odds ×1.5 means 1.5 times the odds of winning. Elo-equivalent converts the coefficient to rating "
        "points.",
        *blocks,
    )


def _verdict(lo: float, hi: float, coef: float) -> Markup:
    if lo > 0:
        return el("span", "helps win", class_="up")
    if hi < 0:
        return el("span", "hurts", class_="down")
    return el("span", "no clear effect", class_="same")


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
    card: ModelCard, index: int = 0, extent: float | None = None, points_extent: float | None = None
) -> Markup:
    """One model's card: scores (observed vs style-neutral), the BT Elo split per family and, when the
    explain module ran, the vote model's style-neutral score and win-rate points per style group."""
    delta = card.observed - card.neutral
    style_pts = sum(v for _, v in card.families)
    if not card.families:
        verdict = "No style features in this fit"
    elif abs(style_pts) < 0.5:
        verdict = "Style accounts for almost none of its raw rating"
    else:
        verdict = (
            f"Style {'added' if style_pts > 0 else 'took'} about {abs(style_pts):.0f} Elo "
            f"{'to' if style_pts > 0 else 'from'} its raw rating"
        )
    reference = (
        "the same opponents would give it with identical style"
        if card.families
        else "the Bradley-Terry fit expects against the same opponents"
    )
    gap = (
        f"it scores what {reference}"
        if abs(delta) < 0.0005
        else f"it scores {abs(delta) * 100:.1f} percentage points {'more' if delta > 0 else 'less'} than "
        f"{reference}"
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
            el("div", "Win-rate points per style group (vote model)", class_="cap"),
            contribution_bars(ex["groups"], extent=points_extent, unit="points"),
        ]
    if card.families:
        blocks += [
            el("div", "Elo per style family in the raw rating (BT)", class_="cap"),
            contribution_bars(card.families, extent=extent),
        ]
    return el(
        "div",
        el("h4", card.model),
        el(
            "div",
            f"rank {card.rank_raw} → {card.rank} ",
            shift_span(card.shift),
            f" · rating {_r(card.rating_raw)} raw, {_r(card.rating)} controlled · {_n(card.battles)} battles",
            class_="meta",
        ),
        el("div", rates, class_="rates"),
        el("p", f"{verdict}; {gap}."),
        el("p", card.sentence, class_="note") if card.sentence else None,
        *[el("p", note, class_="note") for note in ex.get("notes", [])],
        *blocks,
        class_="card",
        id=f"card-{index}",
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
            ": points each style family added to (blue) or took from (vermillion) the raw rating, "
            "γ·(mean standardised style difference on the model's side).",
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
    return el(
        "section",
        el("h2", "Why it won: one card per model"),
        el("ul", items, class_="sentences"),
        el(
            "div",
            [
                model_card(c, i + 1, elo.get(c.component), pts.get(c.component))
                for i, c in enumerate(report.cards)
            ],
            class_="cards",
        ),
        id="cards",
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
    nav = el(
        "nav",
        el("div", [el("a", label, href=f"#{sid}") for sid, label in SECTIONS], class_="wrap"),
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
        section_cards(report),
        section_method(report),
        class_="wrap",
    )
    head = el(
        "head",
        Markup('<meta charset="utf-8">'),
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
                ". Self-contained: no scripts, no network.",
                class_="wrap",
            ),
        ),
    )
    return "<!doctype html>\n" + el("html", head, body, lang="en") + "\n"


def write_report(report: ReportData, path: str | os.PathLike[str]) -> Path:
    """Render and write atomically (:func:`stylebias.outputs.write_text`); returns the path."""
    return write_text(path, render_html(report))
