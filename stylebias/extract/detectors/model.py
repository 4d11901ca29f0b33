"""A small learned scorer over sentence-level signals: logistic regression with soft-max pooling over units.

A response is a bag of sentence units, each described by named binary signals (pattern hits, position, word
n-grams...), plus a few response-level signals (prompt context, length). The response's logit is

    logit = bias + v . z  +  (1/r) log(1 + sum_i exp(r * w . x_i))

the second term a smooth maximum over the units' scores ``w . x_i`` and a null unit scoring 0, so a unit can
only add evidence and one strong unit decides (r = :attr:`PooledLogistic.sharpness`). The labels are per
response, not per sentence (multiple-instance learning); the pooling lets the fit find *which* sentence
carried the evidence, and :meth:`PooledLogistic.explain` reports it per unit.

Fitted by L-BFGS (scipy) on the L2-penalised log loss; n-gram weights are penalised harder than the named
signals, so a phrase has to recur to matter. Saved as plain JSON (weights by name, no pickle), read back with
:meth:`PooledLogistic.from_dict`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

#: a sample: (unit signal sets, response signals {name: value})
Sample = tuple[Sequence[Sequence[str]], Mapping[str, float]]

_ZEROS = repeat(0.0)

#: prefix of the word n-gram signals (weighted with ``ngram_l2``; selected by document frequency)
NGRAM_PREFIX = "ng:"


@dataclass
class PooledLogistic:
    """Logistic regression over soft-max-pooled unit scores (see module doc). scikit-learn conventions."""

    sharpness: float = 4.0
    l2: float = 1.0
    ngram_l2: float = 8.0
    min_df: int = 5
    min_sources: int = 2
    max_iter: int = 400
    #: fitted: unit signal weights, response signal weights, bias, decision threshold on the logit
    unit_weights_: dict[str, float] = field(default_factory=dict)
    response_weights_: dict[str, float] = field(default_factory=dict)
    bias_: float = 0.0
    threshold_: float = 0.0

    # ------------------------------------------------------------------------------------------- fitting
    def fit(
        self,
        samples: Sequence[Sample],
        y: Sequence[int],
        groups: Sequence[str] | None = None,
        sample_weight: Sequence[float] | None = None,
    ) -> PooledLogistic:
        """Fit the weights (threshold untouched: see :func:`best_threshold`).

        ``groups`` (the source of each sample) gates the n-gram vocabulary: an n-gram is a signal only when it
        occurs in at least ``min_df`` responses from at least ``min_sources`` groups, so a phrase one source's
        house style repeats cannot become a feature.
        """
        import numpy as np
        from scipy import optimize, sparse

        vocab = self._vocabulary(samples, groups)
        names = sorted(vocab)
        col = {n: i for i, n in enumerate(names)}
        znames = sorted({k for _, z in samples for k in z})
        zcol = {n: i for i, n in enumerate(znames)}
        rows, cols, owner = [], [], []
        u = 0
        for j, (units, _z) in enumerate(samples):
            for unit in units:
                idx = {col[s] for s in unit if s in col}
                rows.extend([u] * len(idx))
                cols.extend(idx)
                owner.append(j)
                u += 1
        n, d, dz = len(samples), len(names), len(znames)
        X = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(u, d))
        Z = np.zeros((n, dz))
        for j, (_units, z) in enumerate(samples):
            for k, v in z.items():
                Z[j, zcol[k]] = v
        owner_a = np.asarray(owner, dtype=np.int64)
        yv = np.asarray(y, dtype=float)
        cw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        pen = np.array([self.ngram_l2 if nm.startswith(NGRAM_PREFIX) else self.l2 for nm in names])
        r = self.sharpness

        def loss_grad(theta: Any) -> tuple[float, Any]:
            w, v, b = theta[:d], theta[d : d + dz], theta[-1]
            s = X @ w if u else np.zeros(0)
            rs = r * s
            # per-response max of (0, r*s_i) for a stable log-sum-exp with the null unit
            m = np.zeros(n)
            if u:
                np.maximum.at(m, owner_a, rs)
            e = np.exp(rs - m[owner_a]) if u else np.zeros(0)
            denom = np.exp(-m) + np.bincount(owner_a, weights=e, minlength=n)
            pool = (m + np.log(denom)) / r
            logit = b + Z @ v + pool
            p = 1.0 / (1.0 + np.exp(-logit))
            ll = np.logaddexp(0.0, logit) - yv * logit
            g = cw * (p - yv)
            a = e / denom[owner_a] if u else np.zeros(0)
            gw = X.T @ (g[owner_a] * a) + 2 * pen * w
            gv = Z.T @ g + 2 * self.l2 * v
            f = float(cw @ ll + (pen * w * w).sum() + self.l2 * (v * v).sum())
            return f, np.concatenate([gw, gv, [g.sum()]])

        theta0 = np.zeros(d + dz + 1)
        prior = min(max(float(np.average(yv, weights=cw)), 1e-4), 1 - 1e-4)
        theta0[-1] = math.log(prior / (1 - prior))
        res = optimize.minimize(
            loss_grad, theta0, jac=True, method="L-BFGS-B", options={"maxiter": self.max_iter}
        )
        th = res.x
        self.unit_weights_ = {nm: float(th[i]) for i, nm in enumerate(names) if abs(th[i]) >= 1e-4}
        self.response_weights_ = {
            nm: float(th[d + i]) for i, nm in enumerate(znames) if abs(th[d + i]) >= 1e-4
        }
        self.bias_ = float(th[-1])
        return self

    def _vocabulary(self, samples: Sequence[Sample], groups: Sequence[str] | None) -> set[str]:
        df: Counter[str] = Counter()
        srcs: dict[str, set[str]] = {}
        for j, (units, _z) in enumerate(samples):
            seen = {s for unit in units for s in unit}
            df.update(seen)
            if groups is not None:
                for s in seen:
                    if s.startswith(NGRAM_PREFIX):
                        srcs.setdefault(s, set()).add(groups[j])
        keep = set()
        for s, c in df.items():
            if not s.startswith(NGRAM_PREFIX):
                keep.add(s)
            elif c >= self.min_df and (groups is None or len(srcs.get(s, ())) >= self.min_sources):
                keep.add(s)
        return keep

    # ------------------------------------------------------------------------------------------- scoring
    def unit_score(self, unit: Sequence[str]) -> float:
        return sum(map(self.unit_weights_.get, unit, _ZEROS))

    def response_part(self, z: Mapping[str, float]) -> float:
        w = self.response_weights_
        return self.bias_ + sum(w[k] * v for k, v in z.items() if k in w)

    def pool(self, scores: Sequence[float]) -> float:
        r = self.sharpness
        m = max(0.0, *(r * s for s in scores)) if scores else 0.0
        return (m + math.log(math.exp(-m) + sum(math.exp(r * s - m) for s in scores))) / r

    def decision_function(self, sample: Sample) -> float:
        units, z = sample
        return self.response_part(z) + self.pool([self.unit_score(x) for x in units])

    def decision_many(self, samples: Sequence[Sample]) -> list[float]:
        return [self.decision_function(s) for s in samples]

    def explain(self, sample: Sample) -> dict[str, Any]:
        """Per-unit scores with each signal's weight, the response-level part, the logit and the decision."""
        units, z = sample
        w, rw = self.unit_weights_, self.response_weights_
        per_unit = [
            {"score": self.unit_score(x), "signals": {s: w[s] for s in sorted(x) if s in w}} for x in units
        ]
        logit = self.decision_function(sample)
        return {
            "units": per_unit,
            "response": {k: rw[k] * v for k, v in sorted(z.items()) if k in rw and v},
            "bias": self.bias_,
            "logit": logit,
            "probability": 1.0 / (1.0 + math.exp(-logit)),
            "threshold": self.threshold_,
            "positive": logit >= self.threshold_,
        }

    # ------------------------------------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "pooled-logistic",
            "sharpness": self.sharpness,
            "bias": round(self.bias_, 6),
            "threshold": round(self.threshold_, 6),
            "hyperparameters": {
                "l2": self.l2,
                "ngram_l2": self.ngram_l2,
                "min_df": self.min_df,
                "min_sources": self.min_sources,
            },
            "response_weights": {k: round(v, 5) for k, v in sorted(self.response_weights_.items())},
            "unit_weights": {k: round(v, 5) for k, v in sorted(self.unit_weights_.items())},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PooledLogistic:
        if d.get("kind") != "pooled-logistic":
            raise ValueError(f"not a pooled-logistic model (kind {d.get('kind')!r})")
        hp = d.get("hyperparameters", {})
        m = cls(
            sharpness=float(d["sharpness"]),
            **{k: hp[k] for k in ("l2", "ngram_l2", "min_df", "min_sources") if k in hp},
        )
        m.bias_ = float(d["bias"])
        m.threshold_ = float(d["threshold"])
        m.unit_weights_ = {str(k): float(v) for k, v in d["unit_weights"].items()}
        m.response_weights_ = {str(k): float(v) for k, v in d["response_weights"].items()}
        return m


def best_threshold(logits: Sequence[float], y: Sequence[int]) -> float:
    """The logit cut that maximises F1 on (out-of-fold) scores: midway between the two scores around it."""
    pairs = sorted(zip(logits, y, strict=True), key=lambda t: -t[0])
    pos = sum(y)
    if not pairs or pos == 0:
        return 0.0
    best_f, best_i, tp = -1.0, 0, 0
    for i, (_s, lab) in enumerate(pairs):
        tp += lab
        f = 2 * tp / (i + 1 + pos)
        if f > best_f and (i + 1 == len(pairs) or pairs[i + 1][0] < pairs[i][0]):
            best_f, best_i = f, i
    hi = pairs[best_i][0]
    lo = pairs[best_i + 1][0] if best_i + 1 < len(pairs) else hi - 1.0
    return (hi + lo) / 2
