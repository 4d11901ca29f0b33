"""Bradley-Terry ratings with style covariates: fit, intervals, ranks, readable effects.

``FitSettings`` holds every choice of a fit; ``fit_design`` is the one fit path (thin models, component
policy, raw and style-controlled fits) and ``rank_battles`` runs it on a
:class:`~stylebias.battles.BattleSet` or a battle table; ``StyleBT`` is the estimator of one connected graph
(see ``docs/rating.md`` and ``docs/architecture.md``).
"""

from .estimator import StyleBT, effect_sentence
from .fit import Design, component_policy, fit_design
from .pipeline import rank_battles, rank_battles_by
from .ranks import lmarena_ranks, shift_arrow
from .result import RankResult
from .settings import FitSettings

__all__ = [
    "Design",
    "FitSettings",
    "RankResult",
    "StyleBT",
    "component_policy",
    "effect_sentence",
    "fit_design",
    "lmarena_ranks",
    "rank_battles",
    "rank_battles_by",
    "shift_arrow",
]
