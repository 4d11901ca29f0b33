"""``rank_battles``: battles -> pair features -> the one fit path -> raw and style-controlled ranks.

This is what ``stylebias rank`` runs and what the report, ``fit`` and the plugin reuse. It only turns its
input into a :class:`~stylebias.rating.fit.Design`: a DataFrame is validated like a loaded file, the feature
request is resolved once (:func:`stylebias.extract.resolve_spec`), every feature value is checked finite.
Thin models, disconnected graphs and the two fits are :func:`stylebias.rating.fit.fit_design`'s.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..battles import BattleSet
from ..errors import DataError, UsageError
from ..rows import validate_battles
from .baseline import SCORE_COLUMNS
from .checks import MAX_REJECTED_SHARE, ResultProblem, grouped_problems
from .fit import Design, Frozen, fit_design
from .result import EXPORT_COLUMNS, WINRATE_COLUMNS, RankResult, describe_settings
from .settings import PARITY_FEATURES, FitSettings

#: The battle column holding frequency weights (Arena-Hard-Auto: how many battles upstream counts a game as).
WEIGHT_COLUMN = "weight"


def check_finite(X: pd.DataFrame, battles: pd.DataFrame) -> None:
    """Raise :class:`DataError` naming the first battle (file and record) whose style feature is not finite."""
    values = X.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError.for_battle(
            f"style feature {X.columns[col]!r} is missing or not finite for this battle "
            f"({int(bad.any(axis=1).sum()):,} battles affected); fix the input or choose other --features",
            battles.iloc[row],
            int(row),
        )


def battle_weights(battles: pd.DataFrame, settings: FitSettings) -> np.ndarray | None:
    """The battles' ``weight`` column as frequency weights (``None``: no column, or ``weights=False``).

    A weight that is missing, negative or not a finite number is a :class:`DataError` naming the battle.
    """
    if not settings.weights or WEIGHT_COLUMN not in battles.columns:
        return None
    w = pd.to_numeric(battles[WEIGHT_COLUMN], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError.for_battle(
            f"battle weight {str(battles[WEIGHT_COLUMN].iloc[i])!r} is not a finite number >= 0 "
            f"({int(bad.sum()):,} such battles); fix the column or use --no-weights",
            battles.iloc[i],
            i,
        )
    return w


def resolve_baseline(value: str | None, battles: pd.DataFrame) -> str | None:
    """``"auto"``: the battles' own ``baseline`` column when it names one model (Arena-Hard-Auto writes it);
    any other value is the baseline as given."""
    if value != "auto":
        return value
    names = sorted({str(v) for v in battles["baseline"].dropna()}) if "baseline" in battles.columns else []
    if len(names) != 1:
        found = f"they name {len(names)}: {', '.join(names[:6])}" if names else "they have no baseline column"
        raise UsageError(
            f"--baseline auto needs battles against one baseline, but {found}; give --baseline MODEL "
            "or split the battles (e.g. --by category)"
        )
    return names[0]


def validate_frame(df: pd.DataFrame, features: Any) -> tuple[BattleSet, Any]:
    """Validate a DataFrame built by the caller; texts are only required when features come from them.

    A table of votes without response columns is fine when no style features are needed or they are given
    precomputed (a DataFrame): the responses are then validated as empty strings. A precomputed feature table
    with one row per input row is returned cut to the rows validation kept; other ``features`` pass through.
    """
    texts_needed = isinstance(features, str) or (isinstance(features, list | tuple) and len(features) > 0)
    if not texts_needed and "response_a" not in df.columns and "response_b" not in df.columns:
        df = df.assign(response_a="", response_b="")
    bs = validate_battles(df.assign(_stylebias_row=np.arange(len(df))))
    kept = bs.battles.pop("_stylebias_row").to_numpy(dtype=np.int64)
    if isinstance(features, pd.DataFrame) and len(features) == len(df):
        features = features.iloc[kept].reset_index(drop=True)  # follow the rows validation kept
    return bs, features


@dataclass
class Prepared:
    """Battles ready for the fit: the validated set, its battle table, the design and the feature choice."""

    data: BattleSet
    battles: pd.DataFrame
    design: Design
    settings: FitSettings
    feature_names: list[str]
    feature_set: str | None
    design_features: pd.DataFrame | None = None


def prepare(data: BattleSet | pd.DataFrame, features: Any, settings: FitSettings) -> Prepared:
    """Validate ``data`` and compute its pair features as ``features`` (a request or a precomputed table) asks."""
    from ..extract import pair_features, resolve_spec

    settings.check()
    if isinstance(data, BattleSet):
        bs = data
    else:
        bs, features = validate_frame(data, features)
    battles = bs.battles.reset_index(drop=True)
    if not len(battles):
        raise DataError(bs.nothing_usable("no battles to rank"))
    if isinstance(features, pd.DataFrame):
        if len(features) != len(battles):
            raise UsageError(f"features table has {len(features)} rows but there are {len(battles)} battles")
        X: pd.DataFrame | None = features.reset_index(drop=True)
        names, named = list(X.columns), None
    else:
        names, named = resolve_spec(features, bs.has_text)
        # extraction workers follow n_jobs (None = all cores); results do not depend on the worker count
        jobs = 0 if settings.n_jobs is None else settings.n_jobs
        X = (
            pair_features(battles, names, jobs=jobs, cache=settings.cache).reset_index(drop=True)
            if names
            else None
        )
    if X is not None:
        check_finite(X, battles)
    # only the columns a fit needs; the (possibly text-heavy) battle table is never copied
    design = Design(
        battles["model_a"],
        battles["model_b"],
        battles["pref_a"].to_numpy(dtype=np.float64),
        X,
        weights=battle_weights(battles, settings),
        prompts=battles["prompt"] if "prompt" in battles else None,
    )
    if settings.baseline is not None:
        design = design.toward(settings.baseline)
    return Prepared(bs, battles, design, settings, names, named, X)


def rank_battles(
    data: BattleSet | pd.DataFrame,
    features: Any = ...,
    *,
    settings: FitSettings | None = None,
    winrate_vs: str | None = None,
    init: RankResult | None = None,
    frozen: tuple[Frozen, FitSettings] | None = None,
    **options: Any,
) -> RankResult:
    """Rank models with and without style control.

    ``settings`` holds every choice (:class:`FitSettings`); keyword ``options`` override single fields
    (``reg=1.0``). ``features`` overrides ``settings.features`` with a request, or gives a precomputed
    table (one row per battle). ``winrate_vs`` adds each model's style-neutral win rate against that model;
    ``init``: a previous result on overlapping data (e.g. before new battles arrived) whose fits warm-start
    these: same optimum, fewer Newton iterations.

    ``frozen`` (from :func:`stylebias.rating.persist.load_frozen`): a saved fit and its settings; its ratings,
    style coefficients and feature standardisation stay fixed and only models it does not know are rated
    (its features, ``reg``, ``ties``, ``scale``, ``base`` and ``anchor`` apply; ``settings`` gives the rest).
    With ``settings.baseline`` every model also gets its score against the baseline (:mod:`.baseline`;
    the baseline is anchored at ``base`` unless an anchor is given), as ``settings.parity`` says.
    """
    settings = (settings or FitSettings()).replace(**options)
    if frozen is not None:
        saved = frozen[1]
        keep = ("n_jobs", "cache", "min_battles", "ci", "level", "weights", "baseline", "parity")
        settings = saved.replace(**{k: getattr(settings, k) for k in keep}, components="largest")
        features = list(frozen[0].controlled.feature_names_in_) or None
    if features is ...:
        features = settings.features
    elif not isinstance(features, pd.DataFrame):
        settings = settings.replace(features=features)
    bs = data if isinstance(data, BattleSet) else None
    if settings.baseline is not None:
        battles = bs.battles if bs is not None else data
        settings = settings.replace(baseline=resolve_baseline(settings.baseline, battles))
        if settings.anchor is None and frozen is None:
            settings = settings.replace(anchor=(settings.baseline, settings.base))
    if settings.parity is not None:
        wanted = PARITY_FEATURES[settings.parity]
        if features in ("auto", ...):
            features = wanted
            settings = settings.replace(features=wanted)
        elif features != wanted:
            raise UsageError(
                f"--parity {settings.parity} controls for its own style terms: use --features {wanted} "
                f"(or leave --features out), not {features!r}"
            )
    prep = prepare(data, features, settings)
    design = prep.design
    if frozen is not None:
        design = dataclasses.replace(design, frozen=frozen[0])
    describe = describe_settings(settings, prep.feature_names, prep.feature_set)
    describe["weights"] = design.weights is not None  # whether the battles had weights and they were used
    result = fit_design(
        design,
        settings,
        data=prep.data.accounting(),
        describe=describe,
        winrate_vs=winrate_vs,
        init=init,
    )
    if settings.baseline is not None:
        add_scores(result, prep, settings)
    if frozen is None and not isinstance(features, pd.DataFrame):  # the labels are the shipped detectors'
        from .simex import add_detector_error_notes

        add_detector_error_notes(prep, result, settings)
    return result


def add_scores(result: RankResult, prep: Prepared, settings: FitSettings) -> None:
    """Put every model's score against ``settings.baseline`` into ``result.models`` and ``result.baseline``."""
    from .baseline import baseline_info, baseline_scores

    baseline = settings.baseline
    assert baseline is not None
    if baseline not in result.controlled.models_:  # a DataError: with --by, the other groups still run
        raise DataError(f"--baseline: model {baseline!r} is not among the rated models")
    scores = baseline_scores(result.controlled, result.raw, baseline)
    extra: dict[str, Any] = {}
    if settings.parity is not None:
        from .arena_hard import parity_scores

        rows = result.battle_rows if result.battle_rows is not None else np.arange(len(prep.battles))
        X = None if prep.design.X is None else prep.design_features.iloc[rows]
        upstream, extra = parity_scores(
            prep.battles.iloc[rows], X, settings.parity, baseline, seed=settings.seed, rounds=settings.rounds
        )
        cols = [c for c in SCORE_COLUMNS if not c.startswith("score_equal_style")]
        scores = scores.drop(columns=cols).merge(upstream[["model", *cols]], on="model", how="left")
        extra["score_raw"] = (
            f"as {settings.parity} show_result.py computes it (see stylebias.rating.arena_hard)"
        )
        extra["score"] = extra["score_raw"] + ", with its style control"
    result.models = result.models.merge(scores, on="model", how="left")
    result.baseline = baseline_info(baseline, settings.level, settings.parity, extra)


@dataclass
class GroupedRanks:
    """``rank --by COLUMN``: one ranking (or the reason there is none) per value of the column."""

    column: str | None
    groups: list[tuple[Any, RankResult | str]]
    data: dict[str, int]
    problems: list[ResultProblem] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document: a plain ranking without ``--by``, else ``{"by", "groups", "data"}``;
        both with ``problems`` (why the result is degenerate, if it is: :mod:`.checks`)."""
        problems = [p.to_json() for p in self.problems]
        if self.column is None:
            only = self.groups[0][1]
            assert isinstance(only, RankResult)
            return {"problems": problems, **only.to_json()}
        out: list[dict[str, Any]] = []
        for value, result in self.groups:
            if isinstance(result, str):
                out.append({"value": value, "error": result})
            else:
                out.append({"value": value, **result.to_json()})
        return {"by": self.column, "problems": problems, "groups": out, "data": dict(self.data)}

    def csv(self) -> tuple[list[str], list[list[Any]]]:
        """``(header, rows)`` of the model tables: group value (with ``--by``), component, the exported columns."""
        by = self.column
        header = ([by] if by else []) + ["component", *EXPORT_COLUMNS]
        extra: list[str] = []
        for name, cols in (("winrate", WINRATE_COLUMNS), ("score", SCORE_COLUMNS)):
            if any(not isinstance(r, str) and name in r.models.columns for _, r in self.groups):
                extra += cols
        header += extra
        rows: list[list[Any]] = []
        for value, result in self.groups:
            if isinstance(result, str):
                continue
            for part in result.all_parts():
                for rec in part.models.to_dict("records"):
                    row = ([value] if by else []) + [part.component + 1] + [rec[c] for c in EXPORT_COLUMNS]
                    rows.append(row + [rec.get(c) for c in extra])
        return header, rows


def rank_battles_by(
    data: BattleSet, column: str | None, *, max_rejected: float = MAX_REJECTED_SHARE, **kwargs: Any
) -> GroupedRanks:
    """:func:`rank_battles` per value of ``column`` (e.g. ``language`` or ``judge``), in sorted value order;
    ``column=None`` ranks everything once.

    A group that cannot be ranked (one model, no battles) yields its error message instead of a result,
    so one thin group does not hide the others. An ``anchor`` or ``winrate_vs`` model missing from a group
    is left out of that group's fit (its ratings are centred on its average model) with a note saying so;
    missing from every group, it is a :class:`UsageError`. ``problems`` lists what makes the result
    degenerate (more than ``max_rejected`` of the records rejected, equal ratings, skipped parts).
    """
    if column is None:
        only = GroupedRanks(None, [(None, rank_battles(data, **kwargs))], data.accounting())
        only.problems = grouped_problems(only, data, max_rejected)
        return only
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
    features = kwargs.pop("features", ...)
    wanted = _group_models(kwargs)
    present = set(battles["model_a"]) | set(battles["model_b"])
    for option, model in wanted.items():
        if model not in present:
            raise UsageError(f"{option}: model {model!r} is in none of the battles")
    for value in uniq:
        mask = keys.isna().to_numpy() if value is None else (keys == value).to_numpy()
        part_features = features.loc[mask] if isinstance(features, pd.DataFrame) else features
        group = data.select(mask)
        here = set(group.battles["model_a"]) | set(group.battles["model_b"])
        lacking = {o: m for o, m in wanted.items() if m not in here}
        try:
            result = rank_battles(group, part_features, **_without(kwargs, lacking))
        except DataError as exc:
            out.append((value, str(exc)))
            continue
        for option, model in lacking.items():
            result.notes.insert(0, _lacking_note(option, model, column, value, result))
        out.append((value, result))
    grouped = GroupedRanks(column, out, data.accounting())
    grouped.problems = grouped_problems(grouped, data, max_rejected)
    return grouped


def _group_models(kwargs: dict[str, Any]) -> dict[str, str]:
    """The models ``--anchor`` and ``--winrate-vs`` name, by option."""
    out = {}
    settings = kwargs.get("settings")
    anchor = kwargs.get("anchor", None if settings is None else settings.anchor)
    if anchor is not None:
        out["--anchor"] = str(anchor[0])
    if kwargs.get("winrate_vs") is not None:
        out["--winrate-vs"] = str(kwargs["winrate_vs"])
    return out


def _without(kwargs: dict[str, Any], lacking: dict[str, str]) -> dict[str, Any]:
    """``kwargs`` for a group that lacks the models in ``lacking``: no anchor, no win-rate reference."""
    out = dict(kwargs)
    if "--anchor" in lacking:
        out["anchor"] = None
    if "--winrate-vs" in lacking:
        out["winrate_vs"] = None
    return out


def _lacking_note(option: str, model: str, column: str, value: Any, result: RankResult) -> str:
    base = result.controlled.base
    if option == "--anchor":
        return (
            f"{column} = {value} has no battles of {model}: {option} does not apply, the ratings are centred "
            f"on this group's average model ({base:g})"
        )
    return f"{column} = {value} has no battles of {model}: no {option} win rates in this group"
