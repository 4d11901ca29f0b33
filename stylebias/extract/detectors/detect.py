"""The shipped flattery and refusal detectors: rule signals scored by small learned classifiers.

The rules (``features/*.yaml``) say *what* fired in which sentence; the classifiers (``models/detectors/*.json``,
plain JSON weights fitted by ``bench/train_detectors.py`` on the dev split of the hand labels) say how much each
signal counts and where the decision threshold lies:

* flattery: one pooled logistic over the scored units (:mod:`.model`). ``flattery`` is 1 when the reply's logit
  reaches the threshold; ``flattery_count`` counts the units that reach it on their own (at least 1 when
  ``flattery`` is 1).
* refusal: two heads over the same signals, ``any`` (partial or full vs none) and ``full`` (full vs the rest).
  ``refusal`` is ``full`` when the full head fires, else ``partial`` when the any head fires, else ``none``;
  ``refusal_score`` is the logistic of the larger head margin (logit minus threshold), so it is above 0.5
  exactly when ``refusal`` is not ``none``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .model import PooledLogistic
from .refusal import analyse
from .signals import flattery_sample, refusal_sample
from .units import Prepared

#: folder under ``models/`` holding ``flattery.json`` and ``refusal.json``
MODEL_FOLDER = "detectors"
SCHEMA = 1


@dataclass(frozen=True)
class DetectorModels:
    flattery: PooledLogistic
    refusal_any: PooledLogistic
    refusal_full: PooledLogistic
    path: Path


#: the files of the two detector models (the folder also holds their measured misclassification, which is no
#: part of what they say and so no part of the feature cache key)
MODEL_FILES = ("flattery.json", "refusal.json")


def model_path(folder: str | None = None) -> Path:
    from ...resources import models_dir

    return Path(folder) if folder else models_dir() / MODEL_FOLDER


def model_files(folder: str | None = None) -> list[Path]:
    """The JSON files the detectors load (part of every feature cache key: a refit invalidates cached values)."""
    try:
        path = model_path(folder)
    except FileNotFoundError:
        return []
    return [path / name for name in MODEL_FILES if (path / name).exists()]


def _read(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"detector model {path} not found: the flattery/refusal detectors need it (rebuild with "
            "python bench/train_detectors.py, or reinstall the package)"
        ) from None
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"{path}: detector model schema {doc.get('schema')!r}, this code reads {SCHEMA}")
    return doc


@cache
def load_models(folder: str | None = None) -> DetectorModels:
    """The two detector models (cached per process)."""
    path = model_path(folder)
    fl, rf = (_read(path / name) for name in MODEL_FILES)
    return DetectorModels(
        flattery=PooledLogistic.from_dict(fl["heads"]["flattery"]),
        refusal_any=PooledLogistic.from_dict(rf["heads"]["any"]),
        refusal_full=PooledLogistic.from_dict(rf["heads"]["full"]),
        path=path,
    )


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0


# ------------------------------------------------------------------------------------------------ flattery
def flattery_decision(m: PooledLogistic, sample: Any) -> tuple[float, list[float], int]:
    """``(reply logit, per-unit logits alone, count)`` of a flattery sample."""
    base = m.response_part(sample.response)
    scores = [m.unit_score(u) for u in sample.units]
    logit = base + m.pool(scores)
    alone = [base + m.pool([s]) for s in scores]
    count = sum(x >= m.threshold_ for x in alone)
    if logit >= m.threshold_:
        count = max(count, 1)
    return logit, alone, count


def detect_flattery(prose: str, prompt: str | None = None, prep: Prepared | None = None) -> dict[str, Any]:
    """``flattery_count`` and ``flattery`` (0/1) of one reply's prose."""
    if prep is None:
        prep = Prepared(prose)
    _logit, _alone, count = flattery_decision(load_models().flattery, flattery_sample(prep, prompt))
    return {"flattery_count": count, "flattery": int(count > 0)}


# ------------------------------------------------------------------------------------------------ refusal
def refusal_decision(models: DetectorModels, sample: Any) -> tuple[str, float, float, float]:
    """``(level, score, any logit, full logit)`` of a refusal sample."""
    s = sample.as_tuple()
    la = models.refusal_any.decision_function(s)
    lf = models.refusal_full.decision_function(s)
    ma, mf = la - models.refusal_any.threshold_, lf - models.refusal_full.threshold_
    level = "full" if mf >= 0 else "partial" if ma >= 0 else "none"
    return level, _sigmoid(max(ma, mf)), la, lf


def detect_refusal(prose: str, prompt: str | None = None, prep: Prepared | None = None) -> dict[str, Any]:
    """``refusal`` (none/partial/full) and ``refusal_score`` of one reply's prose."""
    if prep is None:
        prep = Prepared(prose)
    level, score, _la, _lf = refusal_decision(load_models(), refusal_sample(prep, prompt))
    return {"refusal": level, "refusal_score": score}


# ------------------------------------------------------------------------------------------------ explain
def explain_detection(text: str, prompt: str | None = None, top: int = 6) -> dict[str, Any]:
    """Everything ``stylebias detect`` prints: per unit what fired and how it scored, per detector the decision
    and why. ``text`` is a whole reply (code blocks are removed first, as in extraction)."""
    from ..markdown import strip_fenced_code

    prose = strip_fenced_code(text)[0]
    prep = Prepared(prose)
    models = load_models()
    fs = flattery_sample(prep, prompt)
    a = analyse(prose, prompt, prep)
    rs = refusal_sample(prep, prompt, a)
    f_logit, f_alone, f_count = flattery_decision(models.flattery, fs)
    level, score, la, lf = refusal_decision(models, rs)
    fpos = {i: k for k, i in enumerate(fs.unit_index)}
    rpos = {i: k for k, i in enumerate(rs.unit_index)}

    def weighted(m: PooledLogistic, sig: list[str]) -> list[tuple[str, float]]:
        w = m.unit_weights_
        got = sorted(((s, w[s]) for s in set(sig) if s in w), key=lambda t: -abs(t[1]))
        return [(s, round(v, 3)) for s, v in got[:top]]

    units = []
    for i, u in enumerate(prep.units):
        row: dict[str, Any] = {"index": i, "text": u}
        if i in fpos:
            sig = fs.units[fpos[i]]
            row["flattery"] = {
                "patterns": [s[3:] for s in sig if s.startswith("fr:") and not s.startswith("fr:any")],
                "score": round(models.flattery.unit_score(sig), 3),
                "reply_logit_alone": round(f_alone[fpos[i]], 3),
                "fires": f_alone[fpos[i]] >= models.flattery.threshold_,
                "top_signals": weighted(models.flattery, sig),
            }
        if i in rpos:
            sig = rs.units[rpos[i]]
            row["refusal"] = {
                "patterns": [s[3:] for s in sig if s.startswith("rr:")],
                "labels": sorted(a.labels[i]) if a.labels else [],
                "removed_by_scope": sorted(a.raw_labels[i] - a.labels[i]) if a.raw_labels else [],
                "score_any": round(models.refusal_any.unit_score(sig), 3),
                "score_full": round(models.refusal_full.unit_score(sig), 3),
                "top_signals_any": weighted(models.refusal_any, sig),
            }
        units.append(row)

    def response_signals(m: PooledLogistic, z: dict[str, float]) -> list[tuple[str, float]]:
        got = [(k, m.response_weights_[k] * v) for k, v in z.items() if k in m.response_weights_]
        return [(k, round(v, 3)) for k, v in sorted(got, key=lambda t: -abs(t[1]))[:top]]

    fm = models.flattery
    f_reason = (
        f"reply logit {f_logit:.2f} >= threshold {fm.threshold_:.2f}"
        if f_count
        else f"reply logit {f_logit:.2f} < threshold {fm.threshold_:.2f}"
    )
    if f_count:
        best = max(range(len(f_alone)), key=f_alone.__getitem__)
        f_reason += f"; strongest unit {fs.unit_index[best]}"
    ra, rf = models.refusal_any, models.refusal_full
    r_reason = (
        f"full head {lf:.2f} vs threshold {rf.threshold_:.2f}; any head {la:.2f} vs {ra.threshold_:.2f}; "
        f"rule table: {a.level} ({a.reason})"
    )
    return {
        "units": units,
        "flattery": {
            "flattery": int(f_count > 0),
            "flattery_count": f_count,
            "logit": round(f_logit, 3),
            "threshold": round(fm.threshold_, 3),
            "context": response_signals(fm, fs.response),
            "reason": f_reason,
        },
        "refusal": {
            "refusal": level,
            "refusal_score": round(score, 4),
            "logit_any": round(la, 3),
            "logit_full": round(lf, 3),
            "threshold_any": round(ra.threshold_, 3),
            "threshold_full": round(rf.threshold_, 3),
            "rule_table": {"level": a.level, "reason": a.reason, "content_words": a.content_words},
            "context_any": response_signals(ra, rs.response),
            "context_full": response_signals(rf, rs.response),
            "reason": r_reason,
        },
        "model": str(models.path),
    }
