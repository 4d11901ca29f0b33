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
* what style bought the model, Δ = raw − controlled rating with its interval and reference: the leaderboard's
  column, read from :mod:`stylebias.rating.gain` (never recomputed here), and its one sentence;
* the style term per feature family: :meth:`StyleBT.style_contributions` summed per family, a different
  quantity (the model's style against the average battle's, in Elo) that need not add up to Δ;
* a few example battles: those where style moved the vote most (:func:`style_examples`).

With explanations on (LightGBM + SHAP, :mod:`stylebias.explain`), the vote model's per-model sentence and
SHAP summary figure are added; if they fail on the data, the report says so and keeps the ranking.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from ..battles import BattleSet
from ..errors import StyleBiasWarning
from ..progress import task
from ..rating.gain import GAIN_COLUMNS
from ..rating.settings import FitSettings
from ..rating.solver import LN10
from .examples import style_examples

#: Prompt-bootstrap replicates of the report's explanation intervals. ``explain`` uses 100; each replicate
#: refits the chosen vote model (with trees, a few hundred milliseconds on the demo), and 30 keep the page
#: quick while the cards still say which effects are distinguishable from 0 (``report --boot 100`` for
#: explain's precision).
REPORT_BOOT = 30


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
    style_gain: float = float("nan")
    style_gain_low: float = float("nan")
    style_gain_high: float = float("nan")
    gain_sentence: str | None = None
    sentence: str | None = None
    explain: dict[str, Any] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)


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
    examples_note: str | None = None
    by: str | None = None
    groups: list[tuple[Any, Any]] = field(default_factory=list)

    @property
    def parts(self) -> list[Any]:
        return self.rank.all_parts()


def feature_families(names: list[str]) -> dict[str, str]:
    """Feature name -> family from the extractor registry; unknown (user-supplied) features -> 'other'."""
    from ..extract.registry import FEATURE_BY_NAME

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


def win_rates(battles: pd.DataFrame, est: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per model of ``est``: observed share of the vote and style-neutral expected share, same battles."""
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
        return won / played, neutral / played


def family_points(est: Any, families: dict[str, str]) -> pd.DataFrame:
    """Elo points per model (rows) and feature family (columns, in first-feature order) from style."""
    contrib = est.style_contributions() if len(est.coef_) else pd.DataFrame(index=list(est.models_))
    order: list[str] = []
    for name in contrib.columns:
        if families.get(name, "other") not in order:
            order.append(families.get(name, "other"))
    out = pd.DataFrame(0.0, index=contrib.index, columns=order)
    for name in contrib.columns:
        out[families.get(name, "other")] += contrib[name].astype(float)
    return out


def model_cards(battles: pd.DataFrame, part: Any, families: dict[str, str]) -> list[ModelCard]:
    """Cards for the models of one component, best controlled rating first."""
    est = part.controlled
    observed, neutral = win_rates(battles, est)
    points = family_points(est, families)
    position = {m: i for i, m in enumerate(est.models_)}
    styled = part.raw is not part.controlled  # without style control there is no Δ
    cards = []
    for r in part.models.to_dict("records"):
        m, i = r["model"], position[r["model"]]
        gain = {c: float(r[c]) for c in GAIN_COLUMNS} if styled else {}
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
                observed=float(observed[i]),
                neutral=float(neutral[i]),
                families=[(f, float(v)) for f, v in points.loc[m].items()],
                gain_sentence=part.gain_sentence(m) if styled else None,
                **gain,
            )
        )
    return cards


def data_section(data: BattleSet) -> dict[str, Any]:
    """The report's data accounting: counts, per-file rows, reject reasons, judges and languages."""
    summary = data.validation_summary(examples=3)
    battles = data.battles
    return {
        "accounting": data.accounting(),
        "files": summary["files"],
        "reasons": summary["reasons"],
        "judges": _counts(battles["judge"]) if "judge" in battles else [],
        "languages": _counts(battles["language"]) if "language" in battles else [],
    }


def build_report(
    data: BattleSet | None = None,
    *,
    features: Any = ...,
    settings: FitSettings | None = None,
    title: str | None = None,
    explain: bool = True,
    boot: int = REPORT_BOOT,
    explain_options: dict[str, Any] | None = None,
    by: str | None = None,
    **options: Any,
) -> ReportData:
    """Rank ``data`` (default: the embedded demo) and gather the report's tables, cards and figures.

    ``features``, ``settings`` and the other keywords go to :func:`stylebias.rating.rank_battles`.
    ``explain=False`` skips the vote model and its explanations (faster); when they fail on this data the
    report says so instead of failing. ``boot``: prompt-bootstrap replicates of the explanation's intervals
    (:data:`REPORT_BOOT`, fewer than ``explain``'s default: each replicate refits the chosen vote model);
    ``explain_options`` go to :func:`stylebias.explain.explain_battles` as they are. ``by``: a battle column
    (``judge``, ``language``, ...); each of its values also gets its own ranking (its own panel on the page,
    :func:`stylebias.rating.rank_battles_by`), next to the ranking of all battles.
    """
    from ..formats import load_battles
    from ..rating.pipeline import rank_battles

    if data is None:
        data = load_battles()
    if by is not None and by not in data.battles.columns:  # before the fits, not after them
        from ..errors import UsageError

        raise UsageError(
            f"--by: no column {by!r} in the battles (columns: {', '.join(map(str, data.battles.columns))})"
        )
    settings = (settings or FitSettings()).replace(**options)
    result = rank_battles(data, features, settings=settings)
    families = feature_families(list(result.settings.get("features", [])))
    cards: list[ModelCard] = []
    with task("report: model cards", total=len(result.all_parts())) as advance:
        for part in result.all_parts():
            cards.extend(model_cards(data.battles, part, families))
            advance(1)
    report = ReportData(
        title=title or "Style bias report",
        **data_section(data),
        rank=result,
        families=families,
        cards=cards,
        settings=dict(result.settings),
    )
    if explain:
        wanted = settings.features if features is ... else features
        options = {"jobs": settings.n_jobs, "seed": settings.seed, "boot": boot, **(explain_options or {})}
        add_explanations(report, data, wanted, **options)
    else:
        report.explain_note = "SHAP explanations were skipped (--no-explain)."
    report.examples_note = style_examples(
        report, data.battles, lambda: _pair_features(data, result, features)
    )
    if by is not None:
        from ..rating.pipeline import rank_battles_by

        given = {} if features is ... else {"features": features}
        with task(f"report: ranking per {by}", total=None):
            report.by, report.groups = by, rank_battles_by(data, by, settings=settings, **given).groups
    return report


def _pair_features(data: BattleSet, result: Any, features: Any) -> pd.DataFrame | None:
    """The raw pair features the ranking used, one row per battle (``None`` without style features)."""
    if isinstance(features, pd.DataFrame):
        return features.reset_index(drop=True)
    names = list(result.settings.get("features", []))
    if not names:
        return None
    from ..extract import pair_features

    jobs = (
        0 if result.fit_settings is None or result.fit_settings.n_jobs is None else result.fit_settings.n_jobs
    )
    cache = True if result.fit_settings is None else result.fit_settings.cache
    return pair_features(data.battles, names, jobs=jobs, cache=cache).reset_index(drop=True)


def add_explanations(report: ReportData, data: BattleSet, features: Any, **options: Any) -> None:
    """Fill the SHAP summary and the cards' vote-model view from :mod:`stylebias.explain`.

    The seam to the explain module is this one function. It calls ``explain_battles(data, features=...,
    rank=report.rank, **options)`` (the report's Bradley-Terry fit is the BT view), then per card
    ``ExplainResult.model_sentence(model)`` and the rows of ``ExplainResult.models`` / ``group_points``
    (observed, vote-model predicted and style-neutral win rates; win-rate points per style group, which add
    up exactly to predicted - neutral), ``ExplainResult.model_card(model)`` for their intervals and the notes
    where the vote model and Bradley-Terry differ, and ``stylebias.explain.plots.shap_beeswarm(result)`` for
    the SHAP summary. A failure on this data leaves a note in the report instead of an error.
    """
    if features is None or (isinstance(features, list | tuple) and not features):
        report.explain_note = "SHAP explanations need style features; this report was made without them."
        return
    from .. import explain as ex

    try:
        with task("report: explain (LightGBM + SHAP)", total=None):
            # the report's own Bradley-Terry fit is the BT view, so the cards' notes compare with it
            result = ex.explain_battles(data, features=features, rank=report.rank, **options)
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

        report.shap_svg = figure_svg(plots.shap_beeswarm(result), title="SHAP summary of the vote model")
    except Exception as exc:
        report.explain_note = f"SHAP summary plot unavailable: {exc}"


def _vote_scores(result: Any) -> list[dict[str, Any]]:
    """Held-out scores of the vote model and its baselines (grouped CV), one dict per model, if available."""
    cv = getattr(result, "cv", None)
    scores = getattr(cv, "scores", None)
    if not isinstance(scores, pd.DataFrame):
        return []
    from ..explain.cv import LABELS

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
        full = result.model_card(card.model)  # intervals, notes where the two views differ
        card.explain.update(
            neutral_low=full["neutral_low"],
            neutral_high=full["neutral_high"],
            groups_ci={g["group"]: (g["low"], g["high"]) for g in full["groups"]},
            notes=list(full["notes"]),
            vote_model=full["vote_model"],
        )
