"""Save and load a :class:`VoteModel` as a ``"vote-model"`` artifact: JSON + LightGBM's text format, no pickle.

Folder layout (see :mod:`stylebias.artifacts`)::

    artifact.json   payload: features, params, rounds, offset kind, intercept, BT strengths, linear style
                    coefficients, the chosen candidate, metrics
    vote_model.txt  the residual trees in LightGBM's own text format (SHA-256 checked before it is parsed);
                    absent when the chosen model has no trees
    MODEL_CARD.md   data, date, features, metrics

Loading checks every payload field's type, that the booster's feature count matches the feature list, and
that LightGBM can parse the text; anything else is an :class:`ArtifactError` naming the file. Artifacts
written before the linear part existed (no ``coef``) load as trees + strength offset, as they were fitted.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from ..artifacts import load_artifact, require, save_artifact
from ..errors import ArtifactError
from .votemodel import VoteModel

KIND = "vote-model"
BOOSTER_FILE = "vote_model.txt"
_PARAM_KEYS = (
    "objective",
    "learning_rate",
    "num_leaves",
    "max_depth",
    "min_data_in_leaf",
    "lambda_l2",
    "feature_fraction",
    "bagging_fraction",
    "max_bin",
    "num_threads",
    "deterministic",
    "force_row_wise",
    "seed",
)


def _metric_lines(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "cv_log_loss",
        "prior_log_loss",
        "length_only_log_loss",
        "bt_style_log_loss",
        "bt_style_default_log_loss",
    )
    extra = ("auc", "brier", "nested", "folds", "inner_folds", "battles", "prompts")
    out = {k: metrics.get(k) for k in (*keys, *extra) if k in metrics}
    if isinstance(metrics.get("chosen"), dict):
        out["chosen"] = metrics["chosen"].get("label")
    return out


def data_description(data: Any, judge: str | None = None) -> str:
    """What a saved model was fitted on, for its card: the input files (or "a battle table") and the judge."""
    sources = getattr(data, "sources", None)
    files = ", ".join(sorted(map(str, sources["file"]))) if sources is not None and len(sources) else ""
    return (files or "a battle table") + (f" (judge {judge})" if judge else "")


def save_vote_model(
    vote: VoteModel, directory: str | Path, *, data_description: str = "", notes: list[str] | None = None
) -> Path:
    """Write ``vote`` as a vote-model artifact folder with a model card (``notes``: extra lines for it)."""
    if vote.booster is None and not vote.coef and not vote.candidate:
        raise ArtifactError("cannot save an unfitted vote model")
    payload = {
        "features": list(vote.features),
        "params": {k: vote.params[k] for k in _PARAM_KEYS if k in vote.params},
        "num_rounds": int(vote.num_rounds),
        "use_strength": bool(vote.use_strength),
        "intercept": float(vote.intercept),
        "strength": {str(k): float(v) for k, v in sorted(vote.strength.items())},
        "metrics": {k: v for k, v in vote.metrics.items() if k not in ("calibration",)},
        "trained_on": dict(vote.trained_on),
        "coef": {str(k): float(v) for k, v in vote.coef.items()},
        "candidate": dict(vote.candidate),
        "has_trees": vote.booster is not None,
    }
    trained = vote.trained_on
    card = {
        "title": "stylebias vote model (chosen by grouped cross-validation: "
        + str(vote.candidate.get("label", "LightGBM + Bradley-Terry strength offset"))
        + ")",
        "date": _dt.date.today().isoformat(),
        "data": {
            "description": data_description or "battles given to stylebias explain",
            "battles": trained.get("battles"),
            "prompts": trained.get("prompts"),
            "judges": ", ".join(trained.get("judges", [])),
            "models": len(trained.get("models", [])),
        },
        "features": list(vote.features),
        "metrics (held-out, nested cross-validation, folds grouped by prompt)": _metric_lines(vote.metrics),
        "model": {
            "chosen": vote.candidate.get("label", "trees + strength offset"),
            "linear part": "log-odds per raw unit of each pair feature in artifact.json (coef)",
            "trees": "LightGBM text format in vote_model.txt" if vote.booster is not None else "none",
            "objective": "log-loss on pref_a (soft labels, ties 0.5)",
            "rounds": vote.num_rounds,
            "offset": "BT strength difference ln10*(beta_A-beta_B)" if vote.use_strength else "intercept",
            "side-blind": "no intercept on style; trees trained on both side orders, predict (f(x)-f(-x))/2",
        },
        "limitations": [
            "Style features see form, not correctness: a judge-gaming answer (e.g. AlpacaEval's NullModel) is not "
            "explained by style.",
            "Models not in `strength` get strength 0 when the model is reused on new battles.",
        ],
    }
    if notes:
        card["notes"] = list(notes)
    files = {BOOSTER_FILE: vote.model_string()} if vote.booster is not None else {}
    return save_artifact(directory, KIND, payload, card, files=files)


def load_vote_model(name_or_path: str | Path) -> VoteModel:
    """Load a vote-model artifact (a folder or a shipped name such as ``alpaca_eval_vote``); never runs code."""
    import lightgbm as lgb

    art = load_artifact(name_or_path, KIND)
    p = art.payload
    where = f"{art.path}/artifact.json payload"
    require(
        p,
        {
            "features": "list[str]",
            "params": "dict",
            "num_rounds": "int",
            "use_strength": "bool",
            "intercept": "float",
            "strength": "dict[str,float]",
            "metrics": "dict",
        },
        where,
    )
    if not p["features"]:
        raise ArtifactError(f"{where}: field 'features' is empty")
    from ..extract.registry import FEATURE_BY_NAME

    unknown = [f for f in p["features"] if f not in FEATURE_BY_NAME]
    if unknown:
        raise ArtifactError(f"{where}: unknown feature(s) {', '.join(map(repr, unknown))}")
    coef = p.get("coef", {})
    if not isinstance(coef, dict) or not all(
        isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool) for k, v in coef.items()
    ):
        raise ArtifactError(f"{where}: field 'coef' must map feature names to numbers")
    stray = [k for k in coef if k not in p["features"]]
    if stray:
        raise ArtifactError(f"{where}: 'coef' names feature(s) not in 'features': {', '.join(stray)}")
    candidate = p.get("candidate", {})
    if not isinstance(candidate, dict):
        raise ArtifactError(f"{where}: field 'candidate' must be an object")
    has_trees = p.get("has_trees", True)
    if not isinstance(has_trees, bool):
        raise ArtifactError(f"{where}: field 'has_trees' must be true or false")
    booster = None
    if has_trees:
        text = art.text(BOOSTER_FILE)
        try:
            booster = lgb.Booster(model_str=text)
        except Exception as exc:  # LightGBM raises its own LightGBMError on a malformed model string
            raise ArtifactError(
                f"{BOOSTER_FILE} is not a valid LightGBM model: {exc}", file=str(art.path)
            ) from None
        if booster.num_feature() != len(p["features"]):
            raise ArtifactError(
                f"{BOOSTER_FILE} has {booster.num_feature()} features but the payload lists "
                f"{len(p['features'])}",
                file=str(art.path),
            )
    params = {**p["params"], "verbose": -1}
    return VoteModel(
        features=list(p["features"]),
        booster=booster,
        strength={str(k): float(v) for k, v in p["strength"].items()},
        intercept=float(p["intercept"]),
        use_strength=bool(p["use_strength"]),
        params=params,
        num_rounds=int(p["num_rounds"]),
        metrics=dict(p["metrics"]),
        trained_on=dict(p.get("trained_on", {})) if isinstance(p.get("trained_on", {}), dict) else {},
        coef={str(k): float(v) for k, v in coef.items()},
        candidate=dict(candidate),
    )
