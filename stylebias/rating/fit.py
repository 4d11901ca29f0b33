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
from .result import RankResult, model_table
from .settings import FitSettings, check_components
from .solver import LN10


@dataclass(frozen=True)
class Design:
    """Battles as the fit sees them: model names, share of the vote for A, raw pair features, weights.

    ``model_a``/``model_b`` are array-likes of names (a pandas Series is kept as is: no copy of a long
    Arrow-backed column), ``X`` one row per battle (``None`` or no columns: no style control) and
    ``weights`` optional frequency weights. The rest reproduce a fit designed elsewhere (the FastChat
    adapter): ``scaling`` a fixed ``(mean, scale)`` of ``X``'s columns, ``model_scale`` the logit per rating
    unit (FastChat's ``alpha``), ``resamples`` the bootstrap replicates' battle weights (one row each).
    """

    model_a: Any
    model_b: Any
    pref_a: np.ndarray
    X: pd.DataFrame | None = None
    weights: np.ndarray | None = None
    scaling: tuple[np.ndarray, np.ndarray] | None = None
    model_scale: float = LN10
    resamples: np.ndarray | None = None

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
        )


def _take(values: Any, rows: np.ndarray) -> Any:
    return values.iloc[rows] if isinstance(values, pd.Series) else np.asarray(values, dtype=object)[rows]


def thin_models(
    a: np.ndarray, b: np.ndarray, n_models: int, min_battles: int, counts: np.ndarray | None = None
) -> tuple[np.ndarray, dict[int, int]]:
    """Keep-mask over battles and the excluded model indices with their battle counts.

    Removing a thin model removes its battles, which can make another model thin: iterate to a fixed point.
    ``counts``: battles per row when a row stands for several (a pair table); default one each.
    """
    keep = np.ones(len(a), dtype=bool)
    excluded: dict[int, int] = {}
    if min_battles <= 1:
        return keep, excluded
    c = counts
    initial = np.bincount(a, c, minlength=n_models) + np.bincount(b, c, minlength=n_models)
    drop = np.zeros(n_models, dtype=bool)
    while True:
        ck = None if c is None else c[keep]
        counts_now = np.bincount(a[keep], ck, minlength=n_models) + np.bincount(
            b[keep], ck, minlength=n_models
        )
        thin = np.flatnonzero((counts_now < min_battles) & (initial > 0) & ~drop)
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
    counts: np.ndarray | None = None,
) -> tuple[list[Part], list[dict[str, Any]]]:
    """What a disconnected comparison graph becomes, and the models it leaves out (with the reason).

    Ratings from different connected components share no scale, so they are never put in one table.
    ``"split"`` (the default) fits every component on its own (component 0 = most battles), ``"largest"``
    fits only component 0 and lists the other models, ``"refuse"`` raises :class:`DataError` naming the
    components. ``a``/``b`` index ``models`` per battle; ``rows`` are those battles' positions in the design;
    ``counts``: battles per row when a row stands for several (a pair table).
    """
    check_components(policy)
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


def fit_design(
    design: Design,
    settings: FitSettings,
    *,
    data: dict[str, int] | None = None,
    describe: dict[str, Any] | None = None,
    winrate_vs: str | None = None,
    init: RankResult | None = None,
    raw: bool = True,
) -> RankResult:
    """Raw and style-controlled ratings of every part the component policy keeps (the largest first).

    ``data`` is the input accounting shown with the result, ``describe`` the settings as the result reports
    them (default: ``settings.to_json()``), ``winrate_vs`` adds each model's style-neutral win rate against
    that model, ``init`` warm-starts every fit from a previous result on overlapping data (same optimum,
    fewer Newton iterations) and ``raw=False`` skips the raw fit (the controlled fit stands in for it).
    """
    settings.check()
    enc_all = encode_models(design.model_a, design.model_b)
    parts, excluded = plan_parts(enc_all.models, enc_all.a, enc_all.b, settings, winrate_vs=winrate_vs)
    anchor = settings.anchor

    shown = settings.to_json() if describe is None else describe
    results = []
    for part in parts:
        here = settings if anchor is None or anchor[0] in part.models else settings.replace(anchor=None)
        result = fit_part(
            design.take(part.rows),
            here,
            winrate_vs=winrate_vs if winrate_vs in part.models else None,
            init=donor(init, part.models),
            raw=raw,
        )
        result.component = part.component
        result.excluded = excluded
        result.data = dict(data or {})
        result.settings = shown
        result.fit_settings = settings
        result.battle_rows = part.rows
        results.append(result)
    main, *others = results
    main.parts = others
    return main


def plan_parts(
    all_models: list[str],
    a: np.ndarray,
    b: np.ndarray,
    settings: FitSettings,
    *,
    counts: np.ndarray | None = None,
    winrate_vs: str | None = None,
) -> tuple[list[Part], pd.DataFrame]:
    """The parts a fit rates and the models it leaves out: thin models, then the component policy.

    ``a``/``b`` index ``all_models`` per row; a part's ``rows`` are positions in them. ``counts``: battles
    per row when a row stands for several (the pair table of a partitioned fit), default one each.
    """
    keep, thin = thin_models(a, b, len(all_models), settings.min_battles, counts)
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
    if len(kept_models) < 2:
        names = [all_models[i] for i in kept_models]
        raise DataError(f"need at least two models to rate, found {len(names)}: {names}")
    models = [all_models[i] for i in kept_models]
    a_kept = np.searchsorted(kept_models, a[idx])
    b_kept = np.searchsorted(kept_models, b[idx])
    parts, left_out = component_policy(
        models, a_kept, b_kept, idx, settings.components, None if counts is None else counts[idx]
    )
    excluded = pd.DataFrame(excluded_rows + left_out, columns=["model", "battles", "reason"])
    if winrate_vs is not None and winrate_vs not in models:
        raise UsageError(f"--winrate-vs: model {winrate_vs!r} is not among the rated models")
    anchor = settings.anchor
    if anchor is not None and anchor[0] not in models:
        raise UsageError(f"--anchor: model {anchor[0]!r} is not among the rated models")
    return parts, excluded


def fit_part(
    design: Design,
    settings: FitSettings,
    *,
    winrate_vs: str | None = None,
    init: RankResult | None = None,
    raw: bool = True,
) -> RankResult:
    """The raw and style-controlled fits of one connected set of models, and their model table."""
    params = settings.estimator_params()
    ma, mb = np.asarray(design.model_a, dtype=object), np.asarray(design.model_b, dtype=object)
    y, X, w = design.pref_a, design.X, design.weights
    has_style = X is not None and X.shape[1] > 0
    given = {"model_scale": design.model_scale, "resamples": design.resamples}
    plain = None
    if raw or not has_style:
        plain = StyleBT(**params).fit(ma, mb, y, weights=w, init=None if init is None else init.raw, **given)
    controlled = plain
    if has_style:
        controlled = StyleBT(**params).fit(
            ma,
            mb,
            y,
            X,
            list(X.columns),
            weights=w,
            init=None if init is None else init.controlled,
            scaling=design.scaling,
            **given,
        )
    plain = controlled if plain is None else plain
    table = model_table(controlled, plain)
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


def donor(init: RankResult | None, models: list[str]) -> RankResult | None:
    """The part of a previous result sharing most models with this component (its warm start), if any."""
    if init is None:
        return None
    wanted = set(models)
    best = max(init.all_parts(), key=lambda p: len(wanted & set(p.controlled.models_)))
    return best if wanted & set(best.controlled.models_) else None
