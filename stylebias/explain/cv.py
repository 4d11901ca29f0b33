"""Held-out evaluation of the vote model next to its baselines, with folds grouped by prompt.

Every fold fits *everything* on its training battles only: the Bradley-Terry strengths used as the offset,
the BT + style baseline, the length-only logistic, the prior, and LightGBM (early-stopped on an inner split
of the training battles, itself grouped by prompt). Held-out predictions of all folds are then scored together
with the same log-loss (mean binary cross-entropy against pref_a; ties 0.5, soft preferences as given), Brier
score and AUC (on non-tie battles only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from ..progress import task
from .design import grouped_folds
from .votemodel import (
    DEFAULT_PARAMS,
    MAX_ROUNDS,
    calibration,
    fit_length_logistic,
    fit_strength,
    scores,
    side_blind_margin,
    train_booster,
)

#: the predictions compared, in report order
MODELS = ("style_strength", "style_only", "bt_style", "length_only", "prior")
LABELS = {
    "style_strength": "LightGBM style + BT strength offset (the vote model)",
    "style_only": "LightGBM style only (+ intercept)",
    "bt_style": "Bradley-Terry + style (StyleBT)",
    "length_only": "length-only logistic",
    "prior": "prior only (training mean of pref_a)",
}


@dataclass
class CVReport:
    """Out-of-fold predictions, their scores, the calibration table and the rounds each fold chose."""

    folds: int
    seed: int
    predictions: pd.DataFrame  # one column per entry of MODELS, one row per battle (held-out P(A wins))
    scores: pd.DataFrame  # index MODELS, columns log_loss, brier, auc
    calibration: pd.DataFrame
    best_rounds: list[int] = field(default_factory=list)
    n_battles: int = 0
    n_prompts: int = 0

    @property
    def rounds(self) -> int:
        """Rounds for the final fit: the median of the folds' early-stopped rounds."""
        return int(np.median(self.best_rounds)) if self.best_rounds else 1

    def vote_model_json(self) -> dict[str, Any]:
        s = self.scores

        def f(x: float) -> float | None:
            return None if not math.isfinite(x) else round(float(x), 6)

        out: dict[str, Any] = {
            "cv_log_loss": f(s.loc["style_strength", "log_loss"]),
            "prior_log_loss": f(s.loc["prior", "log_loss"]),
            "length_only_log_loss": f(s.loc["length_only", "log_loss"]),
            "bt_style_log_loss": f(s.loc["bt_style", "log_loss"]),
            "style_only_log_loss": f(s.loc["style_only", "log_loss"]),
            "auc": f(s.loc["style_strength", "auc"]),
            "brier": f(s.loc["style_strength", "brier"]),
            "folds": self.folds,
            "seed": self.seed,
            "battles": self.n_battles,
            "prompts": self.n_prompts,
            "rounds": self.rounds,
            "fold_rounds": list(self.best_rounds),
            "auc_note": "AUC on non-tie battles only (pref_a != 0.5; A won when pref_a > 0.5)",
            "log_loss_note": "mean binary cross-entropy of P(A wins) vs pref_a (ties 0.5, soft as given)",
            "scores": {
                m: {k: f(s.loc[m, k]) for k in ("log_loss", "brier", "auc")} | {"label": LABELS[m]}
                for m in MODELS
            },
            "calibration": [
                {k: (int(v) if k == "battles" else round(float(v), 6)) for k, v in row.items()}
                for row in self.calibration.to_dict("records")
            ],
        }
        return out


def cross_validate(
    model_a: np.ndarray,
    model_b: np.ndarray,
    pref_a: np.ndarray,
    X: pd.DataFrame,
    tokens: np.ndarray,
    groups: np.ndarray,
    *,
    folds: int = 5,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    reg: float = 0.5,
) -> CVReport:
    """K-fold CV grouped by prompt of the vote model and the baselines (see the module docstring)."""
    params = {**DEFAULT_PARAMS, **(params or {}), "seed": seed}
    y = np.asarray(pref_a, dtype=np.float64)
    n = len(y)
    A = np.asarray(model_a, dtype=object)
    B = np.asarray(model_b, dtype=object)
    Xv = X.to_numpy(dtype=np.float64)
    out = {m: np.full(n, np.nan) for m in MODELS}
    best: list[int] = []
    test_sets = grouped_folds(groups, folds, seed)
    with task("cross-validation folds", total=folds) as advance:
        for k, test in enumerate(test_sets):
            train = np.setdiff1d(np.arange(n), test, assume_unique=True)
            ytr = y[train]
            prior = float(np.clip(ytr.mean(), 1e-6, 1 - 1e-6))
            out["prior"][test] = prior
            b0, b1 = fit_length_logistic(tokens[train], ytr)
            out["length_only"][test] = expit(b0 + b1 * tokens[test])
            plain = fit_strength(A[train], B[train], ytr, X.iloc[train], reg=reg, side_blind=False)
            out["bt_style"][test] = expit(plain.bt_margin(A[test], B[test], X.iloc[test]))
            sf = fit_strength(A[train], B[train], ytr, X.iloc[train], reg=reg)
            # inner split (grouped by prompt) of the training battles for early stopping
            inner = (
                grouped_folds(groups[train], 5, seed + 1000 + k)[0]
                if len(np.unique(groups[train])) >= 5
                else None
            )
            off_tr = sf.offset(A[train], B[train])
            logit_prior = math.log(prior / (1 - prior))
            for name, init_tr, init_te in (
                ("style_strength", off_tr, sf.offset(A[test], B[test])),
                ("style_only", np.full(len(train), logit_prior), np.full(len(test), logit_prior)),
            ):
                if inner is not None:
                    fit_rows = np.setdiff1d(np.arange(len(train)), inner, assume_unique=True)
                    booster = train_booster(
                        Xv[train][fit_rows],
                        ytr[fit_rows],
                        init_tr[fit_rows],
                        params,
                        MAX_ROUNDS,
                        valid=(Xv[train][inner], ytr[inner], init_tr[inner]),
                    )
                    rounds = max(int(booster.best_iteration or booster.current_iteration()), 1)
                else:
                    rounds = MAX_ROUNDS // 4
                # refit on the whole training fold with the early-stopped number of rounds
                booster = train_booster(Xv[train], ytr, init_tr, params, rounds)
                if name == "style_strength":
                    best.append(rounds)
                out[name][test] = expit(init_te + side_blind_margin(booster, Xv[test]))
            advance(1)
    pred = pd.DataFrame(out, columns=list(MODELS))
    table = pd.DataFrame({m: scores(pred[m].to_numpy(), y) for m in MODELS}).T
    return CVReport(
        folds=folds,
        seed=seed,
        predictions=pred,
        scores=table,
        calibration=calibration(pred["style_strength"].to_numpy(), y),
        best_rounds=best,
        n_battles=n,
        n_prompts=int(len(np.unique(groups))),
    )
