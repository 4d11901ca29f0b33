"""Style features of LLM responses and of battles.

* :func:`response_features` - one row per response: verbosity, markdown structure, emoji, flattery, refusal,
  tone (see ``features/README.md`` for every definition);
* :func:`pair_features` - one antisymmetric row per battle, the style covariates of the rating fit;
* :func:`resolve_features` / :data:`FEATURE_SETS` - feature names and named sets (``lmarena``, ``full``);
  :func:`resolve_spec` - what a request such as ``"auto"`` means for given battles.

Everything runs offline: the tokenizer ranks, syllable dictionary and sentiment lexicon come from installed
packages, and the detectors are rule-based spaCy pipelines whose patterns live as YAML in ``features/``.
"""

from __future__ import annotations

from .core import EXTRACTOR_VERSION, extract_batch, extract_one
from .pairs import pair_features, pair_values
from .registry import FEATURE_SETS, FEATURES, REFUSAL_LEVELS, Feature, resolve_features, resolve_spec
from .runner import iter_response_features, response_features

__all__ = [
    "EXTRACTOR_VERSION",
    "FEATURES",
    "FEATURE_SETS",
    "Feature",
    "REFUSAL_LEVELS",
    "extract_batch",
    "extract_one",
    "iter_response_features",
    "pair_features",
    "pair_values",
    "resolve_features",
    "resolve_spec",
    "response_features",
]
