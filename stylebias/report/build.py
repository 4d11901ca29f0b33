"""Collect everything the HTML report shows, as plain data, from one ranking run (and optionally explain).

:func:`build_report` is the library entry point: battles in, :class:`ReportData` out. Rendering lives in
:mod:`stylebias.report.html`, so the numbers can be tested without parsing HTML and another renderer
(Markdown, a notebook) can reuse them.

Per-model "why it won" cards use the Bradley-Terry decomposition of the style-controlled fit:

* observed score: the model's share of the vote in its battles (ties half);
* style-neutral score: the expected share in the *same* battles (same opponents, same screen sides) if both
  answers had the same style, i.e. every pair feature 0: ``σ(d - c)`` with ``d`` the controlled rating
  difference in log-odds and ``c`` the centring constant of the standardised style term (z = -mean/scale at
  identical style). This is the definition the vote model uses too (docs/methods.md), so the card's two
  style-neutral scores answer the same question;
* Elo points bought or cost per feature family: :meth:`StyleBT.style_contributions` summed per family.

When the explain module is available (LightGBM + SHAP, :mod:`stylebias.explain`), its per-model sentence
and SHAP summary figure are added; the report works without it.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from ..battles import BattleSet
from ..errors import StyleBiasWarning
from ..progress import task

LN10 = math.log(10.0)


@dataclass
class ModelCard:
    """One model's "why it won" numbers (see the module docstring for the definitions)."""

    model: str
    component: int
    battles: int
    rank_raw: int
    rank: int
    shift: str
    rating_raw: float
    rating: float
    observed: float
    neutral: float
    families: list[tuple[str, float]]
    sentence: str | None = None
    explain: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReportData:
    """Everything the report page shows. ``rank`` is a :class:`~stylebias.rating.RankResult`."""

    title: str
    accounting: dict[str, int]
    files: list[dict[str, Any]]
    reasons: list[dict[str, Any]]
    judges: list[tuple[str, int]]
    languages: list[tuple[str, int]]
    rank: Any
    families: dict[str, str]
    cards: list[ModelCard]
    explain: Any = None
    explain_note: str | None = None
    shap_svg: str | None = None
    vote_scores: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def parts(self) -> list[Any]:
        return self.rank.all_parts()


def feature_families(names: list[str]) -> dict[str, str]:
    """Feature name -> family from the extractor registry; unknown (user-supplied) features -> 'other'."""
    try:
        from ..extract.registry import FEATURE_BY_NAME
    except ImportError:  # pragma: no cover - extractor always ships, but the report must not need it
        FEATURE_BY_NAME = {}
    return {n: (FEATURE_BY_NAME[n].family if n in FEATURE_BY_NAME else "other") for n in names}


def _counts(series: pd.Series, limit: int = 12) -> list[tuple[str, int]]:
    s = series.dropna().astype(str)
    s = s[s != ""]
    vc = s.value_counts()
    out = [(str(k), int(v)) for k, v in vc.head(limit).items()]
    rest = int(vc.iloc[limit:].sum()) if len(vc) > limit else 0
    if rest:
        out.append((f"({len(vc) - limit} more)", rest))
    return out


def model_cards(battles: pd.DataFrame, part: Any, families: dict[str, str]) -> list[ModelCard]:
    """Cards for the models of one component, best controlled rating first."""
    est = part.controlled
    models = list(est.models_)
    index = pd.Index(models)
    ia = index.get_indexer(battles["model_a"].to_numpy(dtype=object))
    ib = index.get_indexer(battles["model_b"].to_numpy(dtype=object))
    keep = (ia >= 0) & (ib >= 0)
    ia, ib = ia[keep], ib[keep]
    y = battles["pref_a"].to_numpy(dtype=np.float64)[keep]
    beta = np.asarray(est.beta_, dtype=np.float64)
    coef = np.asarray(est.coef_, dtype=np.float64)
    c = float(coef @ (est.feature_mean_ / est.feature_scale_)) if len(coef) else 0.0
    d = LN10 * (beta[ia] - beta[ib])
    neutral_a = expit(d - c)  # A's expected share with identical styles, same opponents and sides
    P = len(models)
    played = np.bincount(ia, minlength=P) + np.bincount(ib, minlength=P)
    won = np.bincount(ia, y, minlength=P) + np.bincount(ib, 1 - y, minlength=P)
    neutral = np.bincount(ia, neutral_a, minlength=P) + np.bincount(ib, 1 - neutral_a, minlength=P)
    with np.errstate(invalid="ignore", divide="ignore"):
        observed_rate = won / played
        neutral_rate = neutral / played
    contrib = est.style_contributions() if len(coef) else pd.DataFrame(index=models)
    fam_order: list[str] = []
    for name in contrib.columns:
        fam = families.get(name, "other")
        if fam not in fam_order:
            fam_order.append(fam)
    rows = {r["model"]: r for r in part.models.to_dict("records")}
    cards = []
    for m in part.models["model"]:
        i = models.index(m)
        r = rows[m]
        fam_points: dict[str, float] = dict.fromkeys(fam_order, 0.0)
        for name in contrib.columns:
            fam_points[families.get(name, "other")] += float(contrib.at[m, name])
        cards.append(
            ModelCard(
                model=str(m),
                component=part.component,
                battles=int(r["battles"]),
                rank_raw=int(r["rank_raw"]),
                rank=int(r["rank"]),
                shift=str(r["shift"]),
                rating_raw=float(r["rating_raw"]),
                rating=float(r["rating"]),
                observed=float(observed_rate[i]),
                neutral=float(neutral_rate[i]),
                families=[(f, v) for f, v in fam_points.items()],
            )
        )
    return cards


def build_report(
    data: BattleSet | None = None,
    *,
    features: Any = "auto",
    title: str | None = None,
    explain: bool = True,
    ci: str = "sandwich",
    rounds: int = 100,
    seed: int = 0,
    n_jobs: int | None = None,
    explain_options: dict[str, Any] | None = None,
    **rank_options: Any,
) -> ReportData:
    """Rank ``data`` (default: the embedded demo) and gather the report's tables, cards and figures.

    ``features``/``ci``/``rounds``/``seed``/``n_jobs`` and any other keyword go to
    :func:`stylebias.rating.rank_battles`. ``explain=False`` skips the LightGBM/SHAP part (faster); when
    the explain module is missing or fails on this data the report says so instead of failing.
    """
    from ..formats import load_battles
    from ..rating.pipeline import rank_battles

    if data is None:
        data = load_battles()
    result = rank_battles(data, features, ci=ci, rounds=rounds, seed=seed, n_jobs=n_jobs, **rank_options)
    summary = data.validation_summary(examples=3)
    battles = data.battles
    families = feature_families(list(result.settings.get("features", [])))
    cards: list[ModelCard] = []
    with task("report: model cards", total=len(result.all_parts())) as advance:
        for part in result.all_parts():
            cards.extend(model_cards(battles, part, families))
            advance(1)
    report = ReportData(
        title=title or "Style bias report",
        accounting=data.accounting(),
        files=summary["files"],
        reasons=summary["reasons"],
        judges=_counts(battles["judge"]) if "judge" in battles else [],
        languages=_counts(battles["language"]) if "language" in battles else [],
        rank=result,
        families=families,
        cards=cards,
        settings=dict(result.settings),
    )
    if explain:
        add_explanations(report, data, features, jobs=n_jobs, **(explain_options or {}))
    else:
        report.explain_note = "SHAP explanations were skipped (--no-explain)."
    return report


def add_explanations(report: ReportData, data: BattleSet, features: Any, **options: Any) -> None:
    """Fill the SHAP summary and the cards' vote-model view from :mod:`stylebias.explain`, if available.

    The seam to the explain module is this one function. It calls ``explain_battles(data, features=...,
    rank=report.rank, **options)`` (the report's Bradley-Terry fit is the BT view), then per card
    ``ExplainResult.model_sentence(model)`` and the rows of ``ExplainResult.models`` / ``group_points``
    (observed, vote-model predicted and style-neutral win rates; win-rate points per style group, which add
    up exactly to predicted - neutral), ``ExplainResult.model_card(model)`` for their intervals and the notes
    where the vote model and Bradley-Terry differ, and ``stylebias.explain.plots.shap_beeswarm(result)`` for
    the SHAP summary. Anything missing or failing leaves a note in the report instead of an error.
    """
    if features is None or (isinstance(features, list | tuple) and not features):
        report.explain_note = "SHAP explanations need style features; this report was made without them."
        return
    try:
        from .. import explain as ex
    except ImportError:
        report.explain_note = "SHAP explanations are not available in this build (stylebias.explain missing)."
        return
    fn = getattr(ex, "explain_battles", None)
    if fn is None:
        report.explain_note = "SHAP explanations are not available in this build (no explain_battles)."
        return
    try:
        with task("report: explain (LightGBM + SHAP)", total=None):
            # the report's own Bradley-Terry fit is the BT view, so the cards' notes compare with it
            result = fn(data, features=features, rank=report.rank, **options)
    except Exception as exc:  # the report must still render the ranking part
        warnings.warn(
            f"report: SHAP explanations failed ({exc}); shown without them", StyleBiasWarning, stacklevel=2
        )
        report.explain_note = f"SHAP explanations failed on this data: {exc}"
        return
    report.explain = result
    _explain_cards(report, result)
    report.vote_scores = _vote_scores(result)
    try:
        from ..explain import plots
        from .svg import figure_svg

        plot = getattr(plots, "shap_beeswarm", None)
        if plot is not None:
            report.shap_svg = figure_svg(plot(result), title="SHAP summary of the vote model")
    except Exception as exc:
        report.explain_note = f"SHAP summary plot unavailable: {exc}"


def _vote_scores(result: Any) -> list[dict[str, Any]]:
    """Held-out scores of the vote model and its baselines (grouped CV), one dict per model, if available."""
    cv = getattr(result, "cv", None)
    scores = getattr(cv, "scores", None)
    if not isinstance(scores, pd.DataFrame):
        return []
    try:
        from ..explain.cv import LABELS
    except ImportError:
        LABELS = {}
    return [
        {
            "name": str(name),
            "label": LABELS.get(name, str(name)),
            **{k: float(row[k]) for k in ("log_loss", "brier", "auc") if k in row},
        }
        for name, row in scores.iterrows()
    ]


def _explain_cards(report: ReportData, result: Any) -> None:
    """Copy the vote model's per-model numbers and sentence onto each card (models it did not see: none)."""
    models = getattr(result, "models", None)
    rows = {str(r["model"]): r for r in models.to_dict("records")} if isinstance(models, pd.DataFrame) else {}
    points = getattr(result, "group_points", None)
    for card in report.cards:
        try:
            card.sentence = result.model_sentence(card.model)
        except Exception:  # a model the vote model did not see
            card.sentence = None
        r = rows.get(card.model)
        if r is None:
            continue
        groups: list[tuple[str, float]] = []
        if isinstance(points, pd.DataFrame) and card.model in points.index:
            groups = [(str(g), float(v)) for g, v in points.loc[card.model].items()]
        card.explain = {
            "observed": float(r["observed"]),
            "predicted": float(r["predicted"]),
            "neutral": float(r["neutral"]),
            "groups": groups,
        }
        story = getattr(result, "model_card", None)
        if story is not None:  # intervals, notes where the two views differ (ExplainResult.model_card)
            try:
                full = story(card.model)
            except Exception:  # an older explain module or a model it did not see
                continue
            card.explain.update(
                neutral_low=full.get("neutral_low"),
                neutral_high=full.get("neutral_high"),
                groups_ci={g["group"]: (g["low"], g["high"]) for g in full.get("groups", [])},
                notes=list(full.get("notes", [])),
                vote_model=full.get("vote_model"),
            )
