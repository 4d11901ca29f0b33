"""Figures for ``stylebias explain --plots DIR`` and the HTML report: each function returns a matplotlib Figure.

Figures are built on an Agg canvas without pyplot (no display, no global backend switch) and never use data
strings as format strings: model and feature names are plain text, with ``$`` escaped so matplotlib's mathtext
never parses them. :func:`save_all` writes every figure as PNG and SVG (SVG without a date and with a fixed
hash salt, so reruns give the same file).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .design import GROUP_WORDS

_MAX_POINTS = 4000  # beeswarm sample size (deterministic), keeps every figure under ~1 s


def _figure(figsize: tuple[float, float]) -> tuple[Any, Any]:
    """A Figure with the Agg canvas, made without pyplot: the caller's backend and figure list are untouched."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    matplotlib.rcParams["svg.hashsalt"] = "stylebias"  # stable SVG element ids across runs
    fig = Figure(figsize=figsize, dpi=100)
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def _label(s: Any) -> str:
    """Plain text for a tick label: ``$`` would start mathtext."""
    return str(s).replace("$", r"\$")


def _sample(n: int, k: int = _MAX_POINTS, seed: int = 0) -> np.ndarray:
    if n <= k:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))


def shap_beeswarm(result: Any, max_features: int = 12) -> Any:
    """Contribution summary: one row per feature (by mean |value|), a dot per battle at its value (log-odds of A
    winning), coloured by the feature's rank-scaled pair value (blue = A has less, red = A has more)."""
    shap = np.asarray(result.shap)
    X = result.X[result.vote_model.features].to_numpy(dtype=np.float64)
    order = np.argsort(-np.abs(shap).mean(axis=0), kind="stable")[:max_features][::-1]
    rows = _sample(len(shap))
    fig, ax = _figure((7.5, 0.45 * len(order) + 1.5))
    rng = np.random.default_rng(0)
    sc = None
    for y, j in enumerate(order):
        v = shap[rows, j]
        x = X[rows, j]
        ranks = np.argsort(np.argsort(x, kind="stable"), kind="stable") / max(len(x) - 1, 1)
        jitter = rng.uniform(-0.3, 0.3, len(v)) * (np.abs(v) > 0)
        sc = ax.scatter(
            v, y + jitter, c=ranks, cmap="coolwarm", s=4, alpha=0.6, linewidths=0, rasterized=True
        )
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels([_label(result.vote_model.features[j]) for j in order])
    ax.set_xlabel("contribution (log-odds that A wins)")
    ax.set_title("What moved each vote (vote model: linear terms + TreeSHAP of its trees)")
    if sc is not None:
        cb = fig.colorbar(sc, ax=ax, pad=0.01)
        cb.set_label("pair feature (A − B), rank-scaled")
    fig.tight_layout()
    return fig


def attribution_bars(result: Any, models: Sequence[str] | None = None) -> Any:
    """Per model: win-rate points each style group bought (+) or cost (−), stacked, with observed and neutral."""
    models = list(models) if models else result.top_movers(8)
    gp = result.group_points.loc[models]
    fig, ax = _figure((8, 0.55 * len(models) + 1.6))
    import matplotlib

    colors = matplotlib.colormaps["tab10"]
    y = np.arange(len(models))[::-1]
    pos = np.zeros(len(models))
    neg = np.zeros(len(models))
    for k, g in enumerate(gp.columns):
        v = gp[g].to_numpy()
        left = np.where(v >= 0, pos, neg)
        ax.barh(y, v, left=left, color=colors(k % 10), label=GROUP_WORDS.get(g, g), height=0.6)
        pos += np.where(v >= 0, v, 0)
        neg += np.where(v < 0, v, 0)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([_label(m) for m in models])
    ax.set_xlabel("win-rate points from style (vote model, exact group Shapley)")
    ax.set_title("Points of win rate each style group bought or cost")
    ax.legend(loc="best", fontsize=8, ncols=2)
    fig.tight_layout()
    return fig


def length_dependence(result: Any, feature: str = "tokens") -> Any:
    """SHAP of the length pair feature against its value: does the length effect saturate?"""
    feats = result.vote_model.features
    if feature not in feats:
        feature = next((f for f in feats if f in ("words", "chars")), feats[0])
    j = feats.index(feature)
    x = result.X[feature].to_numpy(dtype=np.float64)
    v = np.asarray(result.shap)[:, j]
    rows = _sample(len(x))
    fig, ax = _figure((6.5, 4.2))
    ax.scatter(x[rows], v[rows], s=5, alpha=0.4, linewidths=0, rasterized=True)
    # binned mean (20 quantile bins) to show the shape
    if len(x) >= 40:
        edges = np.unique(np.quantile(x, np.linspace(0, 1, 21)))
        idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
        cnt = np.bincount(idx, minlength=len(edges) - 1)
        ok = cnt > 0
        mx = np.bincount(idx, x, minlength=len(edges) - 1)[ok] / cnt[ok]
        mv = np.bincount(idx, v, minlength=len(edges) - 1)[ok] / cnt[ok]
        ax.plot(mx, mv, color="black", lw=1.5, label="binned mean")
        ax.legend(loc="best", fontsize=8)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel(_label(f"{feature} pair feature (A − B)/(A + B + 1)"))
    ax.set_ylabel("contribution (log-odds that A wins)")
    ax.set_title(_label(f"Dependence of the vote on {feature}"))
    fig.tight_layout()
    return fig


def calibration_plot(result: Any) -> Any:
    """Held-out calibration of the vote model: mean predicted vs mean observed pref_a per probability bin."""
    fig, ax = _figure((5, 5))
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    if result.cv is not None:
        cal = result.cv.calibration
        ax.plot(cal["predicted"], cal["observed"], marker="o", label="vote model (held-out)")
        for r in cal.itertuples(index=False):
            ax.annotate(
                f"{int(r.battles)}",
                (r.predicted, r.observed),
                fontsize=6,
                xytext=(3, -8),
                textcoords="offset points",
            )
        title = "Calibration (held-out, folds grouped by prompt)"
    else:
        from .votemodel import calibration

        cal = calibration(result.p, result.battles["pref_a"].to_numpy())
        ax.plot(cal["predicted"], cal["observed"], marker="o", label="saved model on these battles")
        title = "Calibration of the reused model on these battles"
    ax.set_xlabel("predicted P(A wins)")
    ax.set_ylabel("observed mean pref_a")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def forest_plot(rank_result: Any, top: int | None = 30) -> Any:
    """Raw vs style-controlled ratings with their intervals, one row per model (all components)."""
    import pandas as pd

    if hasattr(rank_result, "rank") and not hasattr(rank_result, "all_parts"):
        rank_result = rank_result.rank
    parts = rank_result.all_parts()
    m = pd.concat([p.models.assign(component=p.component + 1) for p in parts], ignore_index=True)
    m = m.sort_values(["component", "rating"], ascending=[True, False], kind="stable")
    if top is not None:
        m = m.head(top)
    n = len(m)
    fig, ax = _figure((7.5, 0.32 * n + 1.6))
    y = np.arange(n)[::-1]
    raw = m["rating_raw"].to_numpy()
    ctl = m["rating"].to_numpy()
    ax.errorbar(
        raw,
        y + 0.15,
        xerr=[raw - m["rating_raw_low"].to_numpy(), m["rating_raw_high"].to_numpy() - raw],
        fmt="o",
        ms=3,
        color="tab:grey",
        label="raw",
    )
    ax.errorbar(
        ctl,
        y - 0.15,
        xerr=[ctl - m["rating_low"].to_numpy(), m["rating_high"].to_numpy() - ctl],
        fmt="o",
        ms=3,
        color="tab:blue",
        label="style-controlled",
    )
    labels = [_label(s) for s in m["model"]]
    if len(parts) > 1:
        labels = [f"{lab} [{c}]" for lab, c in zip(labels, m["component"], strict=True)]
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel(
        "Elo rating (95 % CI)" + ("; [k] = comparison component, scales differ" if len(parts) > 1 else "")
    )
    ax.set_title("Raw vs style-controlled ratings")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def save_all(result: Any, directory: str | Path, models: Sequence[str] | None = None) -> list[Path]:
    """Write every figure as PNG and SVG into ``directory``; returns the written paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    figures = {
        "shap_beeswarm": lambda: shap_beeswarm(result),
        "attribution_bars": lambda: attribution_bars(result, models),
        "length_dependence": lambda: length_dependence(result),
        "calibration": lambda: calibration_plot(result),
    }
    if result.rank is not None:
        figures["forest_raw_vs_controlled"] = lambda: forest_plot(result.rank)
    written = []
    for name, make in figures.items():
        fig = make()
        for ext in ("png", "svg"):
            p = out / f"{name}.{ext}"
            fig.savefig(p, format=ext, metadata={"Date": None} if ext == "svg" else None)
            written.append(p)
    return written
