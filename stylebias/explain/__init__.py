"""Explain why a model won: a vote model chosen by nested cross-validation, its attribution, intervals.

* :func:`explain_battles` -> :class:`ExplainResult` (per-model observed / style-neutral win rates, points each
  style group bought or cost with prompt-bootstrap intervals, held-out scores next to baselines, the
  Bradley-Terry view of the same numbers and where the two disagree; :meth:`ExplainResult.model_card` is the
  data of one "why it won" card);
* :class:`VoteModel` - the fitted model (``predict_proba``, ``contributions``), saved and loaded without pickle
  by :func:`save_vote_model` / :func:`load_vote_model` (kind ``"vote-model"``);
* :mod:`stylebias.explain.plots` - matplotlib figures (beeswarm, attribution bars, length dependence,
  calibration, raw-vs-controlled forest plot).

Method and measured figures: ``docs/explain.md``.
"""

from __future__ import annotations

from .api import explain_battles, select_battles
from .persist import data_description, load_vote_model, save_vote_model
from .result import ExplainResult
from .votemodel import DEFAULT_PARAMS, VoteModel

__all__ = [
    "DEFAULT_PARAMS",
    "ExplainResult",
    "VoteModel",
    "data_description",
    "explain_battles",
    "load_vote_model",
    "save_vote_model",
    "select_battles",
]
