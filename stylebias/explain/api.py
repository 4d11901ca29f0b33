"""``explain_battles``: why each model won — vote model, held-out scores, group points, SHAP, BT cross-check.

One call runs the whole explanation on a :class:`~stylebias.battles.BattleSet` (or a battle DataFrame):
pair features -> grouped cross-validation of the vote model and its baselines -> final vote model on all
battles (or a loaded one, no refit) -> per-battle TreeSHAP and exact group Shapley values -> per-model
observed / predicted / style-neutral win rates and the points each style group bought or cost -> the
Bradley-Terry view of the same question (raw minus style-controlled rating split per feature).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from ..battles import BattleSet
from ..errors import DataError, StyleBiasWarning, UsageError
from ..outputs import plain
from ..progress import task
from ..rows import validate_battles
from .attribution import group_shapley, per_model
from .cv import CVReport, cross_validate
from .design import GROUP_WORDS, feature_groups, group_of, prompt_groups
from .votemodel import VoteModel, fit_strength, fit_vote_model

#: numbers of the ``--json`` document, rounded like every other command's
_clean = partial(plain, digits=6)


@dataclass
class ExplainResult:
    """Everything ``stylebias explain`` shows; tables are DataFrames, ``to_json()`` is the ``--json`` document.

    * ``models``: one row per model — ``battles, observed, predicted, neutral`` (win rates in [0, 1], ties
      half, from the model's side), ``style_points`` (= 100 (predicted - neutral)), ``mover`` (= 100 |observed
      - neutral|), ``rating_raw``, ``rating``, ``bt_shift`` (raw - controlled Elo) when the BT view ran.
    * ``group_points``: index model, one column per style group, win-rate points bought (+) or cost (-);
      rows add up to ``style_points`` exactly. (``family_points`` is the same table.)
    * ``feature_shap``: index model, mean TreeSHAP log-odds per feature from the model's side.
    * ``bt_contributions``: index model, Elo points per feature (gamma_k x mean z_k on its side).
    * ``features``: one row per feature: group, mean |SHAP|, mean SHAP (A's side), BT coefficient.
    * ``cv``: held-out scores of the vote model and baselines (``None`` when a saved model was reused).
    """

    models: pd.DataFrame
    group_points: pd.DataFrame
    feature_shap: pd.DataFrame
    bt_contributions: pd.DataFrame
    features: pd.DataFrame
    vote_model: VoteModel
    cv: CVReport | None
    battles: pd.DataFrame  # model_a, model_b, pref_a, prompt group id
    X: pd.DataFrame
    shap: np.ndarray
    group_phi: pd.DataFrame
    p: np.ndarray
    p_neutral: np.ndarray
    groups: dict[str, list[str]]
    rank: Any = None
    data: dict[str, int] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def family_points(self) -> pd.DataFrame:
        """Alias of ``group_points`` (the report and docs call the style groups feature families)."""
        return self.group_points

    # ------------------------------------------------------------------------------------------------
    def top_movers(self, n: int = 5) -> list[str]:
        """Models with the largest |observed - style-neutral| win rate, largest first (ties by name)."""
        m = self.models.sort_values(["mover", "model"], ascending=[False, True], kind="stable")
        return [str(x) for x in m["model"].head(n)]

    def model_row(self, model: str) -> dict[str, Any]:
        rows = self.models[self.models["model"] == model]
        if not len(rows):
            close = [m for m in self.models["model"] if model.lower() in str(m).lower()]
            hint = f" (did you mean: {', '.join(close[:5])}?)" if close else ""
            raise UsageError(f"model {model!r} is not in these battles{hint}")
        return rows.iloc[0].to_dict()

    def model_sentence(self, model: str, min_points: float = 0.5) -> str:
        """ "M won 64 % of its battles (style-neutral 55 %); length bought 9 points, emoji 3, refusals cost 2." """
        r = self.model_row(model)
        pts = self.group_points.loc[model]
        bought = [(g, v) for g, v in pts.items() if v >= min_points]
        cost = [(g, -v) for g, v in pts.items() if v <= -min_points]
        bought.sort(key=lambda t: (-t[1], t[0]))
        cost.sort(key=lambda t: (-t[1], t[0]))

        def words(items: list[tuple[str, float]], verb: str) -> str:
            out = []
            for i, (g, v) in enumerate(items):
                w = GROUP_WORDS.get(g, g)
                unit = " point" if round(v) == 1 else " points"
                out.append(f"{w} {verb} {v:.0f}{unit}" if i == 0 else f"{w} {v:.0f}")
            return ", ".join(out)

        head = (
            f"{model} won {100 * r['observed']:.0f} % of its battles (vote model {100 * r['predicted']:.0f} %; "
            f"style-neutral {100 * r['neutral']:.0f} %)"
        )
        parts = [p for p in (words(bought, "bought"), words(cost, "cost")) if p]
        if not parts:
            return head + f"; no style group moved it by {min_points:g} points or more."
        return head + "; " + "; ".join(parts) + "."

    # ------------------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """``{"vote_model": {...}, "models": {name: {...}}, "features": {name: {...}}, "groups", ...}``."""
        vm = dict(self.cv.vote_model_json()) if self.cv is not None else dict(self.vote_model.metrics)
        vm.update(
            {
                "reused_saved_model": self.cv is None,
                "rounds": self.vote_model.num_rounds,
                "offset": "bt_strength" if self.vote_model.use_strength else "intercept",
                "features": list(self.vote_model.features),
            }
        )
        models: dict[str, Any] = {}
        for r in self.models.to_dict("records"):
            m = str(r["model"])
            entry: dict[str, Any] = {
                "battles": int(r["battles"]),
                "observed_winrate": _clean(r["observed"]),
                "predicted_winrate": _clean(r["predicted"]),
                "neutral_winrate": _clean(r["neutral"]),
                "style_points": _clean(r["style_points"]),
                "groups": {g: _clean(v) for g, v in self.group_points.loc[m].items()},
                "shap_log_odds": {f: _clean(v) for f, v in self.feature_shap.loc[m].items()},
                "sentence": self.model_sentence(m),
            }
            if "rating" in r and r.get("rating") is not None and not pd.isna(r.get("rating")):
                bt = self.bt_contributions.loc[m] if m in self.bt_contributions.index else None
                entry["bradley_terry"] = {
                    "rating_raw": _clean(r["rating_raw"]),
                    "rating_controlled": _clean(r["rating"]),
                    "raw_minus_controlled": _clean(r["bt_shift"]),
                    "style_elo": {} if bt is None else {f: _clean(v) for f, v in bt.items()},
                    "groups_elo": {}
                    if bt is None
                    else {g: _clean(sum(bt.get(f, 0.0) for f in fs)) for g, fs in self.groups.items()},
                }
            models[m] = entry
        features = {
            str(r["feature"]): {k: _clean(v) for k, v in r.items() if k != "feature"}
            for r in self.features.to_dict("records")
        }
        return {
            "vote_model": vm,
            "models": models,
            "features": features,
            "groups": {g: list(fs) for g, fs in self.groups.items()},
            "top_movers": self.top_movers(),
            "data": dict(self.data),
            "settings": dict(self.settings),
        }


# ----------------------------------------------------------------------------------------------------
def _as_battleset(data: BattleSet | pd.DataFrame | None) -> BattleSet:
    if data is None:
        from ..formats import load_battles

        return load_battles()
    if isinstance(data, BattleSet):
        return data
    if isinstance(data, pd.DataFrame):
        return validate_battles(data)
    raise UsageError(f"explain_battles expects a BattleSet or a DataFrame, got {type(data).__name__}")


def select_battles(data: BattleSet, judge: str | None = None) -> BattleSet:
    """The battles whose ``judge`` column equals ``judge`` (substring match if no exact match)."""
    if judge is None:
        return data
    b = data.battles
    mask = b["judge"].astype("string") == judge
    if not mask.any():
        mask = b["judge"].astype("string").str.contains(judge, regex=False, case=False).fillna(False)
    if not mask.any():
        judges = sorted(map(str, b["judge"].dropna().unique()))[:10]
        raise UsageError(f"--judge {judge!r} matches no battles; judges here: {', '.join(judges)}")
    return BattleSet(b[mask.to_numpy(dtype=bool)].reset_index(drop=True), data.rejects, data.sources)


def _tokens_feature(battles: pd.DataFrame, X: pd.DataFrame, jobs: int) -> np.ndarray:
    """The length pair feature for the length-only baseline (computed if the chosen set lacks it)."""
    if "tokens" in X.columns:
        return X["tokens"].to_numpy(dtype=np.float64)
    from ..extract import pair_features

    return pair_features(battles, ["tokens"], jobs=jobs)["tokens"].to_numpy(dtype=np.float64)


def explain_battles(
    data: BattleSet | pd.DataFrame | None = None,
    features: Any = "auto",
    *,
    model: VoteModel | str | None = None,
    folds: int = 5,
    seed: int = 0,
    judge: str | None = None,
    reg: float = 0.5,
    params: dict[str, Any] | None = None,
    jobs: int | None = None,
    bradley_terry: bool = True,
) -> ExplainResult:
    """Explain why each model won (see the module docstring and ``docs/explain.md``).

    Args:
        data: battles (``None`` = the embedded demo).
        features: ``"auto"`` (``style`` with texts, ``lmarena`` for metadata-only battles), a set name, a
            comma list or a list; ignored when ``model`` is given (the saved model's features are used).
        model: a fitted :class:`VoteModel`, or a saved model folder / shipped name to load; reused as is.
        folds, seed: grouped cross-validation (folds by prompt) and the LightGBM seed.
        judge: keep only battles of this judge (exact, else substring).
        reg: L2 penalty of the Bradley-Terry fits (strength offset, BT + style baseline, BT view).
        bradley_terry: also run ``rank_battles`` for the BT cross-check (raw vs controlled ratings).
    """
    from ..extract import pair_features, resolve_spec
    from ..rating.pipeline import check_finite, validate_frame

    if isinstance(data, pd.DataFrame):
        full, features = validate_frame(data, features)
    else:
        full = _as_battleset(data)
    acc = full.accounting()
    bs = select_battles(full, judge)
    battles = bs.battles.reset_index(drop=True)
    if len(battles) < 2:
        raise DataError(f"explain needs battles to learn from; found {len(battles)}")
    if isinstance(model, str | bytes) or (model is not None and not isinstance(model, VoteModel)):
        from .persist import load_vote_model

        model = load_vote_model(model)  # type: ignore[arg-type]
    named = None
    if isinstance(features, pd.DataFrame):
        if model is not None:
            missing = [f for f in model.features if f not in features.columns]
            if missing:
                raise UsageError(
                    f"the features table lacks the saved model's feature(s): {', '.join(missing)}"
                )
            features = features[list(model.features)]
        if len(features) != len(battles):
            raise UsageError(f"features table has {len(features)} rows but there are {len(battles)} battles")
        X: pd.DataFrame | None = features.reset_index(drop=True)
    else:
        names, named = resolve_spec(list(model.features) if model is not None else features, bs.has_text)
        n_jobs = 0 if jobs is None else jobs
        X = pair_features(battles, names, jobs=n_jobs).reset_index(drop=True) if names else None
    if X is None or X.shape[1] == 0:
        raise UsageError("explain needs at least one style feature")
    check_finite(X, battles)
    A = battles["model_a"].astype(str).to_numpy(dtype=object)
    B = battles["model_b"].astype(str).to_numpy(dtype=object)
    y = battles["pref_a"].to_numpy(dtype=np.float64)
    gid = prompt_groups(battles["prompt"])

    cv = None
    if model is None:
        tokens = _tokens_feature(battles, X, 0 if jobs is None else jobs)
        cv = cross_validate(A, B, y, X, tokens, gid, folds=folds, seed=seed, params=params, reg=reg)
        with task("final vote model", total=1) as advance:
            sf = fit_strength(A, B, y, X, reg=reg)
            vote = fit_vote_model(
                A, B, y, X, rounds=cv.rounds, params={**(params or {}), "seed": seed}, strength=sf
            )
            vote.metrics = cv.vote_model_json()
            advance(1)
        vote.trained_on = {
            "battles": len(battles),
            "models": sorted(set(A) | set(B)),
            "judges": sorted(map(str, battles["judge"].dropna().unique())),
            "prompts": int(len(np.unique(gid))),
        }
    else:
        vote = model
        unknown = sorted((set(A) | set(B)) - set(vote.strength)) if vote.use_strength else []
        if unknown:
            warnings.warn(
                f"{len(unknown)} model(s) not in the saved vote model get strength 0 (the fit's prior mean): "
                + ", ".join(unknown[:5])
                + (" ..." if len(unknown) > 5 else ""),
                StyleBiasWarning,
                stacklevel=2,
            )

    groups = feature_groups(vote.features)
    offset = vote.offset(A, B)
    with task("TreeSHAP per battle", total=1) as advance:
        shap = vote.contributions(X)
        advance(1)
    g = shap.sum(axis=1)
    p = expit(offset + g)
    p0 = expit(offset)
    phi = group_shapley(vote, X, offset, groups)
    summary, gpoints, fshap = per_model(A, B, y, p, p0, phi, shap, vote.features)
    summary["mover"] = 100.0 * (summary["observed"] - summary["neutral"]).abs()

    rank = None
    bt_contrib = pd.DataFrame(index=pd.Index([], name="model"), columns=vote.features, dtype=float)
    coef = {}
    if bradley_terry:
        from ..rating import rank_battles

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StyleBiasWarning)
            rank = rank_battles(bs if len(bs.battles) == len(battles) else battles, X, reg=reg)
        parts = rank.all_parts()
        bt_contrib = (
            pd.concat([pt.contributions() for pt in parts]).reindex(columns=vote.features).fillna(0.0)
        )
        bt_contrib.index.name = "model"
        mt = pd.concat([pt.models for pt in parts])[["model", "rating_raw", "rating"]]
        mt["bt_shift"] = mt["rating_raw"] - mt["rating"]
        summary = summary.merge(mt, on="model", how="left")
        main = rank.controlled
        coef = dict(zip(main.feature_names_, main.coef_, strict=True))
    summary = summary.sort_values(["observed", "model"], ascending=[False, True], kind="stable")
    summary = summary.reset_index(drop=True)

    ftab = pd.DataFrame(
        {
            "feature": vote.features,
            "group": [group_of(f) for f in vote.features],
            "mean_abs_shap": np.abs(shap).mean(axis=0) if len(shap) else 0.0,
            "mean_shap_a": shap.mean(axis=0) if len(shap) else 0.0,
            "bt_coef": [coef.get(f, np.nan) for f in vote.features],
        }
    )
    settings = {
        "features": list(vote.features),
        "feature_set": named,  # None: a list, a comma list or a precomputed table
        "folds": folds if cv is not None else None,
        "seed": seed,
        "judge": judge,
        "reg": reg,
    }
    acc["explained"] = len(battles)
    return ExplainResult(
        models=summary,
        group_points=gpoints,
        feature_shap=fshap,
        bt_contributions=bt_contrib,
        features=ftab,
        vote_model=vote,
        cv=cv,
        battles=pd.DataFrame({"model_a": A, "model_b": B, "pref_a": y, "prompt_group": gid}),
        X=X,
        shap=shap,
        group_phi=phi,
        p=p,
        p_neutral=p0,
        groups=groups,
        rank=rank,
        data=acc,
        settings=settings,
    )
