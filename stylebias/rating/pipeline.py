"""``rank_battles``: battles -> pair features -> raw and style-controlled fits -> ranks, in one call.

This is what ``stylebias rank`` runs and what the report and plugin layers reuse. Decisions it makes, all
visible in the result:

* **Feature set.** ``"auto"`` means ``"style"`` (one feature per style concept) when every battle has both
  response texts and ``"lmarena"`` when the data is metadata-only (LMArena's ``conv_metadata`` counts are all
  there is). ``"full"`` is available but holds near-duplicates (chars/words/tokens, refusal flag/score) whose
  effects split between them, which makes the per-feature table harder to read without changing the ratings much.
* **Thin models.** Models with fewer than ``min_battles`` battles are removed together with their battles,
  repeatedly until every remaining model qualifies; they are listed in ``excluded`` with their counts.
* **Disconnected comparison graphs.** Ratings from different connected components share no scale.
  ``components="split"`` (default) fits each component separately and returns one result per component
  (never one mixed table); ``"largest"`` fits the component with most battles and lists the other models
  in ``excluded``; ``"refuse"`` raises :class:`DataError` naming the components.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..battles import BattleSet, validate_battles
from ..errors import DataError, UsageError
from .design import components as graph_components
from .design import encode_models
from .estimator import StyleBT, describe_components
from .ranks import lmarena_ranks, shift_arrow

COMPONENT_POLICIES = ("split", "largest", "refuse")

#: The four LMArena style-control features, computable from ``meta_*`` columns alone.
LMARENA_META = ("tokens", "header_count", "list_count", "bold_count")

MODEL_COLUMNS = (
    "model",
    "battles",
    "rating",
    "rating_low",
    "rating_high",
    "rank",
    "rating_raw",
    "rating_raw_low",
    "rating_raw_high",
    "rank_raw",
    "shift",
)


@dataclass
class RankResult:
    """Raw and style-controlled ratings for one connected set of models (plus any other components).

    ``models``: one row per rated model, best first (columns :data:`MODEL_COLUMNS`, plus ``winrate*`` when
    a reference model was given). ``features``: one row per style feature (``name, coef, low, high``, odds
    ratios, ``sentence``). ``excluded``: models not rated here and why. ``parts``: the other components'
    results when the graph was split. ``controlled``/``raw``: the fitted :class:`StyleBT` objects (the
    linear predictor, standardisation, covariance and bootstrap replicates live there).
    """

    models: pd.DataFrame
    features: pd.DataFrame
    excluded: pd.DataFrame
    data: dict[str, int]
    settings: dict[str, Any]
    controlled: StyleBT
    raw: StyleBT
    component: int = 0
    parts: list[RankResult] = field(default_factory=list)
    winrate_reference: str | None = None

    @property
    def n_battles(self) -> int:
        return int(self.controlled.n_obs_)

    def all_parts(self) -> list[RankResult]:
        """This result followed by the other components' results."""
        return [self, *self.parts]

    def contributions(self) -> pd.DataFrame:
        """Elo points each feature adds to each model's raw rating (see ``StyleBT.style_contributions``)."""
        return self.controlled.style_contributions()

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document: ``{"models", "features", "data", ...}`` (extra keys are additive).

        When the comparison graph was split, the top-level ``models``/``features`` are the largest
        component's and ``components`` lists every component's own tables (``component`` 1 = largest).
        """
        out = self._part_json()
        if self.parts:
            out["components"] = [
                {"component": p.component + 1, **{k: v for k, v in p._part_json().items() if k != "data"}}
                for p in self.all_parts()
            ]
        return out

    def _part_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "models": _records(self.models, _model_json_columns(self.models)),
            "features": _records(
                self.features,
                [
                    "name",
                    "coef",
                    "low",
                    "high",
                    "odds_ratio",
                    "odds_ratio_low",
                    "odds_ratio_high",
                    "sentence",
                ],
            ),
            "data": dict(self.data),
            "excluded": _records(self.excluded, ["model", "battles", "reason"]),
            "settings": dict(self.settings),
            "fit": {
                "battles": self.n_battles,
                "models": int(self.controlled.n_models_),
                "newton_iterations": int(self.controlled.n_iter_),
                "converged": bool(self.controlled.converged_ and self.raw.converged_),
                "dropped_features": list(self.controlled.dropped_features_),
                "tie_parameter": [round(float(t), 6) for t in self.controlled.tie_param_],
            },
        }
        return out


def _model_json_columns(df: pd.DataFrame) -> list[str]:
    cols = [c for c in MODEL_COLUMNS if c != "shift"]
    return cols + [c for c in ("winrate", "winrate_low", "winrate_high") if c in df.columns]


def _clean(v: Any) -> Any:
    if isinstance(v, np.integer | int) and not isinstance(v, bool):
        return int(v)
    if isinstance(v, np.floating | float):
        f = float(v)
        if not math.isfinite(f):
            return None
        return round(f, 6)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _records(df: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    cols = [c for c in columns if c in df.columns]
    return [
        {c: _clean(v) for c, v in zip(cols, row, strict=True)} for row in df[cols].itertuples(index=False)
    ]


# ----------------------------------------------------------------------------------------------------
def battle_features(
    battles: pd.DataFrame, features: Any, has_text: bool, jobs: int | None = 1
) -> pd.DataFrame | None:
    """Raw (unstandardised) pair features for ``battles``: a DataFrame with one row per battle, or None.

    ``features`` may be a DataFrame already (one row per battle, used as is), ``None``/``[]`` (no style
    control), ``"auto"``, a named set, or a list of names understood by :func:`stylebias.extract.pair_features`.
    """
    if features is None or (isinstance(features, list | tuple) and not features):
        return None
    if isinstance(features, pd.DataFrame):
        if len(features) != len(battles):
            raise UsageError(f"features table has {len(features)} rows but there are {len(battles)} battles")
        return features.reset_index(drop=True)
    if isinstance(features, str) and features == "auto":
        features = "style" if has_text else "lmarena"
    try:
        from ..extract import pair_features
    except ImportError:
        pair_features = None
    if pair_features is not None:
        return pair_features(battles, features, jobs=jobs).reset_index(drop=True)
    # Fallback while the extractor is not installed: LMArena's four counts from conv_metadata columns.
    if features in ("lmarena", list(LMARENA_META), tuple(LMARENA_META)) and not has_text:
        return lmarena_from_meta(battles)
    raise UsageError(f"feature extraction is not available in this build; cannot compute {features!r}")


def lmarena_from_meta(battles: pd.DataFrame) -> pd.DataFrame:
    """LMArena's normalised differences (a - b) / (a + b + 1) from the ``meta_*`` columns."""
    out = {}
    for name in LMARENA_META:
        ca, cb = f"meta_{name}_a", f"meta_{name}_b"
        if ca not in battles.columns or cb not in battles.columns:
            raise DataError(f"metadata-only battles lack column {ca!r}/{cb!r} needed for feature {name!r}")
        a = battles[ca].to_numpy(dtype=np.float64)
        b = battles[cb].to_numpy(dtype=np.float64)
        out[name] = (a - b) / (a + b + 1.0)
    return pd.DataFrame(out)


def _check_finite(X: pd.DataFrame, battles: pd.DataFrame) -> None:
    values = X.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        src = battles.iloc[row]
        raise DataError(
            f"style feature {X.columns[col]!r} is missing or not finite for this battle "
            f"({int(bad.any(axis=1).sum()):,} battles affected); fix the input or choose other --features",
            file=str(src.get("source_file")),
            record=src.get("source_record"),
        )


def _min_battle_filter(
    a: np.ndarray, b: np.ndarray, n_models: int, min_battles: int
) -> tuple[np.ndarray, dict[int, int]]:
    """Keep-mask over battles and the excluded model indices with their battle counts.

    Removing a thin model removes its battles, which can make another model thin: iterate to a fixed point.
    """
    keep = np.ones(len(a), dtype=bool)
    excluded: dict[int, int] = {}
    if min_battles <= 1:
        return keep, excluded
    initial = np.bincount(a, minlength=n_models) + np.bincount(b, minlength=n_models)
    drop = np.zeros(n_models, dtype=bool)
    while True:
        counts = np.bincount(a[keep], minlength=n_models) + np.bincount(b[keep], minlength=n_models)
        thin = np.flatnonzero((counts < min_battles) & (initial > 0) & ~drop)
        if len(thin) == 0:
            break
        for m in thin:
            excluded[int(m)] = int(initial[m])
        drop[thin] = True
        keep &= ~(drop[a] | drop[b])
    return keep, excluded


@dataclass(frozen=True)
class _Kept:
    """Models left after filtering, and each kept battle's model indices into that list."""

    models: list[str]
    a: np.ndarray
    b: np.ndarray


def _validate_frame(df: pd.DataFrame, features: Any) -> tuple[BattleSet, np.ndarray]:
    """Validate a DataFrame built by the caller; texts are only required when features come from them.

    A table of votes without response columns is fine when no style features are needed or they are given
    precomputed (a DataFrame): the responses are then validated as empty strings. Also returns the
    positions of the rows validation kept, so a precomputed feature table can follow them.
    """
    texts_needed = isinstance(features, str) or (isinstance(features, list | tuple) and len(features) > 0)
    if not texts_needed and "response_a" not in df.columns and "response_b" not in df.columns:
        df = df.assign(response_a="", response_b="")
    bs = validate_battles(df.assign(_stylebias_row=np.arange(len(df))))
    kept = bs.battles.pop("_stylebias_row").to_numpy(dtype=np.int64)
    return bs, kept


def rank_battles(
    data: BattleSet | pd.DataFrame,
    features: Any = "auto",
    *,
    reg: float = 0.5,
    ties: str = "half",
    ci: str = "sandwich",
    rounds: int = 100,
    seed: int = 0,
    anchor: tuple[str, float] | None = None,
    min_battles: int = 1,
    components: str = "split",
    n_jobs: int | None = None,
    winrate_vs: str | None = None,
    level: float = 0.95,
    scale: float = 400.0,
    base: float = 1000.0,
    init: RankResult | None = None,
) -> RankResult:
    """Rank models with and without style control (see the module docstring for the policies).

    ``init``: a previous result on overlapping data (e.g. before new battles arrived) whose fits warm-start
    these (``StyleBT.fit(init=...)``): same optimum, fewer Newton iterations.
    """
    if components not in COMPONENT_POLICIES:
        raise UsageError(f"components must be one of {', '.join(COMPONENT_POLICIES)}, got {components!r}")
    if not isinstance(min_battles, int) or min_battles < 1:
        raise UsageError(f"min_battles must be an integer >= 1, got {min_battles!r}")
    if isinstance(data, BattleSet):
        bs = data
    else:
        bs, kept = _validate_frame(data, features)
        if isinstance(features, pd.DataFrame) and len(features) == len(data):
            features = features.iloc[kept].reset_index(drop=True)  # follow the rows validation kept
    battles = bs.battles.reset_index(drop=True)
    accounting = bs.accounting()
    if not len(battles):
        top = bs.reject_reasons().head(3)
        reasons = "; ".join(f"{c:,} × {r}" for r, c in zip(top["reason"], top["count"], strict=True))
        raise DataError(
            f"no battles to rank (read {accounting['read']:,}, rejected {accounting['rejected']:,}"
            + (f": {reasons})" if reasons else ")")
        )
    feature_spec = features
    if isinstance(features, str) and features == "auto":
        feature_spec = "style" if bs.has_text else "lmarena"
    # extraction workers follow n_jobs (None = all cores); results do not depend on the worker count
    X = battle_features(battles, features, bs.has_text, jobs=0 if n_jobs is None else n_jobs)
    if X is not None:
        _check_finite(X, battles)
    settings = {
        "features": list(X.columns) if X is not None else [],
        "feature_set": feature_spec if isinstance(feature_spec, str) else None,
        "reg": reg,
        "ties": ties,
        "ci": ci,
        "rounds": rounds if ci == "bootstrap" else None,
        "seed": seed if ci == "bootstrap" else None,
        "level": level,
        "anchor": None if anchor is None else {"model": anchor[0], "rating": anchor[1]},
        "min_battles": min_battles,
        "components": components,
        "scale": scale,
        "base": base,
    }

    # only the three columns the fits need; never copy the (possibly text-heavy) battle table
    votes = battles[["model_a", "model_b", "pref_a"]]
    enc_all = encode_models(votes["model_a"], votes["model_b"])
    keep, thin = _min_battle_filter(enc_all.a, enc_all.b, len(enc_all.models), min_battles)
    excluded_rows = [
        {
            "model": enc_all.models[m],
            "battles": n,
            "reason": f"fewer than --min-battles {min_battles} battles",
        }
        for m, n in sorted(thin.items())
    ]
    idx = np.flatnonzero(keep)
    if len(idx) == 0:
        raise DataError(
            f"no battles left after removing models with fewer than {min_battles} battles "
            f"({len(thin)} models removed)"
        )
    kept_models = np.unique(np.concatenate([enc_all.a[idx], enc_all.b[idx]]))
    if len(kept_models) < 2:
        names = [enc_all.models[i] for i in kept_models]
        raise DataError(f"need at least two models to rate, found {len(names)}: {names}")
    present = np.zeros(len(enc_all.models), dtype=bool)
    present[kept_models] = True
    models = [m for m, ok in zip(enc_all.models, present, strict=True) if ok]
    a_kept = np.searchsorted(kept_models, enc_all.a[idx])
    b_kept = np.searchsorted(kept_models, enc_all.b[idx])
    comp_of_model = graph_components(a_kept, b_kept, len(models))
    n_comp = int(comp_of_model.max()) + 1
    if n_comp > 1 and components == "refuse":
        raise DataError(
            "comparison graph is disconnected, so ratings across its parts are not comparable: "
            + describe_components(models, comp_of_model, a_kept)
            + ". Use components='split' (CLI: --components split) to rate each part separately or "
            "'largest' to rate only the largest."
        )
    enc = _Kept(models, a_kept, b_kept)
    comp_of_battle = comp_of_model[enc.a]
    n_battles_model = pd.Series(
        np.bincount(enc.a, minlength=len(enc.models)) + np.bincount(enc.b, minlength=len(enc.models)),
        index=enc.models,
    )
    wanted = [0] if components == "largest" else list(range(n_comp))
    if components == "largest" and n_comp > 1:
        for m, c in zip(enc.models, comp_of_model, strict=True):
            if c != 0:
                excluded_rows.append(
                    {
                        "model": m,
                        "battles": int(n_battles_model[m]),
                        "reason": f"not connected to the largest comparison component (component {c + 1})",
                    }
                )
    excluded = pd.DataFrame(excluded_rows, columns=["model", "battles", "reason"])
    if winrate_vs is not None and winrate_vs not in enc.models:
        raise UsageError(f"--winrate-vs: model {winrate_vs!r} is not among the rated models")
    if anchor is not None and anchor[0] not in enc.models:
        raise UsageError(f"--anchor: model {anchor[0]!r} is not among the rated models")

    results = []
    for c in wanted:
        sel = idx[comp_of_battle == c]
        models_here = [m for m, k in zip(enc.models, comp_of_model, strict=True) if k == c]
        everything = len(sel) == len(votes)
        results.append(
            _fit_component(
                votes if everything else votes.iloc[sel],
                None if X is None else (X if everything else X.iloc[sel]),
                component=c,
                reg=reg,
                ties=ties,
                ci=ci,
                rounds=rounds,
                seed=seed,
                anchor=anchor if anchor is not None and anchor[0] in models_here else None,
                n_jobs=n_jobs,
                winrate_vs=winrate_vs if winrate_vs in models_here else None,
                level=level,
                scale=scale,
                base=base,
                excluded=excluded,
                data=accounting,
                settings=settings,
                init=_donor(init, models_here),
            )
        )
    main, *others = results
    main.parts = others
    return main


def _fit_component(
    battles: pd.DataFrame,
    X: pd.DataFrame | None,
    *,
    component: int,
    excluded: pd.DataFrame,
    data: dict[str, int],
    settings: dict[str, Any],
    winrate_vs: str | None,
    init: RankResult | None = None,
    **kw: Any,
) -> RankResult:
    est = dict(
        reg=kw["reg"],
        ties=kw["ties"],
        ci=kw["ci"],
        rounds=kw["rounds"],
        seed=kw["seed"],
        anchor=kw["anchor"],
        n_jobs=kw["n_jobs"],
        level=kw["level"],
        scale=kw["scale"],
        base=kw["base"],
    )
    ma, mb = battles["model_a"].to_numpy(dtype=object), battles["model_b"].to_numpy(dtype=object)
    y = battles["pref_a"].to_numpy(dtype=np.float64)
    raw = StyleBT(**est).fit(ma, mb, y, init=None if init is None else init.raw)
    if X is not None and X.shape[1]:
        controlled = StyleBT(**est).fit(
            ma, mb, y, X, list(X.columns), init=None if init is None else init.controlled
        )
    else:
        controlled = raw
    table = model_table(controlled, raw)
    if winrate_vs is not None:
        table = table.merge(controlled.winrate_vs(winrate_vs), on="model", how="left")
    table = table.sort_values(["rating", "model"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )
    return RankResult(
        models=table,
        features=controlled.effects(),
        excluded=excluded,
        data=data,
        settings=settings,
        controlled=controlled,
        raw=raw,
        component=component,
        winrate_reference=winrate_vs,
    )


def model_table(controlled: StyleBT, raw: StyleBT) -> pd.DataFrame:
    """One row per model in ``controlled``'s order: controlled and raw ratings, intervals, LMArena ranks, shift.

    The raw fit's values are aligned by model name before ranking, so the two fits' internal model orders
    never need to agree. Sorting is left to the caller (a win-rate merge may come first).
    """
    models = controlled.models_
    raw_rating = raw.ratings_.reindex(models).to_numpy()
    raw_low = raw.rating_low_.reindex(models).to_numpy()
    raw_high = raw.rating_high_.reindex(models).to_numpy()
    table = pd.DataFrame(
        {
            "model": models,
            "battles": controlled.n_battles_.round().astype(np.int64).to_numpy(),
            "rating": controlled.ratings_.to_numpy(),
            "rating_low": controlled.rating_low_.to_numpy(),
            "rating_high": controlled.rating_high_.to_numpy(),
            "rank": lmarena_ranks(controlled.rating_low_.to_numpy(), controlled.rating_high_.to_numpy()),
            "rating_raw": raw_rating,
            "rating_raw_low": raw_low,
            "rating_raw_high": raw_high,
            "rank_raw": lmarena_ranks(raw_low, raw_high),
        }
    )
    table["shift"] = [shift_arrow(r, c) for r, c in zip(table["rank_raw"], table["rank"], strict=True)]
    return table


def _donor(init: RankResult | None, models: list[str]) -> RankResult | None:
    """The part of a previous result sharing most models with this component (its warm start), if any."""
    if init is None:
        return None
    wanted = set(models)
    best = max(init.all_parts(), key=lambda p: len(wanted & set(p.controlled.models_)))
    return best if wanted & set(best.controlled.models_) else None


def rank_battles_by(data: BattleSet, column: str, **kwargs: Any) -> list[tuple[Any, RankResult | str]]:
    """``rank_battles`` per value of ``column`` (e.g. ``language`` or ``judge``), in sorted value order.

    A group that cannot be ranked (one model, no battles) yields its error message instead of a result,
    so one thin group does not hide the others.
    """
    battles = data.battles
    if column not in battles.columns:
        raise UsageError(
            f"--by: no column {column!r} in the battles (columns: {', '.join(map(str, battles.columns))})"
        )
    values = battles[column]
    keys = values.astype(object).where(values.notna(), None)
    out: list[tuple[Any, RankResult | str]] = []
    uniq = sorted({k for k in keys if k is not None}, key=str)
    if keys.isna().any():
        uniq.append(None)
    features = kwargs.pop("features", "auto")
    for value in uniq:
        mask = keys.isna().to_numpy() if value is None else (keys == value).to_numpy()
        part_features = features.loc[mask] if isinstance(features, pd.DataFrame) else features
        try:
            out.append((value, rank_battles(data.select(mask), part_features, **kwargs)))
        except DataError as exc:
            out.append((value, str(exc)))
    return out
