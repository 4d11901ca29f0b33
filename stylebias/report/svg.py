"""Hand-drawn inline SVG charts for the report, and matplotlib figures turned into inline SVG.

The report's own charts (forest plot, slope chart, effect bars) are written directly as SVG: a few kB each,
crisp at any zoom, styled by the page's CSS (so fonts and colours match the tables), and every label goes
through :func:`~stylebias.report.markup.el`, which escapes data. Figures from other modules (the SHAP
beeswarm) arrive as matplotlib Figures and are embedded with :func:`figure_svg`.

Colours are the Okabe-Ito colour-blind-safe palette; direction is never shown by colour alone (arrows,
signs and labels carry it too).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .markup import Markup, el, fmt_num

#: Colours of the Okabe-Ito palette (Okabe & Ito 2008), safe for the common colour-vision deficiencies.
BLUE = "#0072B2"
ORANGE = "#E69F00"
VERMILLION = "#D55E00"
GREY = "#8C8C8C"
INK = "#1f2933"
GRID = "#e4e7eb"

UP, DOWN, SAME = BLUE, VERMILLION, GREY

CHAR_W = 7.0  # average glyph width of 12 px system sans (DejaVu/Segoe/Roboto), for label layout
ROW = 22
FONT = 12


def nice_ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    """Round tick values covering [lo, hi] (1-2-5 steps)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0]
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    t = start
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 10))
        t += step
    if ticks[-1] < hi:
        ticks.append(round(t, 10))
    return ticks


def clip_label(text: str, max_chars: int) -> str:
    """Shorten a label for a chart axis (the full text is kept in a ``<title>`` tooltip)."""
    text = str(text)
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def label_width(labels: Sequence[str], lo: int = 90, hi: int = 340) -> tuple[int, int]:
    """(pixel width, max chars) of a label column that fits the longest label within [lo, hi] px."""
    longest = max((len(str(s)) for s in labels), default=0)
    need = longest * CHAR_W + 16
    width = int(min(max(need, lo), hi))
    return width, (longest if need <= hi else max(int((width - 16) / CHAR_W), 4))


@dataclass(frozen=True)
class Scale:
    """Linear map from data [d0, d1] to pixels [p0, p1]."""

    d0: float
    d1: float
    p0: float
    p1: float

    def __call__(self, x: float) -> float:
        if self.d1 == self.d0:
            return (self.p0 + self.p1) / 2
        return self.p0 + (x - self.d0) * (self.p1 - self.p0) / (self.d1 - self.d0)


def _svg(width: float, height: float, title: str, *children: Any, desc: str | None = None) -> Markup:
    """An accessible, responsive SVG root (scales to its container width, keeps its aspect ratio)."""
    return el(
        "svg",
        el("title", title),
        el("desc", desc) if desc else None,
        *children,
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {fmt_num(width)} {fmt_num(height)}",
        width=fmt_num(width),
        role="img",
        class_="chart",
        font_size=FONT,
        style=f"max-width:{fmt_num(width)}px",
    )


def _text(x: float, y: float, text: str, full: str | None = None, **kw: Any) -> Markup:
    kids: list[Any] = [text]
    if full is not None and full != text:
        kids.insert(0, el("title", full))
    return el("text", *kids, x=fmt_num(x), y=fmt_num(y), **kw)


def _row_label(right: float, yc: float, name: Any, max_chars: int) -> Markup:
    """A row's label, right-aligned at ``right``, clipped to ``max_chars`` with the full name as tooltip."""
    return _text(right, yc + 4, clip_label(name, max_chars), full=str(name), text_anchor="end", class_="lab")


def _x_axis(scale: Scale, ticks: Sequence[float], top: float, bottom: float, fmt: str = "{:,.0f}") -> Markup:
    parts = []
    for t in ticks:
        x = scale(t)
        parts.append(el("line", x1=x, x2=x, y1=top, y2=bottom, stroke=GRID))
        parts.append(_text(x, bottom + 15, fmt.format(t), text_anchor="middle", class_="tick"))
    return el("g", *parts)


def signed(v: float, digits: int = 1) -> str:
    """``+1.2`` / ``-3.4``, and ``0.0`` rather than ``-0.0`` or ``+0.0`` for values that round to zero."""
    if not math.isfinite(v):
        return "–"
    s = f"{v:+.{digits}f}"
    return s[1:] if float(s) == 0 else s


# ------------------------------------------------------------------------------------------------------
def forest_plot(
    models: Sequence[str],
    raw: Sequence[tuple[float, float, float]],
    controlled: Sequence[tuple[float, float, float]],
    *,
    level: float = 0.95,
    width: int = 1060,
) -> Markup:
    """Ratings with intervals, raw (hollow orange) and style-controlled (filled blue), one row per model.

    ``raw``/``controlled`` hold ``(rating, low, high)`` per model, in display order.
    """
    n = len(models)
    lab_w, lab_chars = label_width(models)
    top, row = 34, ROW
    plot_top, plot_bottom = top, top + n * row
    height = plot_bottom + 30
    values = [v for trip in (*raw, *controlled) for v in trip if math.isfinite(v)]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    ticks = nice_ticks(lo, hi)
    sx = Scale(ticks[0], ticks[-1], lab_w + 10, width - 20)
    pct = round(level * 100)
    body: list[Any] = [_x_axis(sx, ticks, plot_top - 4, plot_bottom)]
    for i, name in enumerate(models):
        yc = plot_top + i * row + row / 2
        if i % 2 == 0:
            body.append(el("rect", x=0, y=yc - row / 2, width=width, height=row, fill="#f7f9fb"))
        body.append(_row_label(lab_w, yc, name, lab_chars))
        for (r, low, high), dy, colour, filled, kind in (
            (raw[i], -4, ORANGE, False, "raw"),
            (controlled[i], 4, BLUE, True, "style-controlled"),
        ):
            if not all(math.isfinite(v) for v in (r, low, high)):
                continue
            y = yc + dy
            body.append(
                el(
                    "g",
                    el("title", f"{name}: {kind} {r:,.1f} ({pct}% CI {low:,.0f}–{high:,.0f})"),
                    el("line", x1=sx(low), x2=sx(high), y1=y, y2=y, stroke=colour, stroke_width=2),
                    el(
                        "circle",
                        cx=sx(r),
                        cy=y,
                        r=3.6,
                        fill=colour if filled else "#fff",
                        stroke=colour,
                        stroke_width=1.8,
                    ),
                )
            )
    legend = el(
        "g",
        el("line", x1=lab_w + 10, x2=lab_w + 30, y1=14, y2=14, stroke=ORANGE, stroke_width=2),
        el("circle", cx=lab_w + 20, cy=14, r=3.6, fill="#fff", stroke=ORANGE, stroke_width=1.8),
        _text(lab_w + 36, 18, "raw", class_="legend"),
        el("line", x1=lab_w + 80, x2=lab_w + 100, y1=14, y2=14, stroke=BLUE, stroke_width=2),
        el("circle", cx=lab_w + 90, cy=14, r=3.6, fill=BLUE, stroke=BLUE, stroke_width=1.8),
        _text(lab_w + 106, 18, f"style-controlled ({pct}% CI)", class_="legend"),
    )
    return _svg(
        width,
        height,
        "Forest plot: raw and style-controlled ratings with confidence intervals",
        legend,
        *body,
        desc=f"{n} models; rating on the horizontal axis (Elo scale); bars are {pct}% intervals.",
    )


# ------------------------------------------------------------------------------------------------------
def slope_chart(
    models: Sequence[str],
    raw_pos: Sequence[int],
    ctrl_pos: Sequence[int],
    raw_rank: Sequence[int],
    ctrl_rank: Sequence[int],
    *,
    width: int = 1060,
) -> Markup:
    """Raw order (left) to style-controlled order (right), one line per model.

    Lines are placed by position in each ordering (1 = highest rating) and coloured by the change in
    LMArena rank (which counts only *statistically* better models): blue up, vermillion down, grey same.
    """
    n = len(models)
    labels_l = [f"{r}  {m}" for m, r in zip(models, raw_rank, strict=True)]
    labels_r = [
        f"{r}  {m}  ↑{abs(int(a) - int(r))}" for m, r, a in zip(models, ctrl_rank, raw_rank, strict=True)
    ]
    lab_w, lab_chars = label_width(labels_l, lo=120, hi=330)
    lab_wr, lab_chars_r = label_width(labels_r, lo=120, hi=360)
    top, row = 40, ROW
    x_l = lab_w + 14
    x_r = min(width - lab_wr - 14, x_l + 420)
    width = int(x_r + lab_wr + 14)
    height = top + n * row + 10
    parts: list[Any] = [
        _text(x_l, 22, "raw", text_anchor="middle", class_="colhead"),
        _text(x_r, 22, "style-controlled", text_anchor="middle", class_="colhead"),
    ]
    order = sorted(range(n), key=lambda i: (raw_rank[i] == ctrl_rank[i], i))  # movers drawn last = on top
    for i in reversed(order):
        y1 = top + (raw_pos[i] - 1) * row + row / 2
        y2 = top + (ctrl_pos[i] - 1) * row + row / 2
        d = int(raw_rank[i]) - int(ctrl_rank[i])
        colour = UP if d > 0 else DOWN if d < 0 else SAME
        arrow = f"↑{d}" if d > 0 else f"↓{-d}" if d < 0 else "="
        name = str(models[i])
        tip = f"{name}: rank {raw_rank[i]} → {ctrl_rank[i]} ({arrow})"
        parts.append(
            el(
                "g",
                el("title", tip),
                el(
                    "line",
                    x1=x_l,
                    y1=y1,
                    x2=x_r,
                    y2=y2,
                    stroke=colour,
                    stroke_width=2.4 if d else 1.4,
                    stroke_opacity=0.9 if d else 0.6,
                ),
                el("circle", cx=x_l, cy=y1, r=3.5, fill=colour),
                el("circle", cx=x_r, cy=y2, r=3.5, fill=colour),
                _text(
                    x_l - 10,
                    y1 + 4,
                    clip_label(f"{raw_rank[i]}  {name}", lab_chars),
                    full=name,
                    text_anchor="end",
                    class_="lab",
                ),
                _text(
                    x_r + 10,
                    y2 + 4,
                    clip_label(f"{ctrl_rank[i]}  {name}  {arrow}", lab_chars_r),
                    full=name,
                    class_="lab",
                    font_weight="600" if d else None,
                ),
            )
        )
    return _svg(
        width,
        height,
        "Slope chart: rank before and after style control",
        *parts,
        desc=f"{n} models; left: raw order, right: style-controlled order; numbers are LMArena ranks.",
    )


# ------------------------------------------------------------------------------------------------------
def effects_chart(
    names: Sequence[str],
    coef: Sequence[float],
    low: Sequence[float],
    high: Sequence[float],
    *,
    level: float = 0.95,
    width: int = 1060,
    verdicts: Sequence[str] | None = None,
) -> Markup:
    """Horizontal bars: change in log-odds of winning per +1 SD of each pair feature, with intervals.

    Blue = helps win, vermillion = hurts, grey = interval crosses zero or, with ``verdicts`` (the effects
    table's own, :func:`stylebias.rating.support.verdict`), too few battles to tell. The right margin prints
    the odds multiplier so the sign is readable without colour.
    """
    n = len(names)
    lab_w, lab_chars = label_width(names, lo=110, hi=240)
    top, row = 16, ROW
    plot_bottom = top + n * row
    height = plot_bottom + 34
    finite = [v for v in (*low, *high, 0.0) if math.isfinite(v)]
    ticks = nice_ticks(min(finite), max(finite), 7)
    sx = Scale(ticks[0], ticks[-1], lab_w + 10, width - 110)
    parts: list[Any] = [_x_axis(sx, ticks, top - 4, plot_bottom, fmt="{:+.2g}")]
    parts.append(el("line", x1=sx(0), x2=sx(0), y1=top - 6, y2=plot_bottom, stroke=INK, stroke_width=1))
    pct = round(level * 100)
    for i, name in enumerate(names):
        c, lo, hi = float(coef[i]), float(low[i]), float(high[i])
        yc = top + i * row + row / 2
        verdict = ("helps" if c > 0 else "hurts") if (lo > 0 or hi < 0) else "no clear effect"
        if verdicts is not None:
            verdict = str(verdicts[i])
        clear = verdict in ("helps", "hurts")
        colour = (BLUE if c > 0 else VERMILLION) if clear else GREY
        x0, x1 = sorted((sx(0), sx(c)))
        parts.append(
            el(
                "g",
                el(
                    "title", f"{name}: {c:+.3f} log-odds per SD ({pct}% CI {lo:+.3f} to {hi:+.3f}); {verdict}"
                ),
                _row_label(lab_w, yc, name, lab_chars),
                el("rect", x=x0, y=yc - 7, width=max(x1 - x0, 0.8), height=14, fill=colour, fill_opacity=0.8),
                el("line", x1=sx(lo), x2=sx(hi), y1=yc, y2=yc, stroke=INK, stroke_width=1.3),
                el("line", x1=sx(lo), x2=sx(lo), y1=yc - 4, y2=yc + 4, stroke=INK, stroke_width=1.3),
                el("line", x1=sx(hi), x2=sx(hi), y1=yc - 4, y2=yc + 4, stroke=INK, stroke_width=1.3),
                _text(width - 100, yc + 4, f"odds ×{math.exp(c):.2f}", class_="num"),
            )
        )
    parts.append(
        _text(
            (sx(ticks[0]) + sx(ticks[-1])) / 2,
            height - 4,
            "change in log-odds of winning per +1 SD of the pair feature",
            text_anchor="middle",
            class_="axis",
        )
    )
    return _svg(
        width,
        height,
        "Style effects with confidence intervals",
        *parts,
        desc=f"{n} features; bars are coefficients, whiskers {pct}% intervals.",
    )


# ------------------------------------------------------------------------------------------------------
def contribution_bars(
    items: Sequence[tuple[str, float]], *, width: int = 360, unit: str = "Elo", extent: float | None = None
) -> Markup:
    """Small diverging bar chart (one row per item, e.g. Elo points per feature family) for a model card.

    ``extent`` fixes the half-width of the axis (pass the same value to every card so bars compare across
    cards); by default it is the largest absolute value here, but at least 10 so noise never fills the card.
    """
    if not items:
        return Markup("")
    lab_w, lab_chars = label_width([n for n, _ in items], lo=70, hi=120)
    row = 18
    top = 4
    height = top + len(items) * row + 4
    m = extent or max((abs(v) for _, v in items if math.isfinite(v)), default=0.0)
    m = max(m, 10.0)
    sx = Scale(-m, m, lab_w + 6, width - 60)
    parts: list[Any] = [el("line", x1=sx(0), x2=sx(0), y1=top, y2=height - 4, stroke=INK, stroke_width=1)]
    for i, (name, v) in enumerate(items):
        yc = top + i * row + row / 2
        colour = BLUE if v > 0 else VERMILLION
        shown = max(-m, min(m, v)) if math.isfinite(v) else 0.0
        x0, x1 = sorted((sx(0), sx(shown)))
        parts.append(
            el(
                "g",
                el("title", f"{name}: {signed(v)} {unit}"),
                _row_label(lab_w, yc, name, lab_chars),
                el(
                    "rect", x=x0, y=yc - 5, width=max(x1 - x0, 0.8), height=10, fill=colour, fill_opacity=0.85
                ),
                _text(width - 54, yc + 4, signed(v), class_="num"),
            )
        )
    return _svg(width, height, f"{unit} points per style family", *parts)


# ------------------------------------------------------------------------------------------------------
_SVG_OPEN = re.compile(r"<svg\b[^>]*>", re.S)


def figure_svg(fig: Any, *, max_width: int = 1060, title: str | None = None) -> Markup:
    """Inline SVG of a matplotlib Figure: no XML prologue, deterministic ids, scales with the page.

    Text stays as ``<text>`` (``svg.fonttype='none'``), which matplotlib's writer escapes; the report's
    tests check that hostile labels come out escaped. The figure is closed afterwards.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "stylebias-report"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    start = text.find("<svg")
    if start < 0:
        return Markup("")
    text = text[start:]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    m = _SVG_OPEN.match(text)
    if m:
        opening = m.group(0)
        natural = re.search(r'\swidth="([\d.]+)pt"', opening)
        px = float(natural.group(1)) * 4 / 3 if natural else float(max_width)  # CSS: 1pt = 4/3 px
        opening = re.sub(r'\s(width|height)="[^"]*"', "", opening)
        label = f' role="img" class="chart mpl" style="max-width:{int(min(px, max_width))}px"'
        opening = opening[:-1] + label + ">"
        text = opening + text[m.end() :]
    if title:
        text = text.replace(">", ">" + el("title", title), 1)
    return Markup(text)
