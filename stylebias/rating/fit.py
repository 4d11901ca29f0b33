"""The one fit path: a :class:`Design` and :class:`FitSettings` in, a :class:`RankResult` out.

``rank``, ``fit``, ``report``, ``explain``, ``StyleControl`` and the vote model's strength offset all end
here, so thin models (:func:`thin_models`), disconnected graphs (:func:`component_policy`) and the raw and
style-controlled fits of each connected part (:func:`fit_part`) are decided once. A design is one chunk of
battles as arrays; :class:`~stylebias.rating.solver.Problem` sums its likelihood over rows, so a design
split over machines only needs each chunk's gradient and Hessian added up.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, StyleBiasWarning, UsageError
from .design import components as graph_components
from .design import encode_models
from .estimator import StyleBT, describe_components
from .gain import style_gain
from .result import EXCLUDED_COLUMNS, FEATURE_COLUMNS, MODEL_COLUMNS, RankResult, model_table
from .settings import FitSettings, check_components
from .solver import LN10
from .support import prompt_ids


@dataclass(frozen=True)
class Frozen:
    """Saved fits a new fit holds fixed (frozen coefficients, ``rank --load``).

    ``controlled``: the saved style-controlled fit, whose ratings, style coefficients, feature
    standardisation and tie parameter are held; ``raw``: the saved fit without style, whose ratings the
    raw fit holds (``None``: not saved, the controlled fit stands in for it). Only models these fits do
    not know get ratings; ``source`` says where the fits came from (a folder), for messages.
    """

    controlled: StyleBT
    raw: StyleBT | None = None
    source: str | None = None

    @property
    def models(self) -> list[str]:
        return list(self.controlled.models_)

    def describe(self) -> dict[str, Any]:
        """The ``frozen`` block of a ranking's JSON: what was held fixed and from where."""
        bt = self.controlled
        return {
            "source": self.source,
            "models": list(bt.models_),
            "features": list(bt.feature_names_),
            "coef": [float(c) for c in bt.coef_],
            "feature_mean": [float(m) for m in bt.feature_mean_],
            "feature_scale": [float(v) for v in bt.feature_scale_],
            "tie_parameter": [float(t) for t in bt.tie_param_],
            "raw_fixed": self.raw is not None,
        }


@dataclass(frozen=True)
class Design:
    """Battles as the fit sees them: model names, share of the vote for A, raw pair features, weights.

    ``model_a``/``model_b`` are array-likes of names (a pandas Series is kept as is: no copy of a long
    Arrow-backed column), ``X`` one row per battle (``None`` or no columns: no style control) and
    ``weights`` optional frequency weights. The rest reproduce a fit designed elsewhere (the FastChat
    adapter): ``scaling`` a fixed ``(mean, scale)`` of ``X``'s columns, ``model_scale`` the logit per rating
    unit (FastChat's ``alpha``), ``resamples`` the bootstrap replicates' battle weights (one row each).
    ``frozen``: saved fits whose parameters stay fixed (:class:`Frozen`; only new models are rated).
    ``prompts`` (optional, one per battle, ``None`` where unknown) lets each style effect say how many
    distinct prompts its support comes from.
    """

    model_a: Any
    model_b: Any
    pref_a: np.ndarray
    X: pd.DataFrame | None = None
    weights: np.ndarray | None = None
    scaling: tuple[np.ndarray, np.ndarray] | None = None
    model_scale: float = LN10
    resamples: np.ndarray | None = None
    frozen: Frozen | None = None
    prompts: Any = None

    def __len__(self) -> int:
        return len(self.pref_a)

    def take(self, rows: np.ndarray) -> Design:
        """The battles at positions ``rows`` (the design itself when that is every battle, in order)."""
        if len(rows) == len(self):
            return self
        return dataclasses.replace(
            self,
            model_a=_take(self.model_a, rows),
            model_b=_take(self.model_b, rows),
            pref_a=self.pref_a[rows],
            X=None if self.X is None else self.X.iloc[rows],
            weights=None if self.weights is None else self.weights[rows],
            resamples=None if self.resamples is None else self.resamples[:, rows],
            prompts=None if self.prompts is None else _take(self.prompts, rows),
        )

    def toward(self, baseline: str) -> Design:
        """The same battles with ``baseline`` on side B wherever it plays (A's share and features flipped).

        The likelihood does not change (every pair feature flips sign when A and B swap), only the point
        the standardisation centres on: with the baseline always B, ``z = 0`` is the average style gap
        between the judged models and the baseline, the point Arena-Hard-Auto reads its score at.
        """
        a = np.asarray(self.model_a, dtype=object)
        flip = a == baseline
        if not flip.any():
            return self
        b = np.asarray(self.model_b, dtype=object)
        X = self.X
        if X is not None and X.shape[1]:
            X = X.mul(np.where(flip, -1.0, 1.0), axis=0)
        return dataclasses.replace(
            self,
            model_a=np.where(flip, b, a),
            model_b=np.where(flip, a, b),
            pref_a=np.where(flip, 1.0 - self.pref_a, self.pref_a),
            X=X,
        )


def _take(values: Any, rows: np.ndarray) -> Any:
    return values.iloc[rows] if isinstance(values, pd.Series) else np.asarray(values, dtype=object)[rows]


def thin_models(
    a: np.ndarray,
    b: np.ndarray,
    n_models: int,
    min_battles: int,
    protected: np.ndarray | None = None,
    counts: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[int, int]]:
    """Keep-mask over battles and the excluded model indices with their battle counts.

    Removing a thin model removes its battles, which can make another model thin: iterate to a fixed point.
    ``protected`` (a mask over models) are never thin: models whose ratings are held fixed need no battles.
    ``counts``: battles per row when a row stands for several (a pair table); default one each.
    """
    keep = np.ones(len(a), dtype=bool)
    excluded: dict[int, int] = {}
    if min_battles <= 1:
        return keep, excluded
    c = counts
    initial = np.bincount(a, c, minlength=n_models) + np.bincount(b, c, minlength=n_models)
    drop = np.zeros(n_models, dtype=bool)
    safe = np.zeros(n_models, dtype=bool) if protected is None else protected
    while True:
        ck = None if c is None else c[keep]
        now = np.bincount(a[keep], ck, minlength=n_models) + np.bincount(b[keep], ck, minlength=n_models)
        thin = np.flatnonzero((now < min_battles) & (initial > 0) & ~drop & ~safe)
        if len(thin) == 0:
            break
        for m in thin:
            excluded[int(m)] = int(initial[m])
        drop[thin] = True
        keep &= ~(drop[a] | drop[b])
    return keep, excluded


@dataclass(frozen=True)
class Part:
    """One connected part of the comparison graph that will be fitted: its label, models and battle rows."""

    component: int
    models: list[str]
    rows: np.ndarray


def component_policy(
    models: list[str],
    a: np.ndarray,
    b: np.ndarray,
    rows: np.ndarray,
    policy: str = "split",
    linked: np.ndarray | None = None,
    counts: np.ndarray | None = None,
) -> tuple[list[Part], list[dict[str, Any]]]:
    """What a disconnected comparison graph becomes, and the models it leaves out (with the reason).

    Ratings from different connected components share no scale, so they are never put in one table.
    ``"split"`` (the default) fits every component on its own (component 0 = most battles), ``"largest"``
    fits only component 0 and lists the other models, ``"refuse"`` raises :class:`DataError` naming the
    components. ``a``/``b`` index ``models`` per battle; ``rows`` are those battles' positions in the design;
    ``counts``: battles per row when a row stands for several (a pair table).

    ``linked`` (model indices whose ratings are held fixed: they share one scale) makes the component
    holding them the only one rated, whatever the policy; models not connected to it are left out.
    """
    check_components(policy)
    if linked is not None and len(linked):
        return _linked_part(models, a, b, rows, linked)
    comp_of_model = graph_components(a, b, len(models), counts)
    n_comp = int(comp_of_model.max()) + 1
    if n_comp > 1 and policy == "refuse":
        raise DataError(
            "comparison graph is disconnected, so ratings across its parts are not comparable: "
            + describe_components(models, comp_of_model, a, counts=counts)
            + ". Use components='split' (CLI: --components split) to rate each part separately or "
            "'largest' to rate only the largest."
        )
    excluded: list[dict[str, Any]] = []
    if policy == "largest" and n_comp > 1:
        played = np.bincount(a, counts, minlength=len(models)) + np.bincount(b, counts, minlength=len(models))
        for m, c, n in zip(models, comp_of_model, played, strict=True):
            if c != 0:
                excluded.append(
                    {
                        "model": m,
                        "battles": int(n),
                        "reason": f"not connected to the largest comparison component (component {c + 1})",
                    }
                )
        left_out = sorted(str(r["model"]) for r in excluded)
        warnings.warn(
            f"comparison graph is disconnected; fitting the largest component only. Left out "
            f"{len(left_out)} model(s): {', '.join(left_out)}",
            StyleBiasWarning,
            stacklevel=4,  # the caller of fit_design (through plan_parts)
        )
    comp_of_battle = comp_of_model[a]
    wanted = [0] if policy == "largest" else list(range(n_comp))
    parts = [
        Part(
            c,
            [m for m, k in zip(models, comp_of_model, strict=True) if k == c],
            rows[comp_of_battle == c],
        )
        for c in wanted
    ]
    return parts, excluded


def _linked_part(
    models: list[str], a: np.ndarray, b: np.ndarray, rows: np.ndarray, linked: np.ndarray
) -> tuple[list[Part], list[dict[str, Any]]]:
    """The one part a frozen fit rates: the saved models (linked) and every model connected to them."""
    comp = graph_components(
        np.concatenate([a, np.full(len(linked) - 1, linked[0])]), np.concatenate([b, linked[1:]]), len(models)
    )
    held = comp[linked[0]]
    played = np.bincount(a, minlength=len(models)) + np.bincount(b, minlength=len(models))
    excluded = [
        {"model": m, "battles": int(played[i]), "reason": "not connected to any model of the saved fit"}
        for i, m in enumerate(models)
        if comp[i] != held
    ]
    if excluded:
        warnings.warn(
            f"{len(excluded)} model(s) have no battles connecting them to the saved fit's models and are not "
            f"rated: {', '.join(sorted(str(r['model']) for r in excluded))}",
            StyleBiasWarning,
            stacklevel=5,  # the caller of fit_design (through plan_parts and component_policy)
        )
    keep = [m for i, m in enumerate(models) if comp[i] == held]
    return [Part(0, keep, rows[comp[a] == held])], excluded


def fit_design(
    design: Design,
    settings: FitSettings,
    *,
    data: dict[str, int] | None = None,
    describe: dict[str, Any] | None = None,
    winrate_vs: str | None = None,
    init: RankResult | None = None,
    raw: bool = True,
    tables: bool = True,
) -> RankResult:
    """Raw and style-controlled ratings of every part the component policy keeps (the largest first).

    ``data`` is the input accounting shown with the result, ``describe`` the settings as the result reports
    them (default: ``settings.to_json()``), ``winrate_vs`` adds each model's style-neutral win rate against
    that model, ``init`` warm-starts every fit from a previous result on overlapping data (same optimum,
    fewer Newton iterations) and ``raw=False`` skips the raw fit (the controlled fit stands in for it).
    ``tables=False`` leaves each part's ``models`` and ``features`` tables empty (and skips the style gain
    they show): for callers that read only the fitted estimators, such as the vote model's hundreds of
    cross-validation fits, where building those tables costs more than the Newton steps.
    """
    settings.check()
    enc_all = encode_models(design.model_a, design.model_b)
    parts, excluded, rated = plan_parts(
        enc_all.models,
        enc_all.a,
        enc_all.b,
        settings,
        winrate_vs=winrate_vs,
        frozen=None if design.frozen is None else design.frozen.models,
    )
    anchor = settings.anchor

    shown = settings.to_json() if describe is None else describe
    results: list[RankResult] = []
    skipped: list[dict[str, Any]] = []
    for part in parts:
        known = part.models if design.frozen is None else rated
        here = settings if anchor is None or anchor[0] in known else settings.replace(anchor=None)
        try:
            result = fit_part(
                design.take(part.rows),
                here,
                winrate_vs=winrate_vs if winrate_vs in known else None,
                init=donor(init, part.models),
                raw=raw,
                tables=tables,
            )
        except DataError as exc:  # one part that cannot be fitted does not hide the others
            skipped.append(
                {
                    "component": part.component + 1,
                    "models": len(part.models),
                    "battles": len(part.rows),
                    "reason": str(exc),
                }
            )
            continue
        if anchor is not None and here.anchor is None:
            result.notes.append(unanchored_note(settings))
        result.component = part.component
        result.excluded = excluded
        result.data = dict(data or {})
        result.settings = shown
        result.fit_settings = settings
        result.battle_rows = part.rows
        result.frozen = None if design.frozen is None else design.frozen.describe()
        results.append(result)
    if not results:
        if len(skipped) == 1:
            raise DataError(skipped[0]["reason"])
        raise DataError(
            "no component of the comparison graph could be rated: "
            + "; ".join(f"component {s['component']}: {s['reason']}" for s in skipped)
        )
    main, *others = results
    main.parts = others
    main.skipped = skipped
    return main


def plan_parts(
    all_models: list[str],
    a: np.ndarray,
    b: np.ndarray,
    settings: FitSettings,
    *,
    counts: np.ndarray | None = None,
    winrate_vs: str | None = None,
    frozen: list[str] | None = None,
) -> tuple[list[Part], pd.DataFrame, list[str]]:
    """The parts a fit rates, the models it leaves out, and every model it rates (the saved ones too).

    Thin models first, then the component policy. ``a``/``b`` index ``all_models`` per row; a part's
    ``rows`` are positions in them. ``counts``: battles per row when a row stands for several (the pair
    table of a partitioned fit), default one each. ``frozen``: the models of a saved fit held fixed.
    """
    saved = None
    if frozen is not None:
        saved = np.isin(np.asarray(all_models, dtype=object), frozen)
    keep, thin = thin_models(a, b, len(all_models), settings.min_battles, saved, counts)
    excluded_rows = [
        {
            "model": all_models[m],
            "battles": n,
            "reason": f"fewer than --min-battles {settings.min_battles} battles",
        }
        for m, n in sorted(thin.items())
    ]
    idx = np.flatnonzero(keep)
    if len(idx) == 0:
        raise DataError(
            f"no battles left after removing models with fewer than {settings.min_battles} battles "
            f"({len(thin)} models removed)"
        )
    kept_models = np.unique(np.concatenate([a[idx], b[idx]]))
    if saved is not None and not saved[kept_models].any():
        names = list(frozen or [])
        raise DataError(
            "no battle involves a model of the saved fit, so the new models cannot be placed on its scale "
            f"(saved models: {', '.join(names[:8])}{' …' if len(names) > 8 else ''})"
        )
    if len(kept_models) < 2 and saved is None:
        names = [all_models[i] for i in kept_models]
        raise DataError(f"need at least two models to rate, found {len(names)}: {names}")
    models = [all_models[i] for i in kept_models]
    a_kept = np.searchsorted(kept_models, a[idx])
    b_kept = np.searchsorted(kept_models, b[idx])
    linked = None if saved is None else np.flatnonzero(saved[kept_models])
    parts, left_out = component_policy(
        models, a_kept, b_kept, idx, settings.components, linked, None if counts is None else counts[idx]
    )
    excluded = pd.DataFrame(excluded_rows + left_out, columns=["model", "battles", "reason"])
    rated = models if frozen is None else sorted(set(models) | set(frozen))
    anchor = settings.anchor
    for option, model in (("--winrate-vs", winrate_vs), ("--anchor", None if anchor is None else anchor[0])):
        if model is not None and model not in rated:
            if model in all_models:  # in the data, but removed as thin
                raise DataError(
                    f"{option}: model {model!r} has fewer than --min-battles {settings.min_battles} battles"
                )
            raise UsageError(f"{option}: model {model!r} is not among the rated models")
    return parts, excluded, rated


def fit_part(
    design: Design,
    settings: FitSettings,
    *,
    winrate_vs: str | None = None,
    init: RankResult | None = None,
    raw: bool = True,
    tables: bool = True,
) -> RankResult:
    """The raw and style-controlled fits of one connected set of models, and their model table (empty
    ``models`` and ``features`` tables with ``tables=False``, see :func:`fit_design`)."""
    params = settings.estimator_params()
    ma, mb = np.asarray(design.model_a, dtype=object), np.asarray(design.model_b, dtype=object)
    y, X, w = design.pref_a, design.X, design.weights
    has_style = X is not None and X.shape[1] > 0
    given = {"model_scale": design.model_scale, "resamples": design.resamples}
    frozen = design.frozen
    if frozen is not None:
        # the saved fits decide: style features only if the saved controlled fit has them, and a raw fit
        # only if one was saved (else the controlled fit stands in for it)
        has_style = len(frozen.controlled.feature_names_) > 0
        raw = raw and frozen.raw is not None
    plain = None
    # with a bootstrap, the raw fit draws the controlled fit's per-battle weights: paired replicates
    paired = settings.ci == "bootstrap" and has_style and design.resamples is None
    if raw or not has_style:
        held = None if frozen is None else (frozen.raw if raw else frozen.controlled)
        plain = StyleBT(**params).fit(
            ma,
            mb,
            y,
            weights=w,
            init=None if init is None else init.raw,
            fixed=held,
            cells=not paired,
            **given,
        )
    controlled = plain
    if has_style:
        controlled = StyleBT(**params).fit(
            ma,
            mb,
            y,
            X,
            None if X is None else list(X.columns),
            weights=w,
            init=None if init is None else init.controlled,
            scaling=design.scaling,
            fixed=None if frozen is None else frozen.controlled,
            prompts=None if design.prompts is None else prompt_ids(design.prompts),
            **given,
        )
    plain = controlled if plain is None else plain
    if not tables:
        return RankResult(
            models=pd.DataFrame(columns=list(MODEL_COLUMNS)),
            features=pd.DataFrame(columns=list(FEATURE_COLUMNS)),
            excluded=pd.DataFrame(columns=EXCLUDED_COLUMNS),
            data={},
            settings={},
            controlled=controlled,
            raw=plain,
        )
    gain = style_gain(controlled, plain, design, paired_bootstrap=paired)
    return part_result(controlled, plain, gain, winrate_vs)


def part_result(
    controlled: StyleBT, plain: StyleBT, gain: pd.DataFrame, winrate_vs: str | None
) -> RankResult:
    """One component's :class:`RankResult` from its two fits and their style gain (in memory or partitioned);
    the caller fills in what belongs to the whole fit (component, exclusions, data, settings)."""
    table = model_table(controlled, plain, gain)
    if winrate_vs is not None:
        table = table.merge(controlled.winrate_vs(winrate_vs), on="model", how="left")
    return RankResult(
        models=table,
        features=controlled.effects(),
        excluded=pd.DataFrame(columns=["model", "battles", "reason"]),
        data={},
        settings={},
        controlled=controlled,
        raw=plain,
        winrate_reference=winrate_vs,
    )


def unanchored_note(settings: FitSettings) -> str:
    """The note on a component that lacks the ``--anchor`` model, so its ratings are centred instead."""
    assert settings.anchor is not None
    return (
        f"no model {settings.anchor[0]} in this component: its ratings are centred on its average model "
        f"({settings.base:g}) instead of anchored"
    )


def donor(init: RankResult | None, models: list[str]) -> RankResult | None:
    """The part of a previous result sharing most models with this component (its warm start), if any."""
    if init is None:
        return None
    wanted = set(models)
    best = max(init.all_parts(), key=lambda p: len(wanted & set(p.controlled.models_)))
    return best if wanted & set(best.controlled.models_) else None
