"""Results that look like answers but are not: said first and loudly, never printed as a normal table.

Three things make a ranking degenerate, and each becomes a :class:`ResultProblem` (kind + sentence):

* ``rejected``: more than :data:`MAX_REJECTED_SHARE` of the input records were rejected, so the ranking
  describes a remnant of the data (typically a vote column whose labels were not mapped: only the rows
  whose label happened to be canonical survive);
* ``equal_ratings``: every model of a component (or ``--by`` group) has the same rating, which the votes
  say nothing about who is better (all ties, say) and a table of 1000.0 with zero-width intervals would
  look like an answer;
* ``skipped``: a component or group could not be fitted at all; its reason is named.

The CLI prints them before any table and exits with code 3; ``--json`` carries them under ``problems``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..battles import BattleSet

#: Default largest share of rejected input records a command accepts before calling the result degenerate
#: (the CLI's ``--max-rejected``).
MAX_REJECTED_SHARE = 0.5
#: Ratings whose spread (max − min, Elo) is below this are "all equal" (they print as one number).
EQUAL_RATINGS_ELO = 0.05


@dataclass(frozen=True)
class ResultProblem:
    """One reason a result should not be read as a ranking: ``kind`` (``rejected``, ``equal_ratings``,
    ``skipped``), where it applies (a group or component, or ``None`` for the whole input) and a sentence."""

    kind: str
    message: str
    where: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def rejected_problem(data: BattleSet, max_rejected: float = MAX_REJECTED_SHARE) -> ResultProblem | None:
    """A problem when more than ``max_rejected`` of the records read were rejected, naming the top reasons."""
    if not data.read or data.rejected / data.read <= max_rejected:
        return None
    reasons = data.reject_reasons().groupby("reason", sort=False)["count"].sum()
    reasons = reasons.sort_values(ascending=False, kind="stable")
    top = "; ".join(f"{reason} ({count:,})" for reason, count in reasons.head(3).items())
    if len(reasons):  # one full reject of the commonest kind, which usually names the fix
        kinds = data.rejects["reason"].astype(str).str.split(":").str[0]
        top += f" — e.g. {str(data.rejects['reason'][kinds == reasons.index[0]].iloc[0])!r}"
    return ResultProblem(
        "rejected",
        f"{data.rejected:,} of {data.read:,} records ({data.rejected / data.read:.0%}) were rejected, more "
        f"than --max-rejected {max_rejected:.0%}: the result describes what is left, not the input. Top "
        f"reasons: {top}. `stylebias validate` lists every reject.",
    )


def equal_ratings_problems(controlled: Any, raw: Any = None, where: str | None = None) -> list[ResultProblem]:
    """A problem when every model of one fit has the same controlled (or raw) rating: the votes do not tell
    the models apart (every battle a tie or a 50/50 preference, or wins and losses exactly balanced)."""
    fits = {"controlled": controlled}
    if raw is not None and raw is not controlled:
        fits["raw"] = raw
    flat = [
        name
        for name, fit in fits.items()
        if fit.n_models_ > 1 and float(np.ptp(fit.ratings_.to_numpy())) < EQUAL_RATINGS_ELO
    ]
    if not flat:
        return []
    value = float(fits[flat[0]].ratings_.iloc[0])
    return [
        ResultProblem(
            "equal_ratings",
            f"all {controlled.n_models_} models have the same {' and '.join(flat)} rating ({value:.1f}): the "
            "votes do not tell them apart (every battle a tie or a 50/50 preference, or wins and losses "
            "exactly balanced), so the table ranks nothing.",
            where,
        )
    ]


def result_problems(
    result: Any,
    data: BattleSet | None = None,
    max_rejected: float = MAX_REJECTED_SHARE,
    where: str | None = None,
) -> list[ResultProblem]:
    """Every problem of one ranking (:class:`~stylebias.rating.RankResult`, all its components): the reject
    share of ``data`` (when given), equal ratings per component, components that were skipped."""
    out: list[ResultProblem] = []
    if data is not None:
        rejected = rejected_problem(data, max_rejected)
        if rejected is not None:
            out.append(rejected)
    parts = result.all_parts()
    for part in parts:
        label = _join(
            where, f"component {part.component + 1}" if len(parts) + len(result.skipped) > 1 else None
        )
        out.extend(equal_ratings_problems(part.controlled, part.raw, label))
    for s in result.skipped:
        out.append(
            ResultProblem(
                "skipped",
                f"not rated ({s['models']} models, {s['battles']:,} battles): {s['reason']}",
                _join(where, f"component {s['component']}"),
            )
        )
    return out


def grouped_problems(
    grouped: Any, data: BattleSet, max_rejected: float = MAX_REJECTED_SHARE
) -> list[ResultProblem]:
    """Every problem of a ``rank --by`` run (:class:`~stylebias.rating.pipeline.GroupedRanks`)."""
    out: list[ResultProblem] = []
    rejected = rejected_problem(data, max_rejected)
    if rejected is not None:
        out.append(rejected)
    for value, result in grouped.groups:
        where = None if grouped.column is None else f"{grouped.column} = {value}"
        if isinstance(result, str):
            out.append(ResultProblem("skipped", f"not rated: {result}", where))
        else:
            out.extend(result_problems(result, None, max_rejected, where))
    return out


def fit_problems(
    model: Any, data: BattleSet, max_rejected: float = MAX_REJECTED_SHARE
) -> list[ResultProblem]:
    """The problems of ``stylebias fit``: the reject share and equal ratings of the fitted ``StyleBT``."""
    rejected = rejected_problem(data, max_rejected)
    return ([] if rejected is None else [rejected]) + equal_ratings_problems(model)


def _join(*labels: str | None) -> str | None:
    kept = [label for label in labels if label]
    return ", ".join(kept) or None
