"""Bradley-Terry ratings with style covariates: fit, intervals, ranks, readable effects."""

from .estimator import StyleBT, effect_sentence
from .ranks import lmarena_ranks, shift_arrow

__all__ = ["StyleBT", "effect_sentence", "lmarena_ranks", "shift_arrow"]
