"""Save and load a fitted :class:`~stylebias.rating.StyleBT` as a JSON artifact (kind ``"style-bt"``).

Why a dedicated format instead of pickle: a saved model is shared between people and tools (``stylebias fit
--save`` writes it, ``stylebias rerank --load`` and ``StyleControl.load`` read it), so it must be data only,
reviewable and checked field by field. Everything a prediction needs is stored: model names and ratings
(``beta``), style coefficients, the feature list and its standardisation (mean and scale per feature), the
tie parameter, the covariance (so loaded models still give intervals) and, for bootstrap fits, the
replicates. Derived quantities (Elo ratings, intervals) are recomputed on load by the estimator's own code,
and JSON keeps every float's exact ``repr``, so a loaded model predicts bit-for-bit like the original.

Payload (``artifact.json`` -> ``payload``)::

    features          list[str]  feature names to compute for new pairs (``pair_features(..., features=)``)
    feature_set       str|null   the named set they came from ("lmarena", "style", "full"), if any
    params            dict       StyleBT constructor parameters (reg, ties, scale, base, anchor, ci, ...)
    models, beta      list[str], list[float]        one per rated model (beta in base-10 units)
    feature_names     list[str]  kept features, in coefficient order
    dropped_features  list[str]  zero-variance features the fit dropped
    coef, feature_mean, feature_scale   list[float]  one per kept feature
    tie_param         list[float]  empty for ties="half"
    covariance        list[list[float]]  (P + K + T) square
    boot_theta        list[list[float]] | null  bootstrap replicates (ci="bootstrap")
    side_mean_z       list[list[float]]  P x K, for ``style_contributions``
    support           dict       battles_nonzero, prompts_nonzero: one number (or null) per kept feature
                                 (absent in artifacts written before the effects counted their support)
    n_battles         list[float]  battles per model;  n_obs int;  converged bool;  n_iter int
    objective         float
    data              dict       data summary: battles, models, judges, sources, date
    fixed_models      list[str]  models whose ratings a frozen fit held at a saved fit's (optional; [] otherwise)
    extra             dict       caller's extra payload (a saved ranking's raw fit and excluded models; a
                                 ``stylebias fit`` artifact's fit without style under ``raw``)
    settings          dict       the FitSettings of the fit (absent in artifacts written before it existed)
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..artifacts import load_artifact, require, save_artifact
from ..battles import BattleSet
from ..errors import ArtifactError, StyleBiasError, UsageError
from ..outputs import plain
from .estimator import StyleBT
from .settings import ESTIMATOR_FIELDS, FitSettings, check_components, saved_anchor
from .support import SUPPORT_COLUMNS, describe_support

KIND = "style-bt"

#: The saved StyleBT parameters and their JSON types, in payload order (``anchor`` follows them).
_PARAMS = {
    "reg": "float",
    "ties": "str",
    "scale": "float",
    "base": "float",
    "ci": "str",
    "rounds": "int",
    "seed": "int",
    "level": "float",
    "xtol": "float",
    "max_iter": "int",
}

_SCHEMA = {
    "features": "list[str]",
    "params": "dict",
    "models": "list[str]",
    "beta": "list[float]",
    "feature_names": "list[str]",
    "dropped_features": "list[str]",
    "coef": "list[float]",
    "feature_mean": "list[float]",
    "feature_scale": "list[float]",
    "tie_param": "list[float]",
    "covariance": "list",
    "side_mean_z": "list",
    "n_battles": "list[float]",
    "n_obs": "int",
    "converged": "bool",
    "n_iter": "int",
    "objective": "float",
    "data": "dict",
    "extra": "dict",
}


@dataclass
class FittedStyleModel:
    """A loaded ``style-bt`` artifact: the estimator plus what it was fitted on.

    Attributes:
        model: the fitted :class:`StyleBT` (predicts exactly like the saved one).
        features: feature names to compute for new pairs, in the order the fit saw them.
        feature_set: the named set (``"style"`` ...) they came from, or ``None`` for a custom list.
        data: data summary (battles, models, judges, sources, date, ...).
        card: the model card dict; path: the artifact folder; extra: the caller's extra payload.
        settings: the :class:`FitSettings` of the fit.
    """

    model: StyleBT
    features: list[str]
    feature_set: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    card: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    settings: FitSettings | None = None


def data_summary(battles: pd.DataFrame, files: Sequence[str] | None = None) -> dict[str, Any]:
    """What a model was fitted on, for the payload and the card: counts, judges, sources and the date."""
    out: dict[str, Any] = {
        "battles": len(battles),
        "models": int(pd.unique(pd.concat([battles["model_a"], battles["model_b"]])).size),
    }
    for col, key in (("judge", "judges"), ("source_file", "sources")):
        if col in battles:
            counts = battles[col].dropna().astype(str).value_counts()
            out[key] = {str(k): int(v) for k, v in counts.items()}
    if files is not None:
        out["files"] = [str(f) for f in files]
    out["date"] = _dt.date.today().isoformat()
    return out


def _matrix(value: Any) -> list[list[float]]:
    return np.asarray(value, dtype=np.float64).tolist()


def save_stylebt(model: StyleBT, directory: str | Path, *, card: dict[str, Any], **payload: Any) -> Path:
    """Write a fitted ``StyleBT`` to ``directory`` as a ``style-bt`` artifact; returns the folder.

    ``card``: model card sections (data, metrics, intended use, limitations ...) rendered to MODEL_CARD.md;
    ``payload``: :func:`stylebt_payload`'s keywords (``features`` is required).
    """
    return save_artifact(directory, KIND, stylebt_payload(model, **payload), card)


def stylebt_payload(
    model: StyleBT,
    *,
    features: Sequence[str],
    data: dict[str, Any] | None = None,
    feature_set: str | None = None,
    extra_payload: dict[str, Any] | None = None,
    settings: FitSettings | None = None,
) -> dict[str, Any]:
    """The ``style-bt`` payload of a fitted model (what :func:`save_stylebt` writes; see the module doc).

    ``features``: the names passed to ``pair_features`` for the fit (every kept feature, the dropped ones
    may be included too); ``data``: the data summary (:func:`data_summary`); ``feature_set``: the named
    set they came from; ``extra_payload``: the caller's JSON-safe fields; ``settings``: the fit's
    :class:`FitSettings`. Public so other artifacts can embed a fitted ``StyleBT`` (a saved ranking stores
    its raw fit this way) and read it back with :func:`stylebt_from_payload`.
    """
    if not hasattr(model, "beta_"):
        raise StyleBiasError("save_stylebt: the model is not fitted")
    features = [str(f) for f in features]
    missing = [f for f in model.feature_names_ if f not in features]
    if missing:
        raise ArtifactError(f"save_stylebt: kept feature(s) {missing} are not in 'features'")
    params = model.get_params()
    anchor = params["anchor"]
    payload = {
        "features": features,
        "feature_set": feature_set,
        "params": {
            **{k: params[k] for k in _PARAMS},
            "anchor": None if anchor is None else [str(anchor[0]), float(anchor[1])],
        },
        "models": [str(m) for m in model.models_],
        "beta": np.asarray(model.beta_, dtype=np.float64).tolist(),
        "feature_names": list(model.feature_names_),
        "dropped_features": list(model.dropped_features_),
        "feature_names_in": list(model.feature_names_in_),
        "coef": np.asarray(model.coef_, dtype=np.float64).tolist(),
        "feature_mean": np.asarray(model.feature_mean_, dtype=np.float64).tolist(),
        "feature_scale": np.asarray(model.feature_scale_, dtype=np.float64).tolist(),
        "tie_param": np.asarray(model.tie_param_, dtype=np.float64).tolist(),
        "covariance": _matrix(model.covariance_),
        "boot_theta": None if model.boot_theta_ is None else _matrix(model.boot_theta_),
        "side_mean_z": _matrix(model.side_mean_z_.to_numpy()),
        "support": {c: plain(model.support_[c].to_numpy()) for c in SUPPORT_COLUMNS},
        "n_battles": np.asarray(model.n_battles_, dtype=np.float64).tolist(),
        "n_obs": int(model.n_obs_),
        "converged": bool(model.converged_),
        "n_iter": int(model.n_iter_),
        "objective": float(model.objective_),
        "fixed_models": list(getattr(model, "fixed_models_", [])),
        "data": dict(data or {}),
        "extra": dict(extra_payload or {}),
    }
    if settings is not None:
        payload["settings"] = settings.to_json()
    return payload


def settings_of(payload: dict[str, Any]) -> FitSettings:
    """The :class:`FitSettings` a ``style-bt`` payload was fitted with.

    A saved ranking (``RankResult.save``) keeps them in ``extra.style_control.params``, a single fit in
    ``settings``; older ``fit`` artifacts (the shipped models) from their estimator ``params`` and features.
    """
    extra = payload.get("extra", {}).get("style_control")
    where, raw = "payload.settings", payload.get("settings")
    if isinstance(extra, dict):
        where, raw = "payload.extra.style_control.params", extra.get("params")
    try:
        if raw is not None:
            return FitSettings.from_json(raw, where=where).check()
        params = _params(payload["params"])
        fs = payload.get("feature_set")
        return FitSettings(
            features=fs if isinstance(fs, str) else tuple(payload["features"]),
            components="largest",
            **{k: params[k] for k in ESTIMATOR_FIELDS if k != "n_jobs"},
        ).check()
    except (UsageError, TypeError) as exc:
        raise ArtifactError(f"payload.settings: {exc}") from None


def _check_matrix(payload: dict[str, Any], key: str, rows: int | None, cols: int) -> np.ndarray:
    value = payload[key]
    ok = isinstance(value, list) and all(
        isinstance(r, list)
        and len(r) == cols
        and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in r)
        for r in value
    )
    if not ok or (rows is not None and len(value) != rows):
        shape = f"{rows if rows is not None else 'n'} x {cols}"
        raise ArtifactError(f"payload: field {key!r} must be a {shape} matrix of finite numbers")
    return np.asarray(value, dtype=np.float64).reshape(len(value), cols)


def _check_len(payload: dict[str, Any], key: str, n: int, what: str) -> None:
    if len(payload[key]) != n:
        raise ArtifactError(f"payload: field {key!r} has {len(payload[key])} entries, expected {n} ({what})")


def _params(raw: dict[str, Any]) -> dict[str, Any]:
    require(raw, _PARAMS, where="payload.params")
    params = {k: raw[k] for k in _PARAMS}
    params["anchor"] = saved_anchor(raw.get("anchor"), "payload.params", ArtifactError)
    return params


def stylebt_from_payload(payload: dict[str, Any]) -> StyleBT:
    """Validate a ``style-bt`` payload field by field and rebuild the estimator (``ArtifactError`` if bad)."""
    require(payload, _SCHEMA)
    params = _params(payload["params"])
    try:
        StyleBT(**params)._check_params()
    except StyleBiasError as exc:
        raise ArtifactError(f"payload.params: {exc}") from None
    models, names = payload["models"], payload["feature_names"]
    P, K = len(models), len(names)
    if P < 2 or len(set(models)) != P:
        raise ArtifactError("payload: field 'models' must hold at least two distinct model names")
    if len(set(names)) != K:
        raise ArtifactError("payload: field 'feature_names' has duplicates")
    not_listed = [f for f in names if f not in payload["features"]]
    if not_listed:
        raise ArtifactError(f"payload: feature_names {not_listed} are not in field 'features'")
    _check_len(payload, "beta", P, "one per model")
    _check_len(payload, "n_battles", P, "one per model")
    for key in ("coef", "feature_mean", "feature_scale"):
        _check_len(payload, key, K, "one per kept feature")
    if any(s <= 0 for s in payload["feature_scale"]):
        raise ArtifactError("payload: field 'feature_scale' must be positive")
    T = len(payload["tie_param"])
    if T != (0 if params["ties"] == "half" else 1):
        raise ArtifactError(
            f"payload: field 'tie_param' has {T} entries, which does not fit ties={params['ties']!r}"
        )
    n = P + K + T
    cov = _check_matrix(payload, "covariance", n, n)
    boot = None
    if payload.get("boot_theta") is not None:
        boot = _check_matrix(payload, "boot_theta", None, n)
        if len(boot) < 2:
            raise ArtifactError("payload: field 'boot_theta' needs at least two bootstrap replicates")
    side = _check_matrix(payload, "side_mean_z", P, K) if K else np.zeros((P, 0))
    if params["anchor"] is not None and params["anchor"][0] not in models:
        raise ArtifactError(f"payload.params: anchor model {params['anchor'][0]!r} is not among 'models'")
    held = payload.get("fixed_models", [])
    if not (isinstance(held, list) and all(isinstance(m, str) and m in models for m in held)):
        raise ArtifactError("payload: field 'fixed_models' must list models of field 'models'")
    state = {
        **payload,
        "support": _support(payload.get("support"), K),
        "feature_names_in": _names_in(payload, names),
        "covariance": cov,
        "boot_theta": boot,
        "side_mean_z": side,
    }
    try:
        return StyleBT._from_state(params, state)
    except StyleBiasError as exc:
        raise ArtifactError(f"payload.params: {exc}") from None


def load_stylebt(path_or_name: str | Path) -> FittedStyleModel:
    """Load a ``style-bt`` artifact from a folder or a shipped model name (e.g. ``"alpaca_eval_style"``).

    Raises:
        ArtifactError: wrong kind, bad schema version, tampered file or any malformed field (named).
    """
    art = load_artifact(path_or_name, KIND)
    try:
        model = stylebt_from_payload(art.payload)
    except ArtifactError as exc:
        raise ArtifactError(str(exc), file=str(art.path / "artifact.json")) from None
    fs = art.payload.get("feature_set")
    return FittedStyleModel(
        model=model,
        features=list(art.payload["features"]),
        feature_set=fs if isinstance(fs, str) else None,
        data=art.payload["data"],
        card=art.card,
        path=art.path,
        extra=art.payload["extra"],
        created=art.created,
        settings=settings_of(art.payload),
    )


def load_frozen(path_or_name: str | Path) -> tuple[Any, FitSettings]:
    """A saved model as the fits a new fit holds fixed: ``(Frozen, its FitSettings)``.

    Reads any ``style-bt`` artifact: ``stylebias fit --save`` (the raw fit under ``extra.raw`` when the
    artifact has one), ``StyleControl.save`` / ``RankResult.save`` (``extra.style_control.raw``), or a
    shipped model (no raw fit: the controlled one stands in for it).
    """
    from .fit import Frozen

    fitted = load_stylebt(path_or_name)
    extra = fitted.extra if isinstance(fitted.extra, dict) else {}
    ranking = extra.get("style_control")
    raw_payload = ranking.get("raw") if isinstance(ranking, dict) else extra.get("raw")
    raw = None
    if isinstance(raw_payload, dict):
        try:
            raw = stylebt_from_payload(raw_payload)
        except ArtifactError as exc:
            where = None if fitted.path is None else str(fitted.path / "artifact.json")
            raise ArtifactError(f"payload.extra raw fit: {exc}", file=where) from None
    settings = fitted.settings or FitSettings()
    source = str(fitted.path) if fitted.path is not None else str(path_or_name)
    return Frozen(fitted.model, raw, source=source), settings.replace(features=tuple(fitted.features))


# --------------------------------------------------------------------------------------------- fit + card
def in_sample_metrics(
    model: StyleBT, model_a: Any, model_b: Any, pref_a: np.ndarray, X: Any
) -> dict[str, Any]:
    """Log-loss (nats per battle) and accuracy of the fitted model on its own battles.

    With ``ties="half"`` the log-loss is the cross-entropy against the (possibly soft) vote share, the
    quantity the fit minimises; with an explicit tie model it is ``-log P(observed outcome)``. Accuracy
    counts battles with a clear winner only.
    """
    y = np.asarray(pref_a, dtype=np.float64)
    proba = model.predict_proba(model_a, model_b, X)
    eps = 1e-15
    if model.ties == "half":
        pa = np.clip(proba[:, 0], eps, 1 - eps)
        loss = -(y * np.log(pa) + (1 - y) * np.log(1 - pa))
    else:
        col = np.where(y == 1.0, 0, np.where(y == 0.0, 2, 1))
        loss = -np.log(np.clip(proba[np.arange(len(y)), col], eps, 1.0))
    clear = y != 0.5
    acc = float(((proba[clear, 0] > proba[clear, 2]) == (y[clear] > 0.5)).mean()) if clear.any() else None
    return {
        "battles": len(y),
        "log_loss": float(loss.mean()),
        "log_loss_coin_flip": math.log(2.0),
        "accuracy_decided": acc,
    }


def fit_style_model(
    data: Any,
    features: Any = "style",
    *,
    settings: FitSettings | None = None,
    jobs: int | None = 1,
    cache: bool | str = True,
    files: Sequence[str] | None = None,
    **options: Any,
) -> tuple[FittedStyleModel, dict[str, Any]]:
    """Fit a style-controlled ``StyleBT`` on battles with texts; returns the model and in-sample metrics.

    ``data`` is a :class:`~stylebias.battles.BattleSet` or a battle table. ``settings`` gives every choice
    at once (the CLI); otherwise they come from ``features``, ``jobs``, ``cache`` and the other keywords
    (:class:`FitSettings` fields). The returned :class:`FittedStyleModel` is ready for :func:`save_fitted`
    (its ``data`` holds the data summary). A saved model holds one comparison graph, so a disconnected
    one is fitted on its largest component (``components="largest"``, the other models are listed in
    ``data["excluded_models"]``) or refused (``"refuse"``): battles of unconnected groups usually come from
    different judges, whose style effects should not be pooled.
    """
    from .fit import fit_design
    from .pipeline import prepare

    if settings is None:
        settings = FitSettings(
            **{"features": features, "n_jobs": jobs, "cache": cache, "components": "largest", **options}
        )
    check_components(settings.components, ("largest", "refuse"))
    prep = prepare(data, settings.features, settings)
    result = fit_design(prep.design, settings)
    model = result.controlled
    frame = prep.battles.iloc[result.battle_rows]
    design = prep.design.take(result.battle_rows)
    if files is None and "source_file" in frame:
        files = sorted(str(f) for f in frame["source_file"].dropna().unique())
    summary = data_summary(frame, files=files)
    left_out = sorted(str(m) for m in result.excluded["model"])
    if left_out:
        summary["excluded_models"] = left_out
    if isinstance(data, BattleSet):
        summary["records"] = {k: int(v) for k, v in data.accounting().items()}
    metrics = in_sample_metrics(model, design.model_a, design.model_b, design.pref_a, design.X)
    # the fit without style is kept too, so the model can later hold a board fixed (rank --load) both ways
    extra = (
        {"raw": stylebt_payload(result.raw, features=prep.feature_names)} if result.raw is not model else {}
    )
    fitted = FittedStyleModel(
        model, prep.feature_names, prep.feature_set, summary, extra=extra, settings=settings
    )
    return fitted, metrics


def model_card(fitted: FittedStyleModel, metrics: dict[str, Any], title: str | None = None) -> dict[str, Any]:
    """The model card of a fitted style model: data, date, features, metrics, intended use, limitations."""
    bt, d = fitted.model, fitted.data
    effects = {
        str(r["name"]): f"{r['coef']:+.3f} log-odds per SD (odds x{r['odds_ratio']:.2f}, "
        f"95% CI {r['odds_ratio_low']:.2f}-{r['odds_ratio_high']:.2f}; {r['verdict']}"
        + (
            ""
            if math.isnan(r["battles_nonzero"])
            else f"; {describe_support(r['battles_nonzero'], r['prompts_nonzero'])} differ in it"
        )
        + f"; 1 SD = {r['feature_sd']:.3g} {r['feature_unit']})"
        for r in bt.effects().to_dict("records")
    }
    records = d.get("records", {})
    data = {
        "battles fitted": f"{d.get('battles', 0):,}",
        "models": d.get("models"),
        "records read / accepted / rejected": (
            f"{records.get('read', '?')} / {records.get('accepted', '?')} / {records.get('rejected', '?')}"
        ),
        "judges": ", ".join(f"{k} ({v:,})" for k, v in d.get("judges", {}).items()) or "unknown",
        "files": len(d.get("files", d.get("sources", {}))),
    }
    if d.get("excluded_models"):
        data["left out (not connected to the largest component)"] = ", ".join(d["excluded_models"])
    return {
        "title": title or "style-controlled Bradley-Terry (stylebias fit)",
        "date": d.get("date", _dt.date.today().isoformat()),
        "data": data,
        "features": {
            "set": fitted.feature_set or "custom list",
            "used": ", ".join(bt.feature_names_),
            "dropped (no variance)": ", ".join(bt.dropped_features_) or "none",
        },
        "settings": {"reg": bt.reg, "ties": bt.ties, "ci": bt.ci},
        "metrics (in-sample)": {
            "log-loss per battle": f"{metrics['log_loss']:.4f} (coin flip {metrics['log_loss_coin_flip']:.4f})",
            "accuracy on decided battles": (
                "n/a" if metrics.get("accuracy_decided") is None else f"{metrics['accuracy_decided']:.3f}"
            ),
            "battles": f"{metrics['battles']:,}",
        },
        "style effects": effects,
        "intended use": [
            "style-controlled ratings of the fitted models and style-neutral win rates (winrate_vs)",
            "re-ranking boards judged like these battles (stylebias rerank --load)",
            "reading which style features the voters/judge of this data reward or punish",
        ],
        "limitations": [
            "effects are associations learned from this data's voters or judge; they transfer to other "
            "judges, prompts or languages only as far as those behave alike",
            "the style effect is one additive term on the logit, the same for every model and prompt",
            "in-sample metrics; no held-out evaluation is stored in the card",
            "ratings exist only for the models in the data; the style effects are what re-ranking uses",
        ],
    }


def save_fitted(
    fitted: FittedStyleModel,
    directory: str | Path,
    metrics: dict[str, Any],
    *,
    title: str | None = None,
    extra_card: dict[str, Any] | None = None,
) -> Path:
    """Write a fitted style model with its model card (``stylebias fit --save``)."""
    card = model_card(fitted, metrics, title)
    card.update(extra_card or {})
    return save_stylebt(
        fitted.model,
        directory,
        features=fitted.features,
        card=card,
        data={**fitted.data, "metrics": metrics},
        feature_set=fitted.feature_set,
        extra_payload=fitted.extra,
        settings=None if fitted.settings is None else fitted.settings.portable(),
    )


def _support(raw: Any, K: int) -> dict[str, list[float]] | None:
    """The saved support counts (``None`` when the artifact predates them); malformed: ``ArtifactError``."""
    if raw is None:
        return None
    ok = isinstance(raw, dict) and all(
        isinstance(raw.get(c), list)
        and len(raw[c]) == K
        and all(
            v is None or (isinstance(v, int | float) and not isinstance(v, bool) and v >= 0) for v in raw[c]
        )
        for c in SUPPORT_COLUMNS
    )
    if not ok:
        raise ArtifactError(
            f"payload: field 'support' must hold {', '.join(SUPPORT_COLUMNS)}: {K} counts (or null) each"
        )
    return {c: [math.nan if v is None else float(v) for v in raw[c]] for c in SUPPORT_COLUMNS}


def _names_in(payload: dict[str, Any], names: list[str]) -> list[str]:
    """Column order the model was fitted on (older artifacts lack it: kept features, then dropped ones)."""
    fallback = list(names) + list(payload["dropped_features"])
    got = payload.get("feature_names_in", fallback)
    if not isinstance(got, list) or sorted(map(str, got)) != sorted(fallback):
        raise ArtifactError("payload: 'feature_names_in' must list exactly the kept and dropped features")
    return [str(g) for g in got]
