"""stylebias: measure how much style (length, markdown, emoji, flattery, refusals) buys votes in pairwise
LLM leaderboards, and rank models with it stripped out.

The data flow is one line: ``load_battles`` -> ``pair_features`` -> fit (Bradley-Terry with style
covariates) -> explain (LightGBM + SHAP) -> report. Names are imported lazily so ``import stylebias`` and the
CLI start fast and heavy libraries (spaCy, LightGBM, SHAP, matplotlib) load only when used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "BattleSet": "stylebias.battles",
    "validate_battles": "stylebias.rows",
    "load_battles": "stylebias.formats",
    "DataError": "stylebias.errors",
    "UsageError": "stylebias.errors",
    "StyleBiasError": "stylebias.errors",
    "StyleBiasWarning": "stylebias.errors",
    "pair_features": "stylebias.extract",
    "response_features": "stylebias.extract",
    "resolve_features": "stylebias.extract",
    "FEATURE_SETS": "stylebias.extract",
    "StyleBT": "stylebias.rating",
    "rank_battles": "stylebias.rating",
    "RankResult": "stylebias.rating",
    "read_leaderboard": "stylebias.leaderboards",
    "compare_leaderboards": "stylebias.leaderboards",
    "rerank_leaderboard": "stylebias.rerank",
    "RerankResult": "stylebias.rerank",
    "read_score_board": "stylebias.rerank",
    "read_model_outputs": "stylebias.rerank",
    "save_stylebt": "stylebias.rating.persist",
    "load_stylebt": "stylebias.rating.persist",
    "FittedStyleModel": "stylebias.rating.persist",
    "StyleControl": "stylebias.plugin",
    "to_contextual_pairs": "stylebias.plugin",
    "explain_battles": "stylebias.explain",
    "ExplainResult": "stylebias.explain",
    "VoteModel": "stylebias.explain",
    "save_vote_model": "stylebias.explain",
    "load_vote_model": "stylebias.explain",
}

__all__ = sorted([*_LAZY, "__version__"])


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'stylebias' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
