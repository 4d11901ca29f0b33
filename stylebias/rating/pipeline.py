"""``rank_battles``: battles -> pair features -> the one fit path -> raw and style-controlled ranks.

This is what ``stylebias rank`` runs and what the report, ``fit`` and the plugin reuse. It only turns its
input into a :class:`~stylebias.rating.fit.Design`: a DataFrame is validated like a loaded file, the feature
request is resolved once (:func:`stylebias.extract.resolve_spec`), every feature value is checked finite.
Thin models, disconnected graphs and the two fits are :func:`stylebias.rating.fit.fit_design`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..battles import BattleSet
from ..errors import DataError, UsageError
from ..rows import validate_battles
from .checks import MAX_REJECTED_SHARE, ResultProblem, grouped_problems
from .fit import Design, fit_design
from .result import EXPORT_COLUMNS, WINRATE_COLUMNS, RankResult, describe_settings
from .settings import FitSettings


def check_finite(X: pd.DataFrame, battles: pd.DataFrame) -> None:
    """Raise :class:`DataError` naming the first battle (file and record) whose style feature is not finite."""
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
    # only the three columns a fit needs; the (possibly text-heavy) battle table is never copied
    design = Design(
        battles["model_a"],
        battles["model_b"],
        battles["pref_a"].to_numpy(dtype=np.float64),
        X,
        prompts=battles["prompt"] if "prompt" in battles else None,
    )
    return Prepared(bs, battles, design, settings, names, named)


def rank_battles(
    data: BattleSet | pd.DataFrame,
    features: Any = ...,
    *,
    settings: FitSettings | None = None,
    winrate_vs: str | None = None,
    init: RankResult | None = None,
    **options: Any,
) -> RankResult:
    """Rank models with and without style control.

    ``settings`` holds every choice (:class:`FitSettings`); keyword ``options`` override single fields
    (``reg=1.0``). ``features`` overrides ``settings.features`` with a request, or gives a precomputed
    table (one row per battle). ``winrate_vs`` adds each model's style-neutral win rate against that model;
    ``init``: a previous result on overlapping data (e.g. before new battles arrived) whose fits warm-start
    these: same optimum, fewer Newton iterations.
    """
    settings = (settings or FitSettings()).replace(**options)
    if features is ...:
        features = settings.features
    elif not isinstance(features, pd.DataFrame):
        settings = settings.replace(features=features)
    prep = prepare(data, features, settings)
    return fit_design(
        prep.design,
        settings,
        data=prep.data.accounting(),
        describe=describe_settings(settings, prep.feature_names, prep.feature_set),
        winrate_vs=winrate_vs,
        init=init,
    )


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
        has_wr = any(not isinstance(r, str) and "winrate" in r.models.columns for _, r in self.groups)
        if has_wr:
            header += WINRATE_COLUMNS
        rows: list[list[Any]] = []
        for value, result in self.groups:
            if isinstance(result, str):
                continue
            for part in result.all_parts():
                for rec in part.models.to_dict("records"):
                    row = ([value] if by else []) + [part.component + 1] + [rec[c] for c in EXPORT_COLUMNS]
                    if has_wr:
                        row += [rec.get(c) for c in WINRATE_COLUMNS]
                    rows.append(row)
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
