"""Explain why a model won: a LightGBM vote model on style pair features, SHAP, per-model attribution.

* :func:`explain_battles` -> :class:`ExplainResult` (per-model observed / style-neutral win rates, points each
  style group bought or cost, TreeSHAP per battle, held-out scores next to baselines, the BT cross-check);
* :class:`VoteModel` - the fitted model (``predict_proba``, ``contributions``), saved and loaded without pickle
  by :func:`save_vote_model` / :func:`load_vote_model` (kind ``"vote-model"``);
* :mod:`stylebias.explain.plots` - matplotlib figures (beeswarm, attribution bars, length dependence,
  calibration, raw-vs-controlled forest plot).

Method and measured figures: ``docs/explain.md``.
"""

from __future__ import annotations

from .api import ExplainResult, explain_battles, select_battles
from .persist import load_vote_model, save_vote_model
from .votemodel import DEFAULT_PARAMS, VoteModel

__all__ = [
    "DEFAULT_PARAMS",
    "ExplainResult",
    "VoteModel",
    "explain_battles",
    "load_vote_model",
    "save_vote_model",
    "select_battles",
]
