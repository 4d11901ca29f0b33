"""Held-out evaluation of the vote model next to its baselines: nested cross-validation, folds grouped by prompt.

Outer folds (K, grouped by prompt) give the reported scores. Inside every outer training fold:

* the vote model is *chosen* by :func:`stylebias.explain.select.select` on inner folds of that training fold
  only (grouped by prompt too), then fitted on the whole training fold and scored on the outer fold;
* the penalty of plain StyleBT ("BT + style") is chosen the same way (``reg="auto"``), or fixed;
* the length-only logistic and the prior are fitted on the training fold.

No outer-fold vote reaches any fit or any choice. Held-out predictions of all outer folds are then scored
together with the same log-loss (mean binary cross-entropy against pref_a; ties 0.5, soft preferences as
given), Brier score and AUC (on non-tie battles only). The scores describe the *procedure* (choose, then fit);
the model whose explanations are shown is that procedure run on all battles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from ..outputs import plain
from ..progress import task, use_reporter
from ..rating import FitSettings
from .design import grouped_folds
from .linear import fit_logistic
from .select import BT_REGS, Selection, Votes, fit_spec, quiet_fits, select
from .votemodel import EPS, calibration, fit_strength, scores

#: FastChat / LMArena's fixed penalty (FitSettings' default), shown next to the cross-validated one.
DEFAULT_REG = FitSettings().reg

LABELS = {
    "vote_model": "vote model (chosen by inner CV; its explanations are shown)",
    "bt_style": "Bradley-Terry + style (StyleBT)",
    "bt_style_default": "Bradley-Terry + style, reg 0.5 (LMArena's)",
    "length_only": "length-only logistic",
    "prior": "prior only (training mean of pref_a)",
}


@dataclass
class CVReport:
    """Out-of-fold predictions, their scores, the calibration table and what each outer fold chose."""

    folds: int
    inner_folds: int
    seed: int
    predictions: pd.DataFrame  # one column per row of ``scores``, one row per battle (held-out P(A wins))
    scores: pd.DataFrame  # index = predictor (see LABELS), columns log_loss, brier, auc
    calibration: pd.DataFrame
    fold_choices: list[dict[str, Any]] = field(default_factory=list)
    selection: Selection | None = None  # the choice made on all battles (the shown model)
    reg: float | str = "auto"
    n_battles: int = 0
    n_prompts: int = 0

    @property
    def models(self) -> list[str]:
        return list(self.scores.index)

    def label(self, name: str) -> str:
        if name == "bt_style":
            how = "reg chosen by inner CV" if self.reg == "auto" else f"reg {self.reg:g}"
            return f"{LABELS[name]}, {how}"
        return LABELS.get(name, name)

    def vote_model_json(self) -> dict[str, Any]:
        s = self.scores
        f = partial(plain, digits=6)
        sel = self.selection
        out: dict[str, Any] = {
            "cv_log_loss": f(s.loc["vote_model", "log_loss"]),
            "prior_log_loss": f(s.loc["prior", "log_loss"]),
            "length_only_log_loss": f(s.loc["length_only", "log_loss"]),
            "bt_style_log_loss": f(s.loc["bt_style", "log_loss"]),
            "auc": f(s.loc["vote_model", "auc"]),
            "brier": f(s.loc["vote_model", "brier"]),
            "nested": True,
            "folds": self.folds,
            "inner_folds": self.inner_folds,
            "seed": self.seed,
            "battles": self.n_battles,
            "prompts": self.n_prompts,
            "bt_reg": self.reg,
            "fold_choices": list(self.fold_choices),
            "auc_note": "AUC on non-tie battles only (pref_a != 0.5; A won when pref_a > 0.5)",
            "log_loss_note": "mean binary cross-entropy of P(A wins) vs pref_a (ties 0.5, soft as given)",
            "split_note": "outer folds grouped by prompt score; choices made on inner folds of each training fold",
            "scores": {
                m: {k: f(s.loc[m, k]) for k in ("log_loss", "brier", "auc")} | {"label": self.label(m)}
                for m in s.index
            },
            "calibration": [
                {k: (int(v) if k == "battles" else f(v)) for k, v in row.items()}
                for row in self.calibration.to_dict("records")
            ],
        }
        if "bt_style_default" in s.index:
            out["bt_style_default_log_loss"] = f(s.loc["bt_style_default", "log_loss"])
        if sel is not None:
            out["chosen"] = sel.chosen.to_json()
            out["chosen_bt_reg"] = sel.bt_reg
            out["candidates"] = [
                {k: (f(v) if k == "log_loss" else plain(v)) for k, v in r.items()}
                for r in sel.scores.to_dict("records")
            ]
        return out


def nested_cv(
    v: Votes,
    *,
    folds: int = 5,
    inner_folds: int = 5,
    seed: int = 0,
    reg: float | str = "auto",
    search: str = "auto",
) -> tuple[CVReport, Selection]:
    """Nested grouped CV of the whole choose-then-fit procedure (module docstring); also the final choice.

    Returns the report and the :class:`Selection` made on all battles (the model whose explanations are shown).
    """
    from ..rating.estimator import one_blas_thread

    with one_blas_thread(), quiet_fits():
        return _nested_cv(v, folds, inner_folds, seed, reg, search)


def _nested_cv(
    v: Votes, folds: int, inner_folds: int, seed: int, reg: float | str, search: str
) -> tuple[CVReport, Selection]:
    n = len(v)
    auto = reg == "auto"
    bt_regs = BT_REGS if auto else None
    names = ["vote_model", "bt_style", *(["bt_style_default"] if auto else []), "length_only", "prior"]
    out = {m: np.full(n, np.nan) for m in names}
    choices: list[dict[str, Any]] = []
    outer = grouped_folds(v.groups, folds, seed)
    with task("nested cross-validation (outer folds)", total=folds + 1) as advance:
        for k, test in enumerate(outer):
            train = np.setdiff1d(np.arange(n), test, assume_unique=True)
            tr = v.subset(train)
            with use_reporter(None):  # one bar for the outer folds, not one per inner fit
                sel = select(tr, inner_folds, seed + 1 + k, search=search, bt_regs=bt_regs)
                vote = fit_spec(sel.chosen, tr, seed=seed)
            out["vote_model"][test] = vote.predict_proba(v.model_a[test], v.model_b[test], v.X[test])
            r = sel.bt_reg if auto else float(reg)  # type: ignore[arg-type]
            te_frame = v.frame.iloc[test]
            for name, penalty in (("bt_style", r), ("bt_style_default", DEFAULT_REG)):
                if name in out:
                    with use_reporter(None):
                        sf = fit_strength(
                            tr.model_a, tr.model_b, tr.y, tr.frame, FitSettings(reg=penalty), side_blind=False
                        )
                    out[name][test] = expit(sf.bt_margin(v.model_a[test], v.model_b[test], te_frame))
            b = fit_logistic(np.column_stack([np.ones(len(tr)), tr.tokens]), tr.y)
            out["length_only"][test] = expit(b[0] + b[1] * v.tokens[test])
            out["prior"][test] = float(np.clip(tr.y.mean(), EPS, 1 - EPS))
            choices.append({"fold": k, "vote_model": sel.chosen.label, "bt_reg": r})
            advance(1)
        with use_reporter(None):
            final = select(v, folds, seed, search=search, bt_regs=bt_regs)
        advance(1)
    pred = pd.DataFrame(out, columns=names)
    table = pd.DataFrame({m: scores(pred[m].to_numpy(), v.y) for m in names}).T
    report = CVReport(
        folds=folds,
        inner_folds=inner_folds,
        seed=seed,
        predictions=pred,
        scores=table,
        calibration=calibration(pred["vote_model"].to_numpy(), v.y),
        fold_choices=choices,
        selection=final,
        reg=reg,
        n_battles=n,
        n_prompts=int(len(np.unique(v.groups))),
    )
    return report, final
