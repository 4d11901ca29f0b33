"""Fitting the detector classifiers on hand-labelled replies (used by ``bench/train_detectors.py`` and the
leave-one-source-out evaluation in ``bench/detectors.py``).

A labelled row is ``{source, prompt, response, flattery, refusal, ...}``. :func:`featurize` turns rows into the
samples of :mod:`.signals`; :func:`fit_heads` fits the three heads (flattery, refusal any, refusal full). Every
head's threshold is chosen on *out-of-group* scores: the rows are split by source, each source is scored by a
model fitted on the others, and the threshold maximising F1 on those scores is kept; then the weights are fitted
on all rows. So nothing learned - weights or thresholds - has seen the rows it is judged on when an outer
evaluation holds a whole source out as well.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .detect import SCHEMA, DetectorModels, flattery_decision, refusal_decision
from .model import PooledLogistic, best_threshold
from .signals import Sample, flattery_sample, refusal_sample
from .units import Prepared

#: targets of the three heads
TARGETS: dict[str, Callable[[Mapping[str, Any]], int]] = {
    "flattery": lambda r: int(r["flattery"] == 1),
    "any": lambda r: int(r["refusal"] != "none"),
    "full": lambda r: int(r["refusal"] == "full"),
}
#: hyper-parameters per head. The n-gram penalty is the one leave-one-source-out prefers among 4 / 8 / 16 on the
#: tuning rows (``bench/detector_penalty.py``, which also judges that choice by nested LOSO): a phrase must recur
#: more before it counts for flattery and any refusal, where house phrases of one source transferred worst; the
#: rest was fixed before the LOSO runs (see docs/features.md)
HYPERPARAMETERS: dict[str, dict[str, float]] = {
    "flattery": {"sharpness": 4.0, "l2": 0.5, "ngram_l2": 16.0, "min_df": 5, "min_sources": 2},
    "any": {"sharpness": 4.0, "l2": 0.5, "ngram_l2": 16.0, "min_df": 5, "min_sources": 2},
    "full": {"sharpness": 4.0, "l2": 0.5, "ngram_l2": 4.0, "min_df": 5, "min_sources": 2},
}


@dataclass
class Featurized:
    """The samples of one labelled row for both detectors."""

    flattery: Sample
    refusal: Sample


def featurize_one(response: str, prompt: str | None) -> Featurized:
    from ..markdown import strip_fenced_code

    prep = Prepared(strip_fenced_code(response)[0])
    return Featurized(flattery_sample(prep, prompt), refusal_sample(prep, prompt))


def featurize(rows: Sequence[Mapping[str, Any]]) -> list[Featurized]:
    return [featurize_one(r["response"], r["prompt"]) for r in rows]


def head_samples(feats: Sequence[Featurized], head: str) -> list[tuple[Any, Any]]:
    """The samples one head reads: the flattery samples for ``flattery``, the refusal ones for ``any`` and ``full``."""
    return [(f.flattery if head == "flattery" else f.refusal).as_tuple() for f in feats]


def out_of_source_scores(
    samples: Sequence[Any],
    y: Sequence[int],
    groups: Sequence[str],
    params: Mapping[str, float],
    weigh: Callable[[Sequence[str]], Sequence[float]] | None = None,
) -> list[float]:
    """Every sample's logit from a head fitted without its source (one fit per source): the scores a threshold
    is chosen on, so that it is set as it will be used - on answers of sources the weights never saw.
    ``weigh`` maps the sources of the rows being fitted to their sample weights (``None``: all 1)."""
    oof = [0.0] * len(samples)
    for g in sorted(set(groups)):
        tr = [i for i, s in enumerate(groups) if s != g]
        held = [i for i, s in enumerate(groups) if s == g]
        tr_groups = [groups[i] for i in tr]
        m = PooledLogistic(**params).fit(
            [samples[i] for i in tr], [y[i] for i in tr], tr_groups, weigh(tr_groups) if weigh else None
        )
        for i, score in zip(held, m.decision_many([samples[i] for i in held]), strict=True):
            oof[i] = score
    return oof


def fit_head(
    head: str,
    feats: Sequence[Featurized],
    rows: Sequence[Mapping[str, Any]],
    params: Mapping[str, float] | None = None,
    weigh: Callable[[Sequence[str]], Sequence[float]] | None = None,
) -> PooledLogistic:
    """Weights on all rows, threshold from out-of-source scores (one fit per source). ``weigh``: sample weights
    from the rows' sources, as in :func:`out_of_source_scores` (the shipped heads weigh every row 1)."""
    hp = dict(HYPERPARAMETERS[head] if params is None else params)
    samples = head_samples(feats, head)
    y = [TARGETS[head](r) for r in rows]
    groups = [r["source"] for r in rows]
    model = PooledLogistic(**hp).fit(samples, y, groups, weigh(groups) if weigh else None)
    several = len(set(groups)) > 1
    oof = out_of_source_scores(samples, y, groups, hp, weigh) if several else model.decision_many(samples)
    model.threshold_ = best_threshold(oof, y)
    return model


def fit_heads(
    feats: Sequence[Featurized],
    rows: Sequence[Mapping[str, Any]],
    weigh: Callable[[Sequence[str]], Sequence[float]] | None = None,
) -> DetectorModels:
    from pathlib import Path

    return DetectorModels(
        flattery=fit_head("flattery", feats, rows, weigh=weigh),
        refusal_any=fit_head("any", feats, rows, weigh=weigh),
        refusal_full=fit_head("full", feats, rows, weigh=weigh),
        path=Path("<fitted in memory>"),
    )


def predict(models: DetectorModels, feats: Sequence[Featurized]) -> list[dict[str, Any]]:
    """``{flattery, flattery_count, refusal, refusal_score}`` per featurized row."""
    out = []
    for f in feats:
        _l, _a, count = flattery_decision(models.flattery, f.flattery)
        level, score, la, lf = refusal_decision(models, f.refusal)
        out.append(
            {
                "flattery": int(count > 0),
                "flattery_count": count,
                "refusal": level,
                "refusal_score": score,
                # margins of the two refusal heads (logit minus threshold), for error analysis
                "margin_any": la - models.refusal_any.threshold_,
                "margin_full": lf - models.refusal_full.threshold_,
            }
        )
    return out


def model_documents(models: DetectorModels, about: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The two JSON documents written to ``models/detectors/`` (``about``: training data and figures)."""
    return {
        "flattery.json": {
            "schema": SCHEMA,
            "detector": "flattery",
            **about,
            "heads": {"flattery": models.flattery.to_dict()},
        },
        "refusal.json": {
            "schema": SCHEMA,
            "detector": "refusal",
            **about,
            "heads": {"any": models.refusal_any.to_dict(), "full": models.refusal_full.to_dict()},
        },
    }
