"""``StyleControl``: style-controlled arena ratings as one scikit-learn style object, for pipelines.

    sc = StyleControl(features="auto").fit(battles)       # BattleSet, battle table or FastChat frame
    sc.leaderboard()                                      # raw vs controlled, CIs, ranks, shift
    sc.coefficients()                                     # style effects with CIs and odds ratios
    sc.adjust(battles)                                    # style-neutral P(A wins) per battle
    sc.update(new_battles)                                # warm-started refit on old + new
    StyleControl().fit(more_battles, freeze=sc)           # new models scored on sc's frozen board
    sc.save("model/"); StyleControl.load("model/")        # JSON artifact, no pickle

A thin estimator over the one fit path (:func:`stylebias.rating.fit_design`, with :class:`FitSettings`
made of its parameters); it adds input adaptation, the stored design for exact updates and persistence
(:meth:`RankResult.save`).

* **Input.** ``fit`` takes a :class:`~stylebias.battles.BattleSet`, a canonical battle table (validated with
  :func:`~stylebias.rows.validate_battles`) or FastChat's battles DataFrame as is -- conversations or
  ``conv_metadata`` (via :func:`stylebias.formats.lmarena.battles_from_fastchat_frame`). Rejected rows are
  kept in ``rejects_`` with their row numbers; nothing is dropped silently.
* **Features** are resolved once at ``fit`` (:func:`stylebias.extract.resolve_spec`) and reused by
  ``update``/``adjust``. **One comparison graph:** ``components`` is ``"largest"`` (default) or
  ``"refuse"``, so a single ``ratings_`` Series never mixes disconnected groups.
* **Updates are exact refits.** ``update`` needs the old battles for an exact answer (the optimum depends on
  every battle, and the standardisation moves with new data). The compact design -- model names, ``pref_a``
  and raw pair features, ~50 bytes per battle plus names -- is kept in memory, so new battles need feature
  extraction only for themselves, and the refit starts from the previous optimum (``StyleBT.fit(init=)``).
  ``save(include_data=True)`` (default) writes the design as a JSON file in the artifact so a loaded model
  can be updated too; ``include_data=False`` gives a small artifact that can predict but not update.
* **Frozen coefficients.** ``fit(battles, freeze=old)`` scores the models ``old`` does not know with
  ``old``'s ratings, style coefficients, feature standardisation and tie parameter held fixed (``old``: a
  fitted ``StyleControl`` or a saved model folder), so adding a model moves no one else; its features,
  ``reg``, ``ties``, ``scale``, ``base`` and ``anchor`` are taken over (``rank_result_.frozen`` says what).
* **Weights.** A battle table's ``weight`` column (Arena-Hard-Auto's strong verdicts count 3) is used as
  frequency weights unless ``weights=False``; ``baseline`` adds each model's score against it.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .battles import SOURCE_COLUMNS, BattleSet, empty_rejects
from .errors import ArtifactError, DataError, UsageError
from .rating import Design, FitSettings, RankResult, fit_design
from .rating.fit import Frozen
from .rating.pipeline import battle_weights, check_finite
from .rating.result import describe_settings, load_rank_artifact
from .rating.settings import FIELDS, check_components
from .rows import validate_battles

DESIGN_FILE = "design.json"
#: The parameters' defaults (for ``repr``): the fit's, except that one estimator rates one comparison graph.
_DEFAULTS = {**FitSettings(components="largest").to_json(), "anchor": None}


# ---------------------------------------------------------------------------------------------- input
def _is_fastchat_frame(df: pd.DataFrame) -> bool:
    cols = set(map(str, df.columns))
    return bool(cols & {"conversation_a", "conv_metadata"}) and "response_a" not in cols


def as_battleset(battles: Any, *, usable: bool = False) -> BattleSet:
    """A :class:`BattleSet` from a BattleSet, a canonical battle table or a FastChat battles DataFrame;
    ``usable``: a :class:`DataError` naming the main reject reasons when no battle is left."""
    if isinstance(battles, BattleSet):
        bs = battles
    elif isinstance(battles, pd.DataFrame):
        if _is_fastchat_frame(battles):
            from .formats.lmarena import battles_from_fastchat_frame

            bs = battles_from_fastchat_frame(battles)
        else:
            bs = validate_battles(battles)
    else:
        raise UsageError(
            f"battles must be a BattleSet or a pandas DataFrame (canonical or FastChat shape), "
            f"got {type(battles).__name__}"
        )
    if usable and not len(bs.battles):
        raise DataError(bs.nothing_usable())
    return bs


def _names(battles: pd.DataFrame, side: str) -> np.ndarray:
    return battles[f"model_{side}"].astype(str).to_numpy(dtype=object)


def _pair_table(battles: pd.DataFrame, names: list[str], jobs: int | None, cache: bool | str) -> pd.DataFrame:
    """Raw pair features, one row per battle (no columns without features)."""
    if not names:
        return pd.DataFrame(index=pd.RangeIndex(len(battles)))
    from .extract import pair_features

    return pair_features(battles, names, jobs=jobs, cache=cache).reset_index(drop=True)


def _design(battles: pd.DataFrame, names: list[str], settings: FitSettings) -> Design:
    """The compact data a refit needs: model names, outcome, raw pair features (one row per battle) and
    the battles' frequency weights (their ``weight`` column, unless ``weights=False``)."""
    frame = battles.reset_index(drop=True)
    X = _pair_table(battles, names, settings.n_jobs, settings.cache)
    if names:
        check_finite(X, frame)
    pref = battles["pref_a"].to_numpy(dtype=np.float64)
    w = battle_weights(frame, settings)
    return Design(_names(battles, "a"), _names(battles, "b"), pref, X.astype(np.float64), weights=w)


def _concat(a: Design, b: Design) -> Design:
    weights = None
    if a.weights is not None or b.weights is not None:
        weights = np.concatenate([d.weights if d.weights is not None else np.ones(len(d)) for d in (a, b)])
    return Design(
        np.concatenate([a.model_a, b.model_a]),
        np.concatenate([a.model_b, b.model_b]),
        np.concatenate([a.pref_a, b.pref_a]),
        pd.concat([a.X, b.X], ignore_index=True),
        weights=weights,
    )


# ---------------------------------------------------------------------------------------------- estimator
class StyleControl:
    """Style-controlled Bradley-Terry ratings for arena pipelines (scikit-learn conventions).

    Parameters:
        features: ``"auto"`` (``"style"`` with texts, ``"lmarena"`` for metadata-only data), a named set
            (``"lmarena"``, ``"style"``, ``"full"``), a list of feature names, or ``None`` (no style control).
        reg, ties, ci, rounds, seed, level, scale, base, anchor: as :class:`~stylebias.rating.StyleBT`
            (defaults reproduce LMArena's style control: ``reg=0.5``, ties half a win each).
        n_jobs: workers for feature extraction and bootstrap (``None`` = all cores).
        cache: use the on-disk feature cache (``True``), not (``False``) or this cache directory.
        min_battles: drop models with fewer battles (repeatedly), listed in ``excluded_``.
        components: ``"largest"`` (rate the largest connected set of models) or ``"refuse"``.
        weights: use the battles' ``weight`` column as frequency weights (when there is one).
        baseline: add each model's score against this model (win rate, 0-100; ``score*`` columns of
            ``leaderboard()``, see :mod:`stylebias.rating.baseline`); the baseline is put on side B of every
            battle it plays. ``parity`` (an upstream scorer's numbers) needs the files' row order: use
            :func:`stylebias.rank_battles` or ``stylebias rank --parity``.

    Fitted attributes: ``ratings_`` (controlled Elo, Series), ``ratings_raw_``, ``coef_`` (Series, log-odds
    per SD of each feature), ``feature_names_`` (kept features), ``features_`` (requested), ``n_battles_``
    (Series per model), ``n_obs_``, ``rank_result_`` (:class:`~stylebias.rating.RankResult`), ``rejects_``
    (rows not used, with reasons), ``excluded_`` (models not rated), ``controlled_``/``raw_`` (``StyleBT``).
    """

    def __init__(
        self,
        features: str | Sequence[str] | None = "auto",
        reg: float = 0.5,
        ties: str = "half",
        ci: str = "sandwich",
        rounds: int = 100,
        seed: int = 0,
        n_jobs: int | None = None,
        cache: bool | str = True,
        min_battles: int = 1,
        components: str = "largest",
        level: float = 0.95,
        scale: float = 400.0,
        base: float = 1000.0,
        anchor: tuple[str, float] | None = None,
        weights: bool = True,
        baseline: str | None = None,
        parity: str | None = None,
    ) -> None:
        self.features = features
        self.reg = reg
        self.ties = ties
        self.ci = ci
        self.rounds = rounds
        self.seed = seed
        self.n_jobs = n_jobs
        self.cache = cache
        self.min_battles = min_battles
        self.components = components
        self.level = level
        self.scale = scale
        self.base = base
        self.anchor = anchor
        self.weights = weights
        self.baseline = baseline
        self.parity = parity

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters (scikit-learn convention): the fields of :class:`FitSettings`."""
        return {k: getattr(self, k) for k in FIELDS}

    def set_params(self, **params: Any) -> StyleControl:
        """Set constructor parameters (scikit-learn convention); unknown names raise ``UsageError``."""
        for k, v in params.items():
            if k not in FIELDS:
                raise UsageError(f"StyleControl has no parameter {k!r}")
            setattr(self, k, v)
        return self

    def settings(self) -> FitSettings:
        """The parameters as the fit path takes them (checked)."""
        check_components(self.components, ("largest", "refuse"))
        if self.parity is not None:
            raise UsageError(
                "StyleControl has no parity mode: an upstream scorer's numbers depend on its files' row order; "
                "use stylebias.rank_battles(..., parity=...) or `stylebias rank --parity`"
            )
        return FitSettings(**self.get_params()).check()

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.get_params().items() if v != _DEFAULTS.get(k)}
        return "StyleControl(" + ", ".join(f"{k}={v!r}" for k, v in changed.items()) + ")"

    # ------------------------------------------------------------------------------------------ fitting
    def fit(self, battles: Any, *, freeze: StyleControl | str | Path | None = None) -> StyleControl:
        """Fit raw and style-controlled ratings on ``battles``; returns ``self``.

        ``freeze``: a fitted ``StyleControl`` or a saved model folder (``save()``, ``stylebias fit --save``)
        whose ratings, style coefficients, feature standardisation and tie parameter are held fixed: only
        models it does not know are rated, with intervals that carry its uncertainty; its features, ``reg``,
        ``ties``, ``scale``, ``base`` and ``anchor`` replace this estimator's (``set_params``).

        Raises:
            DataError: no usable battles (the message names the main reject reasons), non-finite features,
                or (with ``freeze``) no battle that involves a frozen model.
            UsageError: bad parameters.
        """
        from .extract import resolve_spec

        self._frozen = None if freeze is None else self._take_frozen(freeze)
        settings = self.settings()
        bs = as_battleset(battles, usable=True)
        names, spec = resolve_spec(self.features, bs.has_text)
        design = _design(bs.battles, names, settings)
        self.features_ = names
        self.feature_set_ = spec
        self._rejects = bs.rejects.copy()
        self._sources = bs.sources.copy()
        self._data = design
        self._refit(None)
        return self

    def _take_frozen(self, freeze: StyleControl | str | Path) -> Frozen:
        """The fits ``freeze`` holds fixed; this estimator takes over its features and rating settings."""
        if isinstance(freeze, StyleControl):
            freeze._check_fitted()
            frozen = Frozen(freeze.controlled_, freeze.raw_, source="StyleControl")
            saved = freeze.settings()
            features: Any = list(freeze.controlled_.feature_names_in_) or None
        else:
            from .rating.persist import load_frozen

            frozen, saved = load_frozen(freeze)
            features = list(frozen.controlled.feature_names_in_) or None
        self.set_params(
            features=features, **{k: getattr(saved, k) for k in ("reg", "ties", "scale", "base", "anchor")}
        )
        return frozen

    def update(self, new_battles: Any) -> StyleControl:
        """Add ``new_battles`` and refit, warm-started from the current fit; returns ``self``.

        The result equals ``fit`` on the old and new battles together (same rows, same order) to solver
        precision (ratings within ~1e-9 Elo in practice; the tests require 1e-6): the objective is strictly
        convex, so the start only changes the number of Newton iterations. Only the new battles go through
        feature extraction.
        """
        self._check_fitted()
        if self._data is None:
            raise UsageError(
                "this model was saved without its battles (save(include_data=False)); it can predict "
                "but not update. Fit again on all battles, or save with include_data=True."
            )
        bs = as_battleset(new_battles, usable=True)
        if self.features_ and not bs.has_text:
            from .extract.registry import needs_text

            need = [f for f in self.features_ if needs_text(f)]
            if need:
                raise DataError(
                    f"the new battles are metadata-only but this model uses text features {need}; "
                    "they cannot be computed without the response texts"
                )
        new = _design(bs.battles, self.features_, self.settings())
        self._data = _concat(self._data, new)
        self._rejects = pd.concat([self._rejects, bs.rejects], ignore_index=True)
        self._sources = pd.concat([self._sources, bs.sources], ignore_index=True)
        self._refit(self.rank_result_)
        return self

    def _refit(self, init: RankResult | None) -> None:
        design, settings = self._data, self.settings()
        read = int(self._sources["read"].sum()) if len(self._sources) else len(design) + len(self._rejects)
        accounting = {"read": read, "accepted": len(design), "rejected": len(self._rejects)}
        names = list(design.X.columns)
        design = design if names else dataclasses.replace(design, X=None)
        if settings.baseline is not None:
            design = design.toward(settings.baseline)
            if settings.anchor is None and getattr(self, "_frozen", None) is None:
                settings = settings.replace(anchor=(settings.baseline, settings.base))
        frozen = getattr(self, "_frozen", None)
        result = fit_design(
            dataclasses.replace(design, frozen=frozen),
            settings,
            data=accounting,
            describe=describe_settings(settings, names, None),
            init=init,
        )
        if settings.baseline is not None:
            from .rating.baseline import baseline_info, baseline_scores

            scores = baseline_scores(result.controlled, result.raw, settings.baseline)
            result.models = result.models.merge(scores, on="model", how="left")
            result.baseline = baseline_info(settings.baseline, settings.level, None)
        self._set_fitted(result)

    def _set_fitted(self, result: RankResult) -> None:
        self.rank_result_ = result
        self.controlled_ = result.controlled
        self.raw_ = result.raw
        self.ratings_ = result.controlled.ratings_.copy()
        self.ratings_raw_ = result.raw.ratings_.reindex(result.controlled.models_)
        self.feature_names_ = list(result.controlled.feature_names_)
        self.coef_ = pd.Series(result.controlled.coef_, index=self.feature_names_, name="coef", dtype=float)
        self.n_battles_ = result.controlled.n_battles_.copy()
        self.n_obs_ = int(result.controlled.n_obs_)
        self.excluded_ = result.excluded.copy()

    @property
    def rejects_(self) -> pd.DataFrame:
        """Input rows that did not become battles (``file``, ``record`` = 1-based row, ``reason``)."""
        self._check_fitted()
        return self._rejects if len(self._rejects) else empty_rejects()

    def _check_fitted(self) -> None:
        if not hasattr(self, "rank_result_"):
            raise UsageError("this StyleControl is not fitted yet: call fit(battles) first")

    # ------------------------------------------------------------------------------------------ outputs
    def leaderboard(self) -> pd.DataFrame:
        """One row per rated model, best first: ``model, battles, rating, rating_low, rating_high, rank,
        rating_raw, rating_raw_low, rating_raw_high, rank_raw, shift`` (ranks as on LMArena: 1 + number of
        models whose interval lies entirely above)."""
        self._check_fitted()
        return self.rank_result_.models.copy()

    def coefficients(self) -> pd.DataFrame:
        """One row per style feature: coefficient (log-odds per SD), interval, odds ratios, a sentence."""
        self._check_fitted()
        return self.rank_result_.features.copy()

    def explain(self, model: str, battles: Any = None, **explain_kwargs: Any) -> pd.DataFrame:
        """Why ``model`` ranks where it does.

        Without ``battles``: the Bradley-Terry decomposition of this fit (:meth:`StyleBT.style_contributions`),
        one row per feature: ``feature``, ``mean_z`` (the model's average standardised style difference
        against its opponents), ``coef`` and ``elo_points`` = coef x mean_z in Elo, whose sum approximates raw
        minus controlled rating (the two fits also rebalance opponents); ``attrs`` hold ``rating``,
        ``rating_raw``, ``rank``, ``rank_raw`` and ``style_total``.

        With ``battles`` (texts or metadata): the LightGBM + SHAP vote model fitted on them
        (:func:`~stylebias.explain.explain_battles` with this model's features and ``reg``; extra keywords
        pass through), one row per style group: ``group``, ``points`` (win-rate points the group bought (+)
        or cost (-) the model; they add up to the gap between its predicted and style-neutral win rate);
        ``attrs`` hold ``sentence``, ``observed``, ``predicted``, ``neutral`` and ``result`` (the whole
        :class:`~stylebias.explain.ExplainResult`).
        """
        self._check_fitted()
        if battles is not None:
            return self._explain_votes(model, battles, explain_kwargs)
        if model not in self.ratings_.index:
            close = [m for m in self.ratings_.index if model.lower() in m.lower()][:5]
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UsageError(f"model {model!r} is not among the rated models{hint}")
        bt = self.controlled_
        contrib = bt.style_contributions()
        out = pd.DataFrame(
            {
                "feature": list(bt.feature_names_),
                "mean_z": bt.side_mean_z_.loc[model].to_numpy(dtype=float) if len(bt.feature_names_) else [],
                "coef": np.asarray(bt.coef_, dtype=float),
                "elo_points": contrib.loc[model].to_numpy(dtype=float) if len(bt.feature_names_) else [],
            }
        )
        out = _largest_first(out, "elo_points")
        row = self.rank_result_.models.set_index("model").loc[model]
        out.attrs.update(
            model=model,
            rating=float(row["rating"]),
            rating_raw=float(row["rating_raw"]),
            rank=int(row["rank"]),
            rank_raw=int(row["rank_raw"]),
            style_total=float(out["elo_points"].sum()),
        )
        return out

    def _explain_votes(self, model: str, battles: Any, kwargs: dict[str, Any]) -> pd.DataFrame:
        from .explain import explain_battles

        kwargs.setdefault("reg", self.reg)
        kwargs.setdefault("jobs", self.n_jobs)
        kwargs.setdefault("bradley_terry", False)
        result = explain_battles(as_battleset(battles), list(self.features_) or "auto", **kwargs)
        row = result.model_row(model)
        pts = result.group_points.loc[model]
        out = pd.DataFrame({"group": [str(g) for g in pts.index], "points": pts.to_numpy(dtype=float)})
        out = _largest_first(out, "points")
        out.attrs.update(
            model=model,
            sentence=result.model_sentence(model),
            observed=float(row["observed"]),
            predicted=float(row["predicted"]),
            neutral=float(row["neutral"]),
            result=result,
        )
        return out

    def adjust(self, battles: Any) -> pd.DataFrame:
        """Per battle: the model's expected outcome for A with and without the style differences.

        Columns: ``battle_id, model_a, model_b, pref_a`` (observed share of the vote for A), ``expected``
        (model's expected score of A given both models *and* the observed style difference), ``neutral``
        (the same with the style difference set to 0: both answers styled alike), ``style_effect`` =
        ``expected - neutral`` (the style-driven part) and ``pref_a_adjusted`` = ``pref_a - style_effect``.
        Expected scores count a tie as half a win. Battles with a model that is not rated get NaN
        (the ``attrs["unrated"]`` count says how many).
        """
        self._check_fitted()
        bs = as_battleset(battles)
        frame = bs.battles
        bt = self.controlled_
        names = list(bt.feature_names_)
        X = _pair_table(frame, names, self.n_jobs, self.cache)
        ma, mb = _names(frame, "a"), _names(frame, "b")
        known = np.isin(ma, bt.models_) & np.isin(mb, bt.models_)
        expected = np.full(len(frame), np.nan)
        neutral = np.full(len(frame), np.nan)
        if known.any():
            Xk = X.loc[known, names] if names else None
            expected[known] = _score(bt.predict_proba(ma[known], mb[known], Xk))
            zero = None if not names else np.zeros((int(known.sum()), len(names)))
            neutral[known] = _score(bt.predict_proba(ma[known], mb[known], zero))
        effect = expected - neutral
        pref = frame["pref_a"].to_numpy(dtype=np.float64)
        out = pd.DataFrame(
            {
                "battle_id": frame["battle_id"].to_numpy(),
                "model_a": ma,
                "model_b": mb,
                "pref_a": pref,
                "expected": expected,
                "neutral": neutral,
                "style_effect": effect,
                "pref_a_adjusted": pref - effect,
            }
        )
        out.attrs["unrated"] = int((~known).sum())
        out.attrs["rejected"] = len(bs.rejects)
        return out

    # ------------------------------------------------------------------------------------------ persistence
    def save(self, directory: str | Path, *, include_data: bool = True, title: str | None = None) -> Path:
        """Write the fitted model as a JSON artifact (kind ``style-bt``, readable by ``stylebias rerank
        --load``): :meth:`RankResult.save` with this model's card and, with ``include_data``, the design."""
        from .rating.persist import FittedStyleModel, in_sample_metrics, model_card

        self._check_fitted()
        bt = self.controlled_
        features = list(self.features_) or list(bt.feature_names_in_)
        files = {}
        metrics: dict[str, Any] = {
            "battles": self.n_obs_,
            "log_loss": math.nan,
            "log_loss_coin_flip": math.log(2),
        }
        if self._data is not None:
            d = self._data
            kept = np.isin(d.model_a, bt.models_) & np.isin(d.model_b, bt.models_)
            Xk = d.X.loc[kept, list(bt.feature_names_)] if len(bt.feature_names_) else None
            metrics = in_sample_metrics(bt, d.model_a[kept], d.model_b[kept], d.pref_a[kept], Xk)
            if include_data and getattr(self, "_frozen", None) is None:
                files[DESIGN_FILE] = _design_json(d)
        summary = self.rank_result_.summary()
        fitted = FittedStyleModel(model=bt, features=features, feature_set=self.feature_set_, data=summary)
        card = model_card(fitted, metrics, title or "style-controlled Bradley-Terry (stylebias StyleControl)")
        card["data"]["design stored (can update)"] = "yes" if files else "no"
        return self.rank_result_.save(
            directory,
            card=card,
            features=features,
            feature_set=self.feature_set_,
            rejects=len(self._rejects),
            files=files,
        )

    @classmethod
    def load(cls, path: str | Path) -> StyleControl:
        """Load a model written by :meth:`save` (field-by-field validation; ``ArtifactError`` if bad)."""
        result, art = load_rank_artifact(path)
        settings = result.fit_settings
        assert settings is not None
        self = cls(**{**settings.to_json(), "anchor": settings.anchor})
        extra = art.payload["extra"]["style_control"]
        data = None
        if extra.get("design"):
            try:
                data = _design_from_json(art.text(DESIGN_FILE), list(art.payload["features"]))
            except (ArtifactError, TypeError, ValueError) as exc:
                raise ArtifactError(str(exc), file=str(art.path / "artifact.json")) from None
        self.features_ = list(art.payload["features"]) if self.features is not None else []
        fs = art.payload.get("feature_set")
        self.feature_set_ = fs if isinstance(fs, str) else None
        self._data = data
        self._frozen = None
        self._rejects = empty_rejects()
        self._sources = pd.DataFrame(columns=list(SOURCE_COLUMNS))
        self._set_fitted(result)
        return self


# ---------------------------------------------------------------------------------------------- helpers
def _largest_first(df: pd.DataFrame, column: str) -> pd.DataFrame:
    """Rows by decreasing ``|column|`` (ties keep their order)."""
    return df.reindex(df[column].abs().sort_values(ascending=False, kind="stable").index).reset_index(
        drop=True
    )


def _score(proba: np.ndarray) -> np.ndarray:
    """Expected score of A from (A wins, tie, B wins) probabilities: a tie is half a win."""
    return proba[:, 0] + 0.5 * proba[:, 1]


def _design_json(d: Design) -> str:
    """The design as compact JSON: model codes, outcomes and raw features column by column (exact floats)."""
    codes, models = pd.factorize(pd.concat([pd.Series(d.model_a), pd.Series(d.model_b)], ignore_index=True))
    n = len(d)
    doc = {
        "models": [str(m) for m in models],
        "a": codes[:n].tolist(),
        "b": codes[n:].tolist(),
        "pref_a": d.pref_a.tolist(),
        "features": {str(c): d.X[c].tolist() for c in d.X.columns},
    }
    if d.weights is not None:
        doc["weights"] = np.asarray(d.weights, dtype=np.float64).tolist()
    return json.dumps(doc, separators=(",", ":"))


def _design_from_json(text: str, features: list[str]) -> Design:
    raw = json.loads(text)
    if not isinstance(raw, dict):
        raise ArtifactError(f"{DESIGN_FILE}: expected a JSON object")
    models, a, b, y, feats = (raw.get(k) for k in ("models", "a", "b", "pref_a", "features"))
    if not (isinstance(models, list) and all(isinstance(m, str) for m in models)):
        raise ArtifactError(f"{DESIGN_FILE}: field 'models' must be a list of names")
    if not (isinstance(a, list) and isinstance(b, list) and isinstance(y, list) and isinstance(feats, dict)):
        raise ArtifactError(f"{DESIGN_FILE}: fields 'a', 'b', 'pref_a', 'features' are required")
    n = len(y)
    ia, ib = np.asarray(a), np.asarray(b)
    if len(a) != n or len(b) != n or (n and (ia.dtype.kind != "i" or ib.dtype.kind != "i")):
        raise ArtifactError(f"{DESIGN_FILE}: 'a' and 'b' must hold one model code per battle")
    if n and (min(ia.min(), ib.min()) < 0 or max(ia.max(), ib.max()) >= len(models)):
        raise ArtifactError(f"{DESIGN_FILE}: a model code is out of range")
    pref = np.asarray(y, dtype=np.float64)
    if not (np.isfinite(pref).all() and ((pref >= 0) & (pref <= 1)).all()):
        raise ArtifactError(f"{DESIGN_FILE}: 'pref_a' must hold numbers in [0, 1]")
    cols = {}
    for name in features:
        col = feats.get(name)
        if not isinstance(col, list) or len(col) != n:
            raise ArtifactError(f"{DESIGN_FILE}: feature {name!r} must have one value per battle")
        cols[name] = np.asarray(col, dtype=np.float64)
    weights = raw.get("weights")
    w = None
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64) if isinstance(weights, list) and len(weights) == n else None
        if w is None or not (np.isfinite(w).all() and (w >= 0).all()):
            raise ArtifactError(f"{DESIGN_FILE}: 'weights' must hold one finite number >= 0 per battle")
    names = np.asarray(models, dtype=object)
    return Design(
        names[ia] if n else np.array([], dtype=object),
        names[ib] if n else np.array([], dtype=object),
        pref,
        pd.DataFrame(cols, index=pd.RangeIndex(n)),
        weights=w,
    )


def to_contextual_pairs(
    battles: Any,
    features: str | Sequence[str] = "auto",
    *,
    jobs: int | None = 1,
    cache: bool | str = True,
) -> pd.DataFrame:
    """Battles with stylebias pair features as columns arena-rank's ``ContextualPairDataset`` accepts.

    Returns one row per accepted battle with ``model_a, model_b, winner, pref_a`` and one float column per
    feature (raw pair features: arena-rank standardises them itself with ``normalize_features=True``).
    ``winner`` uses arena-rank's labels (``model_a``, ``model_b``, ``tie``, ``both_bad``), so its default
    ``outcome_map`` applies; for soft preferences pass ``outcome_col="pref_a", outcome_map=float``. The
    feature column names are in ``attrs["feature_cols"]``; rejected input rows in ``attrs["rejected"]``.

        from arena_rank.utils.data_utils import ContextualPairDataset
        df = to_contextual_pairs(battles, "lmarena")
        data = ContextualPairDataset.from_pandas(df, feature_cols=df.attrs["feature_cols"])
    """
    from .extract import resolve_spec

    bs = as_battleset(battles, usable=True)
    names, _ = resolve_spec(features, bs.has_text)
    if not names:
        raise UsageError("to_contextual_pairs needs at least one feature")
    X = _pair_table(bs.battles, names, jobs, cache)
    frame = bs.battles
    winner = (
        frame["winner"]
        .astype(object)
        .map({"model_a": "model_a", "model_b": "model_b", "tie": "tie", "tie_bothbad": "both_bad"})
    )
    out = pd.DataFrame(
        {
            "model_a": _names(frame, "a"),
            "model_b": _names(frame, "b"),
            "winner": winner.to_numpy(dtype=object),
            "pref_a": frame["pref_a"].to_numpy(dtype=np.float64),
        }
    )
    for name in names:
        out[name] = X[name].to_numpy(dtype=np.float64)
    out.attrs["feature_cols"] = list(names)
    out.attrs["rejected"] = len(bs.rejects)
    return out
