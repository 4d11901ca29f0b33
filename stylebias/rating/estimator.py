"""``StyleBT``: Bradley-Terry with style covariates, as a scikit-learn style estimator.

Model: ``P(A beats B) = sigma(L * (beta_A - beta_B) + gamma . z)`` with ``L = ln 10``, ``beta`` in base-10
units (Elo = ``base + scale * beta``, scale 400) and ``z`` the pair features standardised over the data.
Default objective = FastChat ``compute_style_control``: summed log-loss (ties 0.5, soft preferences
fractional) + ``reg/2 * ||theta||^2`` with ``reg = 0.5``, solved to convergence.

Identification. The penalty identifies the ratings: the log-loss is unchanged by adding a constant to every
``beta``, so at the optimum ``sum(beta) = 0`` exactly and the *mean* rating is ``base``. With
``anchor=(model, rating)`` every rating (and every bootstrap replicate) is shifted so that model sits at
``rating``; its interval then has zero width and the others' intervals are for the contrast with it.
"""

from __future__ import annotations

import contextlib
import math
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from ..errors import DataError, StyleBiasWarning, UsageError
from ..progress import task
from .design import components, encode_models, standardise
from .intervals import bootstrap, frozen_sandwich, sandwich
from .likelihood import tie_model
from .settings import FitSettings
from .solver import LN10, PairLayout, Problem, SolveInfo, newton
from .support import SUPPORT_COLUMNS, describe_support, feature_support, unit, verdict

#: One row per style feature in :meth:`StyleBT.effects`.
EFFECT_COLUMNS = (
    "name",
    "coef",
    "low",
    "high",
    "odds_ratio",
    "odds_ratio_low",
    "odds_ratio_high",
    "feature_sd",
    "feature_unit",
    *SUPPORT_COLUMNS,
    "verdict",
    "sentence",
)

_BLAS_LOCK = threading.Lock()
_BLAS_HOLDERS = 0
_BLAS_LIMIT: Any = None


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS limited to one thread while any caller is inside (``threadpoolctl``; see :meth:`StyleBT.fit`).

    The limit is process-wide, so it is taken by the first caller to enter and given back (the original
    thread counts restored) by the last to leave, whatever the nesting or the threads: a fit inside the
    explanation's cross-validation, or on a bootstrap worker thread, finds it held and does not look again.
    Looking means reading ``/proc/self/maps`` and matching every loaded library, about 3 ms: more than a
    small fit's Newton steps, and the vote model makes hundreds of such fits.
    """
    global _BLAS_HOLDERS, _BLAS_LIMIT
    with _BLAS_LOCK:
        if _BLAS_HOLDERS == 0:
            from threadpoolctl import threadpool_limits

            _BLAS_LIMIT = threadpool_limits(limits=1, user_api="blas")
        _BLAS_HOLDERS += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS_HOLDERS -= 1
            if _BLAS_HOLDERS == 0:
                limit, _BLAS_LIMIT = _BLAS_LIMIT, None
                limit.restore_original_limits()


class StyleBT:
    """Style-controlled Bradley-Terry ratings with sandwich or bootstrap intervals.

    Parameters:
        reg: L2 penalty ``reg/2 * ||theta||^2`` on ratings (base-10 units) and style coefficients, added to
            the *summed* log-loss. 0.5 reproduces FastChat/LMArena. 0 is allowed (pure MLE, ratings centred)
            but diverges if a model never loses.
        ties: ``"half"`` (a tie is half a win each; soft preferences fractional), ``"rao-kupper"`` or
            ``"davidson"`` (explicit tie probability with one extra parameter; hard outcomes only).
        scale, base: Elo = ``base + scale * beta``.
        anchor: optional ``(model, rating)``; shift ratings so that model has that rating.
        ci: ``"sandwich"`` or ``"bootstrap"``; level: interval coverage (0.95).
        rounds, seed, n_jobs: bootstrap replicates, base seed (replicate r uses ``[seed, r]``), workers.
        xtol, max_iter: Newton stops when the largest step is below ``xtol`` (base-10 units).
    """

    def __init__(
        self,
        reg: float = 0.5,
        ties: str = "half",
        scale: float = 400.0,
        base: float = 1000.0,
        anchor: tuple[str, float] | None = None,
        ci: str = "sandwich",
        rounds: int = 100,
        seed: int = 0,
        n_jobs: int | None = None,
        level: float = 0.95,
        xtol: float = 1e-9,
        max_iter: int = 100,
    ) -> None:
        self.reg = reg
        self.ties = ties
        self.scale = scale
        self.base = base
        self.anchor = anchor
        self.ci = ci
        self.rounds = rounds
        self.seed = seed
        self.n_jobs = n_jobs
        self.level = level
        self.xtol = xtol
        self.max_iter = max_iter

    # ------------------------------------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (scikit-learn convention)."""
        names = ("reg", "ties", "scale", "base", "anchor", "ci", "rounds", "seed", "n_jobs", "level")
        return {k: getattr(self, k) for k in (*names, "xtol", "max_iter")}

    def _check_params(self) -> None:
        FitSettings(
            **{k: getattr(self, k) for k in ("reg", "ties", "ci", "rounds", "level", "scale")}
        ).check()

    # ------------------------------------------------------------------------------------------------
    def fit(
        self,
        model_a: Sequence[str] | np.ndarray | pd.Series,
        model_b: Sequence[str] | np.ndarray | pd.Series,
        pref_a: Sequence[float] | np.ndarray | pd.Series,
        Z: np.ndarray | pd.DataFrame | None = None,
        feature_names: Sequence[str] | None = None,
        weights: Sequence[float] | np.ndarray | None = None,
        init: StyleBT | None = None,
        *,
        scaling: tuple[np.ndarray, np.ndarray] | None = None,
        model_scale: float = LN10,
        resamples: np.ndarray | None = None,
        fixed: StyleBT | None = None,
        cells: bool = True,
        prompts: np.ndarray | None = None,
    ) -> StyleBT:
        """Fit ratings and style coefficients. ``Z`` holds *raw* pair features (standardised here).

        ``pref_a`` is the share of the vote for A (1 win, 0 loss, 0.5 tie, soft values allowed with
        ``ties="half"``). ``weights`` are frequency weights (a battle with weight 2 counts twice).
        ``init`` (warm start): a fitted ``StyleBT`` whose parameters start Newton's method instead of zeros
        (see :func:`warm_start`); the optimum is the same (the objective is strictly convex), only fewer
        iterations are needed when the data changed little, e.g. old battles plus a few new ones.
        ``scaling``, ``model_scale`` and ``resamples`` reproduce a fit made elsewhere (FastChat's): a fixed
        ``(mean, scale)`` standardisation, the logit per rating unit (``L`` above) and, with
        ``ci="bootstrap"``, the replicates' battle weights (one row per replicate) instead of Poisson draws.
        ``fixed`` (frozen coefficients): a fitted ``StyleBT`` whose ratings, style coefficients, feature
        standardisation and tie parameter are held at their values; only the ratings of models it does not
        know are fitted, and its models are rated even without battles here (see :meth:`_fixed_start`).
        ``cells=False`` keeps a fit without features per battle instead of collapsing it into (pair,
        outcome) cells: same optimum and sandwich, and its bootstrap replicates then draw exactly the
        per-battle weights a style-controlled fit of the same battles draws (paired replicates).
        ``prompts``: an integer id per battle for its prompt (-1 unknown), for the effects' support counts
        (``support_``: battles and distinct prompts with a non-zero difference in each kept feature).

        BLAS is limited to one thread for the duration of the fit: the only BLAS work left is the
        Cholesky factorisation of the ~135x135 Hessian, which threaded OpenBLAS made 50x slower on a
        2-core machine with other load, and parallelism comes from bootstrap workers instead.
        """
        with one_blas_thread():
            return self._fit(
                model_a,
                model_b,
                pref_a,
                Z,
                feature_names,
                weights,
                init,
                scaling,
                model_scale,
                resamples,
                fixed,
                cells,
                prompts,
            )

    def _fit(
        self,
        model_a: Sequence[str] | np.ndarray | pd.Series,
        model_b: Sequence[str] | np.ndarray | pd.Series,
        pref_a: Sequence[float] | np.ndarray | pd.Series,
        Z: np.ndarray | pd.DataFrame | None,
        feature_names: Sequence[str] | None,
        weights: Sequence[float] | np.ndarray | None,
        init: StyleBT | None,
        scaling: tuple[np.ndarray, np.ndarray] | None,
        model_scale: float,
        resamples: np.ndarray | None,
        fixed: StyleBT | None = None,
        cells: bool = True,
        prompts: np.ndarray | None = None,
    ) -> StyleBT:
        self._check_params()
        if fixed is not None:
            if self.ci == "bootstrap":
                raise UsageError(
                    "a fit with fixed (saved) parameters has sandwich intervals only: the saved "
                    "covariance is carried into the new models' intervals (ci='sandwich')"
                )
            Z, feature_names, scaling = _fixed_features(fixed, Z, feature_names, self, model_scale)
        y = np.asarray(pref_a, dtype=np.float64)
        n = len(y)
        if not (len(model_a) == len(model_b) == n):
            raise ValueError("model_a, model_b and pref_a must have the same length")
        if n == 0:
            raise DataError("no battles to fit")
        bad = ~np.isfinite(y) | (y < 0) | (y > 1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"pref_a must be in [0, 1]; battle {i + 1} has {float(y[i])!r}")
        hard = (y == 0.0) | (y == 0.5) | (y == 1.0)
        if self.ties != "half" and not hard.all():
            raise DataError(soft_outcomes_message(self.ties, y, hard))
        w = None
        if weights is not None:
            w = np.asarray(weights, dtype=np.float64)
            if len(w) != n or not np.isfinite(w).all() or (w < 0).any():
                raise DataError("weights must be finite, non-negative and one per battle")

        enc = encode_models(model_a, model_b, extra=() if fixed is None else fixed.models_)
        P = len(enc.models)
        same = enc.a == enc.b
        if same.any():
            i = int(np.flatnonzero(same)[0])
            raise DataError(f"battle {i + 1} is a self-battle ({enc.models[enc.a[i]]!r} vs itself)")
        if P < 2:
            raise DataError(f"need at least two models to rate, found {P}: {enc.models}")
        pair_counts = np.bincount(enc.pair, minlength=len(enc.pair_a)).astype(np.float64)
        free = None if fixed is None else ~np.isin(np.asarray(enc.models, dtype=object), fixed.models_)
        link_a, link_b = enc.pair_a, enc.pair_b
        if free is not None:  # the saved models share one scale: link them as if they had played
            held = np.flatnonzero(~free)
            link_a = np.concatenate([enc.pair_a, np.full(len(held) - 1, held[0])])
            link_b = np.concatenate([enc.pair_b, held[1:]])
            pair_counts = np.concatenate([pair_counts, np.zeros(len(held) - 1)])
        comp = components(link_a, link_b, P, pair_counts)
        if comp.max() > 0:
            raise DataError(
                "comparison graph is disconnected; ratings in different components share no scale. "
                + describe_components(enc.models, comp, enc.a),
            )

        # features
        if Z is not None:
            if isinstance(Z, pd.DataFrame):
                names = list(Z.columns) if feature_names is None else list(feature_names)
                X = Z.to_numpy(dtype=np.float64)
            else:
                X = np.asarray(Z, dtype=np.float64)
                if X.ndim == 1:
                    X = X[:, None]
                names = [f"x{j}" for j in range(X.shape[1])] if feature_names is None else list(feature_names)
            if len(X) != n:
                raise ValueError(f"Z has {len(X)} rows but there are {n} battles")
            std = standardise(X, [str(s) for s in names], w, scaling)
            kept_cols = [[str(s) for s in names].index(k) for k in std.names]
            support = feature_support(X[:, kept_cols], w, prompts)
        else:
            std = standardise(np.zeros((n, 0)), [])
            support = feature_support(np.zeros((n, 0)), w, prompts)
        support.index = pd.Index(std.names, name="feature")
        self.support_ = support
        # the caller's column order, so a plain array with every input column can be predicted on
        self.feature_names_in_ = [str(s) for s in names] if Z is not None else []
        self.feature_names_ = std.names
        self.dropped_features_ = std.dropped
        self.feature_mean_ = std.mean
        self.feature_scale_ = std.scale
        K = len(std.names)
        tie = tie_model(self.ties)

        self.models_ = enc.models
        self.model_scale_ = float(model_scale)
        self.n_models_ = P
        self.n_obs_ = n
        fw = np.ones(n) if w is None else w
        self.n_battles_ = pd.Series(
            np.bincount(enc.a, fw, minlength=P) + np.bincount(enc.b, fw, minlength=P), index=enc.models
        )
        self._warn_separation(enc, y, fw)
        warn_without_ties(self.ties, bool((y == 0.5).any()))

        # Battles are sorted by ordered pair (see solver.PairLayout). Without features (and unit weights)
        # they collapse further into (pair, outcome) cells: same optimum, same sandwich, and Poisson(count)
        # per cell is exactly the per-battle Poisson bootstrap.
        counts = None
        if K == 0 and w is None and resamples is None and cells:
            pair, yy, counts = _outcome_cells(enc.pair, y, hard.all())
            Zs, ws = None, counts
        else:
            order = np.argsort(enc.pair, kind="stable")
            pair, yy, Zs, ws = (
                enc.pair[order],
                y[order],
                std.Z[order] if K else None,
                None if w is None else w[order],
            )
        layout = PairLayout.from_sorted(pair, enc.pair_a, enc.pair_b, P)
        problem = Problem(layout, yy, Zs, tie, self.reg, ws, model_scale)

        theta0 = np.concatenate([np.zeros(P + K), tie.start(problem.y, problem.w)])
        if init is not None:
            theta0 = warm_start(init, enc.models, std, self.ties, theta0)
        mask = None
        if fixed is not None:
            theta0, mask = self._fixed_start(fixed, enc.models, theta0, free)
        with task("fitting Bradley-Terry" + (" + style" if K else ""), total=None):
            theta, info = newton(problem, theta0, xtol=self.xtol, max_iter=self.max_iter, free=mask)
        check_solution(info, self.reg, self.max_iter, lambda: float(np.abs(problem.eta(theta)).max()))
        if self.reg == 0.0 and fixed is None:
            theta[:P] -= theta[:P].mean()
        self.theta_ = theta
        self.n_iter_ = info.n_iter
        self.converged_ = info.converged
        self.objective_ = problem.objective(theta)
        self.beta_ = theta[:P]
        self.coef_ = theta[P : P + K]
        self.tie_param_ = theta[P + K :]

        self.fixed_models_ = (
            [] if free is None else [m for m, f in zip(enc.models, free, strict=True) if not f]
        )
        if mask is not None:
            V, H = frozen_sandwich(problem, theta, mask, _fixed_covariance(fixed, enc.models))
        else:
            V, H = sandwich(problem, theta)
        self.hessian_ = H
        self.boot_theta_ = None
        if self.ci == "bootstrap" and fixed is None:
            self.boot_theta_ = bootstrap(
                problem,
                theta,
                rounds=self.rounds if resamples is None else len(resamples),
                seed=self.seed,
                n_jobs=self.n_jobs,
                counts=counts,
                draw=None
                if resamples is None
                else lambda r: np.asarray(resamples[r], dtype=np.float64)[order],
                xtol=max(self.xtol, 1e-8),
                max_iter=self.max_iter,
                description="bootstrap Bradley-Terry" + (" + style" if K else ""),
            )
            if self.reg == 0.0:
                self.boot_theta_[:, :P] -= self.boot_theta_[:, :P].mean(axis=1, keepdims=True)
            if len(self.boot_theta_) > 1:  # one replicate (FastChat allows it) leaves the sandwich
                V = np.cov(self.boot_theta_, rowvar=False)
        self.covariance_ = np.atleast_2d(V)
        self._summarise()
        self._style_side_means(enc, std.Z, fw)
        return self

    def _fixed_start(
        self, fixed: StyleBT, models: list[str], theta0: np.ndarray, free: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Start of a frozen fit and its mask of free parameters.

        The saved ratings (by model name), style coefficients (the saved standardisation is applied to the
        features, so they mean the same per SD) and tie parameter are copied in and held; the other
        models' ratings start where ``theta0`` has them (0, or a warm start) and are the only free ones.
        """
        if fixed.ties != self.ties or len(fixed.tie_param_) != len(theta0) - len(models) - len(fixed.coef_):
            raise UsageError(f"the fixed fit uses ties={fixed.ties!r}, this one ties={self.ties!r}")
        P, K = len(models), len(fixed.coef_)
        theta = np.array(theta0, dtype=np.float64, copy=True)
        saved = dict(zip(fixed.models_, np.asarray(fixed.beta_, dtype=np.float64), strict=True))
        for i, m in enumerate(models):
            if not free[i]:
                theta[i] = saved[m]
        theta[P : P + K] = fixed.coef_
        theta[P + K :] = fixed.tie_param_
        mask = np.zeros(len(theta), dtype=bool)
        mask[:P] = free
        return theta, mask

    # ------------------------------------------------------------------------------------------------
    @classmethod
    def _from_state(cls, params: dict[str, Any], state: dict[str, Any]) -> StyleBT:
        """Rebuild a fitted estimator from saved arrays (see ``stylebias.rating.persist``).

        ``state`` holds the fitted quantities that are not derived (models, beta, coef, tie parameter,
        standardisation, covariance, optional bootstrap replicates, side means, counts); every derived
        attribute (ratings, intervals) is recomputed by the same code as after ``fit`` so a loaded model
        predicts bit-for-bit like the original.
        """
        self = cls(**params)
        self._check_params()
        models = list(state["models"])
        names = list(state["feature_names"])
        P, K = len(models), len(names)
        self.models_ = models
        self.model_scale_ = LN10
        self.n_models_ = P
        self.n_obs_ = int(state["n_obs"])
        self.n_battles_ = pd.Series(np.asarray(state["n_battles"], dtype=np.float64), index=models)
        self.feature_names_ = names
        self.dropped_features_ = list(state["dropped_features"])
        self.feature_names_in_ = list(state.get("feature_names_in", names + self.dropped_features_))
        self.feature_mean_ = np.asarray(state["feature_mean"], dtype=np.float64).reshape(K)
        self.feature_scale_ = np.asarray(state["feature_scale"], dtype=np.float64).reshape(K)
        self.beta_ = np.asarray(state["beta"], dtype=np.float64).reshape(P)
        self.coef_ = np.asarray(state["coef"], dtype=np.float64).reshape(K)
        self.tie_param_ = np.asarray(state["tie_param"], dtype=np.float64).reshape(-1)
        self.theta_ = np.concatenate([self.beta_, self.coef_, self.tie_param_])
        self.n_iter_ = int(state.get("n_iter", 0))
        self.converged_ = bool(state.get("converged", True))
        self.objective_ = float(state.get("objective", float("nan")))
        n_theta = len(self.theta_)
        self.covariance_ = np.asarray(state["covariance"], dtype=np.float64).reshape(n_theta, n_theta)
        self.hessian_ = None
        boot = state.get("boot_theta")
        self.boot_theta_ = None if boot is None else np.asarray(boot, dtype=np.float64).reshape(-1, n_theta)
        side = np.asarray(state["side_mean_z"], dtype=np.float64).reshape(P, K)
        self.side_mean_z_ = pd.DataFrame(side, index=models, columns=names)
        self.fixed_models_ = list(state.get("fixed_models", []))
        saved = state.get("support")  # absent in artifacts written before support was counted
        self.support_ = pd.DataFrame(
            {c: [np.nan] * K for c in SUPPORT_COLUMNS} if saved is None else saved,
            index=pd.Index(names, name="feature"),
            dtype=np.float64,
        )
        self._summarise()
        return self

    # ------------------------------------------------------------------------------------------------
    def _warn_separation(self, enc: Any, y: np.ndarray, w: np.ndarray) -> None:
        P = len(enc.models)
        score = np.bincount(enc.a, w * y, minlength=P) + np.bincount(enc.b, w * (1 - y), minlength=P)
        played = np.bincount(enc.a, w, minlength=P) + np.bincount(enc.b, w, minlength=P)
        always_win = [m for m, s, g in zip(enc.models, score, played, strict=True) if g > 0 and s >= g]
        always_lose = [m for m, s, g in zip(enc.models, score, played, strict=True) if g > 0 and s <= 0]
        if always_win or always_lose:
            parts = []
            if always_win:
                parts.append(f"never lost: {', '.join(always_win)}")
            if always_lose:
                parts.append(f"never won: {', '.join(always_lose)}")
            extra = (
                f"their ratings are finite only because of the penalty (reg={self.reg})"
                if self.reg > 0
                else "with reg=0 their maximum-likelihood ratings are infinite"
            )
            warnings.warn(f"{'; '.join(parts)} — {extra}", StyleBiasWarning, stacklevel=3)

    def _shift(self) -> float:
        """Elo offset making the anchor model sit at its anchor rating (0 when not anchored)."""
        if self.anchor is None:
            return 0.0
        model, rating = self.anchor
        if model not in self.models_:
            raise UsageError(f"anchor model {model!r} is not among the rated models")
        return float(rating) - (self.base + self.scale * self.beta_[self.models_.index(model)])

    def _summarise(self) -> None:
        P, K = self.n_models_, len(self.coef_)
        zq = NormalDist().inv_cdf(0.5 + self.level / 2)
        ratings = self.base + self.scale * self.beta_ + self._shift()
        if self.boot_theta_ is not None:
            boot = self.base + self.scale * self.boot_theta_[:, :P]
            if self.anchor is not None:
                i = self.models_.index(self.anchor[0])
                boot = boot - boot[:, [i]] + float(self.anchor[1])
            q = np.quantile(boot, [0.5 - self.level / 2, 0.5 + self.level / 2], axis=0)
            low, high = q[0], q[1]
            self.boot_ratings_ = pd.DataFrame(boot, columns=self.models_)
            cq = np.quantile(
                self.boot_theta_[:, P : P + K], [0.5 - self.level / 2, 0.5 + self.level / 2], axis=0
            )
            c_low, c_high = cq[0], cq[1]
        else:
            var = self._rating_contrast_var()
            half = zq * self.scale * np.sqrt(np.maximum(var, 0.0))
            low, high = ratings - half, ratings + half
            se_c = np.sqrt(np.maximum(np.diag(self.covariance_)[P : P + K], 0.0))
            c_low, c_high = self.coef_ - zq * se_c, self.coef_ + zq * se_c
        self.ratings_ = pd.Series(ratings, index=self.models_, name="rating")
        self.rating_low_ = pd.Series(low, index=self.models_, name="rating_low")
        self.rating_high_ = pd.Series(high, index=self.models_, name="rating_high")
        self.coef_low_ = np.asarray(c_low)
        self.coef_high_ = np.asarray(c_high)

    def _rating_contrast_var(self) -> np.ndarray:
        """Variance of each (centred or anchored) rating in base-10 units."""
        P = self.n_models_
        V = self.covariance_[:P, :P]
        d = np.diag(V)
        if self.anchor is None:
            return d
        i = self.models_.index(self.anchor[0])
        return d + d[i] - 2 * V[:, i]

    def _style_side_means(self, enc: Any, Z: np.ndarray, w: np.ndarray) -> None:
        """Mean standardised feature on each model's own side (z if it was A, -z if B), per model."""
        P, K = self.n_models_, Z.shape[1]
        out = np.zeros((P, K))
        played = np.bincount(enc.a, w, minlength=P) + np.bincount(enc.b, w, minlength=P)
        for j in range(K):
            wz = w * Z[:, j]
            out[:, j] = np.bincount(enc.a, wz, minlength=P) - np.bincount(enc.b, wz, minlength=P)
        out /= np.maximum(played, 1e-300)[:, None]
        self.side_mean_z_ = pd.DataFrame(out, index=self.models_, columns=self.feature_names_)

    # ------------------------------------------------------------------------------------------------
    @property
    def elo_per_logit(self) -> float:
        """Elo points per unit of natural log-odds (400 / ln 10 = 173.7 with the default scale)."""
        return self.scale / self.model_scale_

    def decision_function(
        self,
        model_a: Sequence[str] | np.ndarray,
        model_b: Sequence[str] | np.ndarray,
        X: np.ndarray | pd.DataFrame | None = None,
    ) -> np.ndarray:
        """Linear predictor ``eta`` (natural log-odds of A over B) for battles; ``X`` = *raw* pair features.

        Raw features are standardised with the fitted ``feature_mean_``/``feature_scale_``; omitting ``X``
        means ``z = 0`` (the average style difference of the training data).
        """
        idx = pd.Index(self.models_)
        ia, ib = (
            idx.get_indexer(np.asarray(model_a, dtype=object)),
            idx.get_indexer(np.asarray(model_b, dtype=object)),
        )
        if (ia < 0).any() or (ib < 0).any():
            raise UsageError("decision_function: unknown model name")
        eta = self.model_scale_ * (self.beta_[ia] - self.beta_[ib])
        if X is not None and len(self.coef_):
            X = self._feature_matrix(X)
            z = (X - self.feature_mean_) / self.feature_scale_
            eta = eta + z @ self.coef_
        return eta

    def _feature_matrix(self, X: np.ndarray | pd.DataFrame) -> np.ndarray:
        """Raw features in the order of ``feature_names_``: a DataFrame by column name; an array with either
        the kept columns or every column the fit saw (``feature_names_in_``, dropped ones are skipped)."""
        if isinstance(X, pd.DataFrame):
            missing = [f for f in self.feature_names_ if f not in X.columns]
            if missing:
                raise UsageError(f"feature table lacks column(s) the model uses: {', '.join(missing)}")
            return X[self.feature_names_].to_numpy(dtype=np.float64)
        arr = np.asarray(X, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.shape[1] == len(self.feature_names_):
            return arr
        if arr.shape[1] == len(self.feature_names_in_):
            keep = [self.feature_names_in_.index(f) for f in self.feature_names_]
            return arr[:, keep]
        raise UsageError(
            f"feature array has {arr.shape[1]} columns; the model was fitted on {len(self.feature_names_in_)} "
            f"({', '.join(self.feature_names_in_)}) and uses {len(self.feature_names_)}"
        )

    def predict_proba(
        self,
        model_a: Sequence[str] | np.ndarray,
        model_b: Sequence[str] | np.ndarray,
        X: np.ndarray | pd.DataFrame | None = None,
    ) -> np.ndarray:
        """Probabilities per battle: columns (A wins, tie, B wins). With ``ties="half"`` tie is 0."""
        eta = self.decision_function(model_a, model_b, X)
        if self.ties == "half":
            pa = expit(eta)
            return np.column_stack([pa, np.zeros_like(pa), 1 - pa])
        t = float(self.tie_param_[0])
        if self.ties == "rao-kupper":
            pa, pb = expit(eta - t), expit(-eta - t)
        else:
            den = np.exp(eta / 2) + np.exp(-eta / 2) + np.exp(t)
            pa, pb = np.exp(eta / 2) / den, np.exp(-eta / 2) / den
        return np.column_stack([pa, 1 - pa - pb, pb])

    def winrate_vs(self, reference: str) -> pd.DataFrame:
        """Style-neutral expected score of every model against ``reference`` (AlpacaEval LC analogue).

        Both answers have the *same* style (raw pair feature 0, i.e. standardised ``z = -mean/scale``) and
        each side of the screen is equally likely, so the centring constant cancels out symmetrically:
        ``0.5 * (sigma(d - c) + sigma(d + c))`` with ``d = ln10 (beta_m - beta_ref)``, ``c = gamma . mean/scale``.
        Ties count half. The interval maps the rating contrast's interval through the same function.
        """
        if reference not in self.models_:
            raise UsageError(f"--winrate-vs: model {reference!r} is not among the rated models")
        P = self.n_models_
        i = self.models_.index(reference)
        c = float(self.coef_ @ (self.feature_mean_ / self.feature_scale_)) if len(self.coef_) else 0.0

        def score(d: np.ndarray) -> np.ndarray:
            return 0.5 * (expit(d - c) + expit(d + c))

        d = self.model_scale_ * (self.beta_ - self.beta_[i])
        if self.boot_theta_ is not None:
            bd = self.model_scale_ * (self.boot_theta_[:, :P] - self.boot_theta_[:, [i]])
            q = np.quantile(score(bd), [0.5 - self.level / 2, 0.5 + self.level / 2], axis=0)
            low, high = q[0], q[1]
        else:
            V = self.covariance_[:P, :P]
            var = np.diag(V) + V[i, i] - 2 * V[:, i]
            zq = NormalDist().inv_cdf(0.5 + self.level / 2)
            half = zq * self.model_scale_ * np.sqrt(np.maximum(var, 0.0))
            low, high = score(d - half), score(d + half)
        return pd.DataFrame(
            {"model": self.models_, "winrate": score(d), "winrate_low": low, "winrate_high": high}
        )

    def style_contributions(self) -> pd.DataFrame:
        """Elo points each feature adds to each model's *raw* rating: ``gamma_k * mean z_k`` on its side.

        The BT decomposition of raw minus controlled rating per feature, in Elo points (``gamma`` is in
        natural log-odds, so multiply by ``scale / ln 10``). The sum over features approximates, but does not
        exactly equal, raw minus controlled (the two fits also re-balance each other's opponents).
        """
        return self.side_mean_z_ * self.coef_ * self.elo_per_logit

    def effects(self) -> pd.DataFrame:
        """One row per kept feature: coefficient, interval, odds ratio, what one SD of the pair feature is,
        its support (battles and prompts with a non-zero difference; NaN when unknown), the verdict and a
        plain-language sentence saying all of it."""
        rows = []
        pct = round(self.level * 100)
        support = getattr(self, "support_", None)
        for j, name in enumerate(self.feature_names_):
            coef, lo, hi = float(self.coef_[j]), float(self.coef_low_[j]), float(self.coef_high_[j])
            sd = float(self.feature_scale_[j])
            n_b, n_p = (math.nan, math.nan) if support is None else (float(v) for v in support.iloc[j])
            rows.append(
                {
                    "name": name,
                    "coef": coef,
                    "low": lo,
                    "high": hi,
                    "odds_ratio": math.exp(coef),
                    "odds_ratio_low": math.exp(lo),
                    "odds_ratio_high": math.exp(hi),
                    "feature_sd": sd,
                    "feature_unit": unit(name),
                    "battles_nonzero": n_b,
                    "prompts_nonzero": n_p,
                    "verdict": verdict(coef, lo, hi, math.inf if math.isnan(n_b) else n_b, n_p),
                    "sentence": effect_sentence(name, coef, lo, hi, sd, pct, support=(n_b, n_p)),
                }
            )
        return pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))


def check_solution(info: SolveInfo, reg: float, max_iter: int, eta_max: Callable[[], float]) -> None:
    """Refuse an unpenalised fit whose ratings diverge, warn when Newton ran out of steps (every fit, in
    memory or over partitions). ``eta_max`` gives the largest ``|eta|``; it is only asked when ``reg = 0``."""
    diverged = reg == 0.0 and eta_max() > 25.0
    if not info.converged or diverged:
        if reg == 0.0:
            raise DataError(
                "the unpenalised fit (reg=0) did not converge: some ratings diverge (a model never "
                "loses or never wins, possibly after accounting for style). Use reg > 0."
            )
        warnings.warn(
            f"Newton did not converge in {max_iter} steps (last step {info.max_step:.2e})",
            StyleBiasWarning,
            stacklevel=3,
        )


def warn_without_ties(ties: str, has_ties: bool) -> None:
    """An explicit tie model on data without ties fits plain Bradley-Terry: say so."""
    if ties != "half" and not has_ties:
        warnings.warn(
            f"ties={ties!r} but the data has no ties: the tie parameter goes to its boundary "
            "and the fit equals plain Bradley-Terry",
            StyleBiasWarning,
            stacklevel=3,
        )


def warm_start(prev: StyleBT, models: list[str], std: Any, ties: str, default: np.ndarray) -> np.ndarray:
    """Starting parameters for a new fit from a previous fit ``prev`` (matched by model and feature name).

    Ratings carry over by model name (new models start at 0). Style coefficients are per *standardised*
    feature, and the standardisation moves when data is added: the previous fit's effect of one raw unit,
    ``gamma_k / scale_k``, is kept, so ``gamma'_k = gamma_k * scale'_k / scale_k`` (new features start at 0).
    The tie parameter carries over when the tie model is the same. Anything else keeps ``default``.
    """
    if not hasattr(prev, "beta_"):
        raise UsageError("init must be a fitted StyleBT")
    theta = np.array(default, dtype=np.float64, copy=True)
    P, K = len(models), len(std.names)
    beta = dict(zip(prev.models_, np.asarray(prev.beta_, dtype=np.float64), strict=True))
    theta[:P] = [beta.get(m, 0.0) for m in models]
    prev_feat = {n: j for j, n in enumerate(prev.feature_names_)}
    for k, name in enumerate(std.names):
        j = prev_feat.get(name)
        if j is not None and prev.feature_scale_[j] > 0:
            theta[P + k] = prev.coef_[j] * std.scale[k] / prev.feature_scale_[j]
    if prev.ties == ties and len(prev.tie_param_) == len(theta) - P - K:
        theta[P + K :] = prev.tie_param_
    return theta


def _fixed_features(
    fixed: StyleBT, Z: Any, names: Sequence[str] | None, new: StyleBT, model_scale: float
) -> tuple[Any, list[str] | None, tuple[np.ndarray, np.ndarray] | None]:
    """The features of a frozen fit: the fixed fit's kept features, in its order, with its standardisation.

    The saved coefficients are per SD of the *saved* standardisation, so the new battles are standardised
    with the saved mean and scale (no column is dropped or re-estimated).
    """
    if not hasattr(fixed, "beta_"):
        raise UsageError("fixed must be a fitted StyleBT")
    if not math.isclose(fixed.model_scale_, model_scale):
        raise UsageError("the fixed fit uses another logit per rating unit (model_scale)")
    if (new.scale, new.base) != (fixed.scale, fixed.base):
        raise UsageError(
            f"the fixed fit's rating scale is scale={fixed.scale}, base={fixed.base}; this one "
            f"scale={new.scale}, base={new.base}"
        )
    kept = list(fixed.feature_names_)
    if not kept:
        return None, None, None
    if Z is None:
        raise UsageError(f"the fixed fit uses style features ({', '.join(kept)}); pass them")
    if isinstance(Z, pd.DataFrame):
        have = list(Z.columns) if names is None else [str(n) for n in names]
        frame = pd.DataFrame(Z.to_numpy(dtype=np.float64), columns=have)
    else:
        arr = np.asarray(Z, dtype=np.float64)
        arr = arr[:, None] if arr.ndim == 1 else arr
        have = [str(n) for n in names] if names is not None else list(fixed.feature_names_in_)
        frame = pd.DataFrame(arr, columns=have)
    missing = [f for f in kept if f not in frame.columns]
    if missing:
        raise UsageError(f"the battles lack feature(s) the fixed fit uses: {', '.join(missing)}")
    scaling = (np.asarray(fixed.feature_mean_), np.asarray(fixed.feature_scale_))
    return frame[kept], kept, scaling


def _fixed_covariance(fixed: StyleBT, models: list[str]) -> np.ndarray:
    """The fixed fit's covariance over the parameters held here, in this fit's order (saved models by name,
    then its style coefficients and tie parameter)."""
    Pf = fixed.n_models_
    pos = {m: i for i, m in enumerate(fixed.models_)}
    order = [pos[m] for m in models if m in pos] + list(range(Pf, len(fixed.theta_)))
    return fixed.covariance_[np.ix_(order, order)]


def _outcome_cells(pair: np.ndarray, y: np.ndarray, hard: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Collapse battles into (pair, outcome) cells sorted by pair: (cell pair id, outcome, battle count)."""
    if hard:
        code = pair.astype(np.int64) * 3 + np.rint(2 * y).astype(np.int64)
        tally = np.bincount(code)
        cells = np.flatnonzero(tally)
        return (cells // 3).astype(np.int32), (cells % 3) / 2.0, tally[cells].astype(np.float64)
    key = pd.MultiIndex.from_arrays([pair, y])
    codes, uniq = pd.factorize(key, sort=True)
    return (
        np.asarray(uniq.get_level_values(0), dtype=np.int32),
        np.asarray(uniq.get_level_values(1), dtype=np.float64),
        np.bincount(codes).astype(np.float64),
    )


def effect_sentence(
    name: str,
    coef: float,
    low: float,
    high: float,
    sd: float,
    pct: int = 95,
    *,
    support: tuple[float, float] | None = None,
) -> str:
    """ "Answering with +1 SD more length than the opponent multiplies the odds of winning by 1.28".

    ``support`` = (battles, prompts) with a non-zero difference in the feature (NaN: unknown): named in the
    sentence, and below the documented minimum the verdict is "too few battles to tell".
    """
    label = name.replace("_", " ")
    odds, lo, hi = math.exp(coef), math.exp(low), math.exp(high)
    n_b, n_p = support if support is not None else (math.nan, math.nan)
    known = not math.isnan(n_b)
    said = verdict(coef, low, high, n_b if known else math.inf, n_p)
    basis = f"; {describe_support(n_b, n_p)} differ in it" if known else ""
    return (
        f"Answering with +1 SD more {label} than the opponent (1 SD = {sd:.3g} {unit(name)}{basis}) "
        f"multiplies the odds of winning by {odds:.2f} ({pct}% CI {lo:.2f}-{hi:.2f}; {said})."
    )


def soft_outcomes_message(ties: str, y: np.ndarray, hard: np.ndarray) -> str:
    """Why an explicit tie model cannot fit these battles, in words (counts and one example value)."""
    soft = int((~hard).sum())
    example = float(y[np.flatnonzero(~hard)[0]])
    return (
        f"ties={ties!r} counts each vote as a win, a loss or a tie, but {soft:,} of {len(y):,} battles here "
        f"carry a soft preference: a share of the vote strictly between 0 and 1 (e.g. {example:.8g}), as an "
        "LLM judge's probability or an average of several annotators gives. Use ties='half' (CLI: --ties "
        "half), which reads a share of the vote as it is."
    )


def describe_components(
    models: list[str], comp: np.ndarray, a: np.ndarray, limit: int = 4, counts: np.ndarray | None = None
) -> str:
    """ "3 components: {a, b, c} (1,204 battles), {d, e} (56 battles), ..." for error messages.

    ``a``: model A per battle, or per row of a pair table with its battle ``counts``."""
    n_comp = int(comp.max()) + 1
    battles = np.bincount(comp[a], counts, minlength=n_comp).astype(np.int64)
    parts = []
    for c in range(min(n_comp, limit)):
        names = [m for m, k in zip(models, comp, strict=True) if k == c]
        shown = ", ".join(names[:5]) + (f", … (+{len(names) - 5})" if len(names) > 5 else "")
        parts.append(f"{{{shown}}} ({battles[c]:,} battles)")
    more = f", and {n_comp - limit} more" if n_comp > limit else ""
    return f"{n_comp} components: " + "; ".join(parts) + more
