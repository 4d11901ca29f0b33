"""``RankResult``: raw and style-controlled ratings of one connected set of models, with its own JSON form
and its own artifact (save/load), so every caller reads and writes rankings the same way."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArtifactError, StyleBiasError
from ..outputs import plain, records
from .baseline import SCORE_COLUMNS
from .estimator import EFFECT_COLUMNS, StyleBT
from .gain import GAIN_COLUMNS, describe_reference, gain_reference, gain_sentence, style_gain
from .ranks import lmarena_ranks, shift_arrow
from .settings import FitSettings

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
    *GAIN_COLUMNS,
    "shift",
)
#: The model table's columns in ``--json`` and ``--csv`` (the shift arrow is for people, not files).
EXPORT_COLUMNS = tuple(c for c in MODEL_COLUMNS if c != "shift")
WINRATE_COLUMNS = ("winrate", "winrate_low", "winrate_high")
FEATURE_COLUMNS = EFFECT_COLUMNS
EXCLUDED_COLUMNS = ["model", "battles", "reason"]
#: Where a saved ranking keeps what a ``style-bt`` artifact of the controlled fit alone does not hold.
EXTRA_KEY = "style_control"


@dataclass
class RankResult:
    """Raw and style-controlled ratings for one connected set of models (plus any other components).

    ``models``: one row per rated model, best first (columns :data:`MODEL_COLUMNS`, plus ``winrate*`` when
    a reference model was given). ``features``: one row per style feature (``name, coef, low, high``, odds
    ratios, ``sentence``). ``excluded``: models not rated here and why. ``parts``: the other components'
    results when the graph was split. ``controlled``/``raw``: the fitted :class:`StyleBT` objects (the
    linear predictor, standardisation, covariance and bootstrap replicates live there). ``fit_settings``:
    the :class:`FitSettings` of the fit; ``battle_rows``: positions of the battles this part was fitted on.
    ``frozen``: what a frozen fit held fixed (``Frozen.describe()``), ``None`` for an ordinary fit.
    ``baseline``: how the ``score*`` columns against a baseline were computed (``None``: no baseline).
    ``skipped`` (on the first result): components that could not be fitted (``component``, ``models``,
    ``battles``, ``reason``); ``notes``: what a reader of this part's table must know (e.g. the anchor model
    is not in it, so its ratings are centred instead).
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
    fit_settings: FitSettings | None = None
    battle_rows: np.ndarray | None = None
    frozen: dict[str, Any] | None = None
    baseline: dict[str, Any] | None = None
    skipped: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def n_battles(self) -> int:
        return int(self.controlled.n_obs_)

    def all_parts(self) -> list[RankResult]:
        """This result followed by the other components' results."""
        return [self, *self.parts]

    def summary(self) -> dict[str, Any]:
        """What the fit rated, as saved with it: battles, models and the input's record accounting."""
        records_ = {k: int(v) for k, v in self.data.items()}
        return {"battles": self.n_battles, "models": int(self.controlled.n_models_), "records": records_}

    @property
    def style_gain_reference(self) -> str | None:
        """The model ``style_gain`` (raw − controlled) is relative to, or ``None``: the average model."""
        return gain_reference(self.controlled)

    def reference_text(self) -> str:
        """Where the zero of these ratings and of ``style_gain`` is, in words (for captions and sentences)."""
        return describe_reference(self.controlled)

    def gain_sentence(self, model: str) -> str:
        """What style bought ``model`` (raw − controlled, its interval, the reference), as one sentence."""
        rows = self.models[self.models["model"] == model]
        if not len(rows):
            raise StyleBiasError(f"model {model!r} is not in this ranking")
        return gain_sentence(rows.iloc[0], self.reference_text(), self.controlled.level)

    def contributions(self) -> pd.DataFrame:
        """Elo points each feature adds to each model's raw rating (see ``StyleBT.style_contributions``)."""
        return self.controlled.style_contributions()

    # ------------------------------------------------------------------------------------------ JSON
    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document: ``{"models", "features", "data", ...}`` (extra keys are additive).

        When the comparison graph was split, the top-level ``models``/``features`` are the largest
        component's and ``components`` lists every component's own tables (``component`` 1 = largest).
        """
        out = {"component": self.component + 1, **self._part_json()}
        out["skipped"] = plain(self.skipped)
        if self.parts:
            out["components"] = [
                {"component": p.component + 1, **{k: v for k, v in p._part_json().items() if k != "data"}}
                for p in self.all_parts()
            ]
        return out

    def _part_json(self) -> dict[str, Any]:
        extra_cols = (*WINRATE_COLUMNS, *SCORE_COLUMNS)
        model_cols = [*EXPORT_COLUMNS, *(c for c in extra_cols if c in self.models.columns)]
        return {
            "models": records(self.models, model_cols),
            "features": records(self.features, FEATURE_COLUMNS),
            # style_gain = rating_raw - rating, relative to this model (the anchor) or, when null, the average
            "style_gain_relative_to": self.style_gain_reference,
            "notes": list(self.notes),
            "data": dict(self.data),
            "excluded": records(self.excluded, EXCLUDED_COLUMNS),
            "settings": dict(self.settings),
            "fit": {
                "battles": self.n_battles,
                "models": int(self.controlled.n_models_),
                "newton_iterations": int(self.controlled.n_iter_),
                "converged": bool(self.controlled.converged_ and self.raw.converged_),
                "dropped_features": list(self.controlled.dropped_features_),
                "tie_parameter": [round(float(t), 6) for t in self.controlled.tie_param_],
            },
            **self._frozen_json(),
            **({} if self.baseline is None else {"baseline": dict(self.baseline)}),
        }

    def _frozen_json(self) -> dict[str, Any]:
        """``{"frozen": {...}}`` for a fit that held saved parameters fixed: what, from where, which models
        were rated here (the rest kept their saved ratings), and whether the raw fit was frozen too."""
        if self.frozen is None:
            return {}
        held = set(self.controlled.fixed_models_)
        fitted = [m for m in self.controlled.models_ if m not in held]
        return {"frozen": {**self.frozen, "fitted_models": fitted}}

    # ------------------------------------------------------------------------------------------ artifact
    def save(
        self,
        directory: str | Path,
        *,
        card: dict[str, Any],
        features: list[str] | None = None,
        feature_set: str | None = None,
        rejects: int = 0,
        files: dict[str, str] | None = None,
    ) -> Path:
        """Write this result as a ``style-bt`` artifact: the controlled fit (readable by ``stylebias rerank
        --load`` and :func:`~stylebias.rating.persist.load_stylebt`), the raw fit, the excluded models, the
        accounting and the fit settings. ``files``: extra text files (e.g. the battles' design)."""
        from ..artifacts import save_artifact
        from .persist import KIND, stylebt_payload

        bt = self.controlled
        features = list(features or bt.feature_names_in_)
        settings = self.fit_settings or FitSettings()
        extra = {
            EXTRA_KEY: {
                "params": settings.to_json(),
                "raw": stylebt_payload(self.raw, features=features),
                "excluded": [
                    {"model": str(r.model), "battles": int(r.battles), "reason": str(r.reason)}
                    for r in self.excluded.itertuples(index=False)
                ],
                "rejects": int(rejects),
                "design": next(iter(files), None) if files else None,
                # the interval of raw - controlled needs the battles (or paired replicates): keep it
                "style_gain": [
                    {"model": str(r.model), "low": plain(r.style_gain_low), "high": plain(r.style_gain_high)}
                    for r in self.models.itertuples(index=False)
                ],
            }
        }
        payload = stylebt_payload(
            bt, features=features, data=self.summary(), feature_set=feature_set, extra_payload=extra
        )
        return save_artifact(directory, KIND, payload, card, files=files)

    @classmethod
    def load(cls, path: str | Path) -> RankResult:
        """A result written by :meth:`save` (``ArtifactError`` naming the field if anything is off)."""
        return load_rank_artifact(path)[0]


def load_rank_artifact(path: str | Path) -> tuple[RankResult, Any]:
    """``(result, artifact)`` of a saved ranking; the artifact gives access to its extra files."""
    from ..artifacts import load_artifact
    from .persist import KIND, settings_of, stylebt_from_payload

    art = load_artifact(path, KIND)
    where = str(art.path / "artifact.json")
    extra = art.payload.get("extra", {}).get(EXTRA_KEY) if isinstance(art.payload, dict) else None
    if not isinstance(extra, dict):
        raise ArtifactError(
            "this style-bt artifact was not written by StyleControl.save (no extra.style_control); "
            "load it with stylebias.load_stylebt instead",
            file=where,
        )
    try:
        controlled = stylebt_from_payload(art.payload)
        raw_payload = extra.get("raw")
        if not isinstance(raw_payload, dict):
            raise ArtifactError("payload.extra.style_control: field 'raw' must be a style-bt payload")
        raw = stylebt_from_payload(raw_payload)
        settings = settings_of(art.payload)
    except ArtifactError as exc:
        raise ArtifactError(str(exc), file=where) from None
    except (StyleBiasError, TypeError, ValueError) as exc:
        raise ArtifactError(f"payload: {exc}", file=where) from None
    records_ = art.payload.get("data", {}).get("records", {})
    excluded = pd.DataFrame(extra.get("excluded") or [], columns=EXCLUDED_COLUMNS)
    result = RankResult(
        models=model_table(controlled, raw, _saved_gain(controlled, raw, extra.get("style_gain"))),
        features=controlled.effects(),
        excluded=excluded,
        data={k: int(records_.get(k, 0)) for k in ("read", "accepted", "rejected")},
        settings=settings.to_json(),
        controlled=controlled,
        raw=raw,
        fit_settings=settings,
    )
    return result, art


def _saved_gain(controlled: StyleBT, raw: StyleBT, saved: Any) -> pd.DataFrame | None:
    """The style gain with the interval a saved ranking kept (artifacts written before it: no interval)."""
    if not isinstance(saved, list):
        return None
    bounds = {r.get("model"): (r.get("low"), r.get("high")) for r in saved if isinstance(r, dict)}
    gain = style_gain(controlled, raw)
    for j, col in enumerate(("style_gain_low", "style_gain_high")):
        gain[col] = [_finite(bounds.get(m, (None, None))[j]) for m in gain["model"]]
    return gain


def _finite(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else float("nan")


def model_table(controlled: StyleBT, raw: StyleBT, gain: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per model, best first (controlled rank, then rating): controlled and raw ratings, intervals,
    LMArena ranks, what style bought the model (``style_gain*``, :mod:`.gain`; ``gain`` gives its interval,
    else it is NaN) and the shift. The raw fit's values are aligned by model name, so the two fits' model
    orders never need to agree."""
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
    gain = style_gain(controlled, raw) if gain is None else gain
    table = table.merge(gain, on="model", how="left", validate="one_to_one")
    table["shift"] = [shift_arrow(r, c) for r, c in zip(table["rank_raw"], table["rank"], strict=True)]
    # LMArena's rank is not monotone in the rating (a wide interval can rank better than a higher, narrow
    # one), so the table is ordered by rank first: ranks read 1, 1, 2, ... down the page
    return table.sort_values(
        ["rank", "rating", "model"], ascending=[True, False, True], kind="stable"
    ).reset_index(drop=True)


def describe_settings(
    settings: FitSettings, feature_names: list[str], feature_set: str | None
) -> dict[str, Any]:
    """The ``settings`` block of a ranking's JSON: resolved features, and the interval's seed and rounds
    only when they matter (bootstrap)."""
    boot = settings.ci == "bootstrap"
    anchor = settings.anchor
    return {
        "features": list(feature_names),
        "feature_set": feature_set,
        "reg": settings.reg,
        "ties": settings.ties,
        "ci": settings.ci,
        "rounds": settings.rounds if boot else None,
        "seed": settings.seed if boot else None,
        "level": settings.level,
        "anchor": None if anchor is None else {"model": anchor[0], "rating": anchor[1]},
        "min_battles": settings.min_battles,
        "components": settings.components,
        "scale": settings.scale,
        "base": settings.base,
        "weights": settings.weights,
        "baseline": settings.baseline,
        "parity": settings.parity,
    }
