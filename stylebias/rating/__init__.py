"""Bradley-Terry ratings with style covariates: fit, intervals, ranks, readable effects.

``StyleBT`` is the estimator; ``rank_battles`` runs the whole raw-vs-controlled comparison on a
:class:`~stylebias.battles.BattleSet` (see ``docs/rating.md``).
"""

from .estimator import StyleBT, effect_sentence
from .pipeline import RankResult, rank_battles, rank_battles_by
from .ranks import lmarena_ranks, shift_arrow

__all__ = [
    "RankResult",
    "StyleBT",
    "effect_sentence",
    "lmarena_ranks",
    "rank_battles",
    "rank_battles_by",
    "shift_arrow",
]
