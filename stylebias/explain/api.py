"""``explain_battles``: why each model won — chosen vote model, nested held-out scores, points with intervals.

One call runs the whole pipeline on a :class:`~stylebias.battles.BattleSet` (or a battle DataFrame):
pair features -> nested grouped cross-validation (the vote model's complexity chosen on inner folds, scored on
outer folds, next to BT + style, length-only and the prior) -> the same choice on all battles and the chosen
model fitted on them (or a loaded one, no refit) -> per-battle contributions and exact group Shapley values ->
per-model observed / predicted / style-neutral win rates and the points each style group bought or cost ->
prompt-bootstrap intervals -> the Bradley-Terry view of the same numbers, and where the two views disagree.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..battles import BattleSet
from ..errors import DataError, StyleBiasWarning, UsageError
from ..progress import task, use_reporter
from ..rating import FitSettings
from ..rows import validate_battles
from .attribution import group_shapley, per_model
from .cv import nested_cv
from .design import GROUP_WORDS, feature_groups, group_of, prompt_groups
from .intervals import LEVEL, Index, bootstrap_attribution, bt_attribution, percentile
from .result import ExplainResult, fmt_points, fmt_signed
from .select import SEARCHES, Spec, Votes, check_reg, fit_spec, quiet_fits
from .votemodel import VoteModel

#: Bootstrap replicates for the intervals (prompts resampled); 0 = no intervals.
DEFAULT_BOOT = 100


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
    inner_folds: int = 5,
    seed: int = 0,
    judge: str | None = None,
    reg: float | str = "auto",
    search: str = "auto",
    boot: int = DEFAULT_BOOT,
    jobs: int | None = None,
    bradley_terry: bool = True,
    rank: Any = None,
) -> ExplainResult:
    """Explain why each model won (see the module docstring and ``docs/explain.md``).

    Args:
        data: battles (``None`` = the embedded demo).
        features: ``"auto"`` (``style`` with texts, ``lmarena`` for metadata-only battles), a set name, a
            comma list, a list or a precomputed feature table; ignored when ``model`` is given (the saved
            model's features are used).
        model: a fitted :class:`VoteModel`, or a saved model folder / shipped name to load; reused as is
            (no cross-validation, no refit, no intervals).
        folds, inner_folds: outer folds (grouped by prompt) for the held-out scores; inner folds of each
            training fold for choosing the vote model and the BT penalty.
        seed: seed of the fold split, LightGBM and the bootstrap.
        judge: keep only battles of this judge (exact, else substring).
        reg: L2 penalty of the plain Bradley-Terry + style fits (the baseline and the BT view): ``"auto"`` =
            chosen by grouped cross-validation, or a number (0.5 = LMArena's). The vote model's own
            penalties are always chosen by cross-validation.
        search: ``"auto"`` (linear candidates and residual trees) or ``"linear"`` (no trees; faster).
        boot: prompt-bootstrap replicates for the intervals (0 = none).
        jobs: workers for feature extraction and bootstrap threads (None = every core); results do not
            depend on it.
        bradley_terry: also run ``rank_battles`` for the BT view (ratings, the same split, agreement check).
        rank: a :class:`~stylebias.rating.RankResult` already fitted on these battles and features (e.g. the
            report's) to use as the BT view instead of fitting one; implies ``bradley_terry``.
    """
    from ..extract import pair_features, resolve_spec
    from ..rating.pipeline import check_finite, validate_frame

    reg = check_reg(reg)
    if search not in SEARCHES:
        raise UsageError(f"search must be one of {', '.join(SEARCHES)}, got {search!r}")
    if not isinstance(boot, int) or boot < 0 or boot == 1:
        raise UsageError(f"boot must be 0 (no intervals) or at least 2 replicates, got {boot!r}")
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
    n_jobs = 0 if jobs is None else jobs  # extraction workers: 0 = every core
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
        X = pair_features(battles, names, jobs=n_jobs).reset_index(drop=True) if names else None
    if X is None or X.shape[1] == 0:
        raise UsageError("explain needs at least one style feature")
    check_finite(X, battles)
    A = battles["model_a"].astype(str).to_numpy(dtype=object)
    B = battles["model_b"].astype(str).to_numpy(dtype=object)
    y = battles["pref_a"].to_numpy(dtype=np.float64)
    gid = prompt_groups(battles["prompt"])
    tokens = _tokens_feature(battles, X, n_jobs)
    votes = Votes(A, B, y, X, tokens, gid)

    cv = None
    chosen: Spec | None = None
    bt_reg = FitSettings().reg if reg == "auto" else float(reg)
    if model is None:
        cv, final = nested_cv(votes, folds=folds, inner_folds=inner_folds, seed=seed, reg=reg, search=search)
        chosen = final.chosen
        if reg == "auto" and final.bt_reg is not None:
            bt_reg = final.bt_reg
        with task("final vote model", total=1) as advance, use_reporter(None), quiet_fits():
            vote = fit_spec(chosen, votes, seed=seed)
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
    with task("contributions per battle", total=1) as advance:
        shap = vote.contributions(X)
        advance(1)
    p0 = 1.0 / (1.0 + np.exp(-offset))
    phi = group_shapley(vote, X, offset, groups)
    p = p0 + phi.to_numpy().sum(axis=1)
    summary, gpoints, fshap = per_model(A, B, y, p, p0, phi, shap, vote.features)
    summary["mover"] = 100.0 * (summary["observed"] - summary["neutral"]).abs()
    index = Index.of(list(summary["model"]), A, B)

    low = high = None
    if chosen is not None and boot:
        draws = bootstrap_attribution(chosen, votes, groups, index, rounds=boot, seed=seed, n_jobs=jobs)
        for name, arr in (("predicted", draws.predicted), ("neutral", draws.neutral)):
            lo, hi = percentile(arr, LEVEL)
            summary[f"{name}_low"], summary[f"{name}_high"] = lo, hi
        sp_lo, sp_hi = percentile(100.0 * (draws.predicted - draws.neutral), LEVEL)
        summary["style_points_low"], summary["style_points_high"] = sp_lo, sp_hi
        g_lo, g_hi = percentile(draws.points, LEVEL)
        low = pd.DataFrame(g_lo, index=gpoints.index, columns=gpoints.columns)
        high = pd.DataFrame(g_hi, index=gpoints.index, columns=gpoints.columns)
    else:
        for c in ("predicted", "neutral", "style_points"):
            summary[f"{c}_low"] = summary[f"{c}_high"] = np.nan

    bt_contrib = pd.DataFrame(index=pd.Index([], name="model"), columns=vote.features, dtype=float)
    bt_pts = bt_lo = bt_hi = None
    coef: dict[str, float] = {}
    if rank is not None:
        missing = sorted(
            {f for pt in rank.all_parts() for f in pt.controlled.feature_names_} - set(X.columns)
        )
        if missing:
            raise UsageError(f"the given rank result uses feature(s) not computed here: {', '.join(missing)}")
        bt_reg = rank.settings.get("reg", bt_reg)
    elif bradley_terry:
        from ..rating import rank_battles

        with warnings.catch_warnings(), task("Bradley-Terry view", total=1) as advance:
            warnings.simplefilter("ignore", StyleBiasWarning)
            settings = FitSettings(reg=bt_reg, n_jobs=jobs)
            rank = rank_battles(bs if len(bs.battles) == len(battles) else battles, X, settings=settings)
            advance(1)
    if rank is not None:
        parts = rank.all_parts()
        bt_contrib = (
            pd.concat([pt.contributions() for pt in parts]).reindex(columns=vote.features).fillna(0.0)
        )
        bt_contrib.index.name = "model"
        # raw − controlled is the ranking's own Δ (rating/gain.py), read, not recomputed
        mt = pd.concat([pt.models for pt in parts])[["model", "rating_raw", "rating", "style_gain"]]
        mt = mt.rename(columns={"style_gain": "bt_shift"})
        main = rank.controlled
        coef = dict(zip(main.feature_names_, main.coef_, strict=True))
        with task("Bradley-Terry view: same split, intervals", total=1) as advance:
            bt_point, bt_draws = bt_attribution(rank, votes, groups, index, rounds=max(boot, 0), seed=seed)
            advance(1)
        summary["predicted_bt"], summary["neutral_bt"] = bt_point.predicted, bt_point.neutral
        bt_pts = pd.DataFrame(bt_point.points, index=gpoints.index, columns=gpoints.columns)
        if bt_draws is not None:
            lo, hi = percentile(bt_draws.neutral, LEVEL)
            summary["neutral_bt_low"], summary["neutral_bt_high"] = lo, hi
            g_lo, g_hi = percentile(bt_draws.points, LEVEL)
            bt_lo = pd.DataFrame(g_lo, index=gpoints.index, columns=gpoints.columns)
            bt_hi = pd.DataFrame(g_hi, index=gpoints.index, columns=gpoints.columns)
        else:
            summary["neutral_bt_low"] = summary["neutral_bt_high"] = np.nan
        summary = summary.merge(mt, on="model", how="left")
    summary = summary.sort_values(["observed", "model"], ascending=[False, True], kind="stable")
    summary = summary.reset_index(drop=True)

    ftab = pd.DataFrame(
        {
            "feature": vote.features,
            "group": [group_of(f) for f in vote.features],
            "mean_abs_shap": np.abs(shap).mean(axis=0) if len(shap) else 0.0,
            "mean_shap_a": shap.mean(axis=0) if len(shap) else 0.0,
            "coef_per_rms": [
                float(vote.coef.get(f, 0.0)) * float(np.sqrt(np.mean(X[f].to_numpy(dtype=np.float64) ** 2)))
                for f in vote.features
            ],
            "bt_coef": [coef.get(f, np.nan) for f in vote.features],
        }
    )
    settings = {
        "features": list(vote.features),
        "feature_set": named,  # None: a list, a comma list or a precomputed table
        "folds": folds if cv is not None else None,
        "inner_folds": inner_folds if cv is not None else None,
        "seed": seed,
        "judge": judge,
        "reg": reg,
        "bt_reg": bt_reg if rank is not None else None,
        "search": search,
        "boot": boot if chosen is not None else 0,
        "level": LEVEL,
    }
    acc["explained"] = len(battles)
    result = ExplainResult(
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
        group_points_low=low,
        group_points_high=high,
        bt_points=bt_pts,
        bt_points_low=bt_lo,
        bt_points_high=bt_hi,
        level=LEVEL,
    )
    result.agreement = agreement_table(result)
    return result


def agreement_table(result: ExplainResult) -> pd.DataFrame:
    """Where the BT view's interval excludes 0: does the vote model's card agree in sign, and if not, why."""
    cols = ["model", "group", "bt_points", "bt_low", "bt_high", "points", "low", "high", "status", "reason"]
    if result.bt_points is None or result.bt_points_low is None or result.bt_points_high is None:
        return pd.DataFrame(columns=cols)
    vote = result.vote_model
    label = vote.candidate.get("label", vote.kind)
    pct = f"{round(100 * result.level)} %"
    rows = []
    for m in result.group_points.index:
        if m not in result.bt_points.index:
            continue
        for g in result.group_points.columns:
            b, blo, bhi = (
                float(t.at[m, g]) for t in (result.bt_points, result.bt_points_low, result.bt_points_high)
            )
            if not (np.isfinite(blo) and np.isfinite(bhi)) or not (blo > 0 or bhi < 0):
                continue
            v = float(result.group_points.at[m, g])
            lo, hi = result.point_interval(m, g)
            words = GROUP_WORDS.get(g, g)
            b_lo, b_hi = sorted((abs(blo), abs(bhi)))
            bt_text = (
                f"Bradley-Terry + style: {words} {'bought' if b > 0 else 'cost'} {m} {fmt_points(abs(b))} "
                f"points ({pct} CI {fmt_points(b_lo)} to {fmt_points(b_hi)})"
            )
            vm_text = fmt_signed(v) + (
                f", {fmt_signed(lo)} to {fmt_signed(hi)}" if np.isfinite(lo) and np.isfinite(hi) else ""
            )
            used = vote.uses_group(result.groups.get(g, []))
            same_sign = np.sign(v) == np.sign(b) and v != 0
            ci_zero = np.isfinite(lo) and np.isfinite(hi) and lo <= 0 <= hi
            if same_sign and not ci_zero:
                status, reason = "agree", ""
            elif same_sign:
                status = "weaker"
                reason = (
                    f"{bt_text}; the vote model agrees in direction ({vm_text}) but its interval includes 0: "
                    "it shrinks style effects more (penalty chosen by cross-validation) and its interval "
                    "comes from a bootstrap over prompts."
                )
            elif not used:
                status = "disagree"
                reason = (
                    f"{bt_text}; the chosen vote model ({label}) leaves {words} out, because on held-out "
                    "votes the candidates that use it did not predict clearly better (by two standard "
                    "errors, grouped cross-validation)."
                )
            else:
                status = "disagree"
                why = (
                    f"its trees model {words} together with the other features (interactions, saturation), "
                    "which can change the average"
                    if vote.booster is not None
                    else "it shrinks style effects more (penalty chosen by cross-validation), so correlated "
                    "features share the effect differently"
                )
                reason = f"{bt_text}; the vote model gives {vm_text}: {why}."
            rows.append(
                {
                    "model": m,
                    "group": g,
                    "bt_points": b,
                    "bt_low": blo,
                    "bt_high": bhi,
                    "points": v,
                    "low": lo,
                    "high": hi,
                    "status": status,
                    "reason": reason,
                }
            )
    return pd.DataFrame(rows, columns=cols)
