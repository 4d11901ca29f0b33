"""Choose each detector head's n-gram penalty by leave-one-source-out, and judge that choice by nested LOSO.

    python bench/detector_penalty.py                 # all three heads, penalties 4 / 8 / 16 (several minutes)
    python bench/detector_penalty.py --heads flattery

The n-gram penalty (``ngram_l2`` in ``stylebias.extract.detectors.training.HYPERPARAMETERS``) says how often a
phrase must recur before its weight matters; a phrase one source's house style repeats is what transfers worst.
For each head and each penalty this prints the LOSO pooled F1 on the tuning rows (each source judged by a head
fitted without it, thresholds chosen out of source inside the rest, as ``bench/detectors.py`` does) - the figure
the shipped penalty is chosen by - and then **nested LOSO**: for each held-out source, the penalty is chosen by
LOSO over the *other* sources only, refitted there, and judged on the held-out one. Nested LOSO is the honest
figure for "choose the penalty by LOSO": the choice never sees the source it is judged on.

Heads are scored alone (flattery 1 vs 0, refusal-any and full each as its own binary head), which for refusal is
close to, not the same as, ``bench/detectors.py``'s figures (there the two refusal heads make one level). Only
tuning rows are read (``load.training_rows``); no held-out set.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "labels"))

import load as labels  # noqa: E402

from stylebias.extract.detectors.training import (  # noqa: E402
    HYPERPARAMETERS,
    TARGETS,
    featurize,
    fit_head,
    head_samples,
)

PENALTIES = (4.0, 8.0, 16.0)


def f1(gold: list[int], pred: list[bool]) -> float:
    tp = sum(bool(g) and p for g, p in zip(gold, pred, strict=True))
    claimed = sum(pred) + sum(map(bool, gold))
    return 2 * tp / claimed if claimed else 0.0


class Head:
    """One head's LOSO predictions for a given penalty, over any subset of the rows."""

    def __init__(self, name: str, rows: list[dict], feats: list) -> None:
        self.name, self.rows, self.feats = name, rows, feats
        self.samples = head_samples(feats, name)
        self.y = [TARGETS[name](r) for r in rows]

    def fit(self, idx: list[int], penalty: float):
        params = {**HYPERPARAMETERS[self.name], "ngram_l2": penalty}
        return fit_head(self.name, [self.feats[i] for i in idx], [self.rows[i] for i in idx], params)

    def decide(self, model, idx: list[int]) -> list[bool]:
        return [model.decision_function(self.samples[i]) > model.threshold_ for i in idx]

    def loso(self, idx: list[int], penalty: float) -> float:
        """Pooled F1 over ``idx``, each source of it judged by a head fitted on the rest of ``idx``."""
        pred: dict[int, bool] = {}
        for src in sorted({self.rows[i]["source"] for i in idx}):
            train = [i for i in idx if self.rows[i]["source"] != src]
            test = [i for i in idx if self.rows[i]["source"] == src]
            pred.update(zip(test, self.decide(self.fit(train, penalty), test), strict=True))
        return f1([self.y[i] for i in idx], [pred[i] for i in idx])


def choose(head: Head, idx: list[int]) -> tuple[float, dict[float, float]]:
    """The penalty LOSO over ``idx`` prefers (ties: the smaller penalty), with every penalty's figure."""
    scores = {p: head.loso(idx, p) for p in PENALTIES}
    return max(PENALTIES, key=lambda p: (round(scores[p], 4), -p)), scores


def nested(head: Head) -> tuple[float, dict[str, float]]:
    """Nested LOSO pooled F1 of choosing the penalty by LOSO, and the penalty each outer fold chose."""
    everything = list(range(len(head.rows)))
    pred: dict[int, bool] = {}
    picked: dict[str, float] = {}
    for src in sorted({r["source"] for r in head.rows}):
        train = [i for i in everything if head.rows[i]["source"] != src]
        test = [i for i in everything if head.rows[i]["source"] == src]
        picked[src], _ = choose(head, train)
        pred.update(zip(test, head.decide(head.fit(train, picked[src]), test), strict=True))
    return f1(head.y, [pred[i] for i in everything]), picked


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--heads", nargs="+", choices=tuple(TARGETS), default=list(TARGETS))
    args = ap.parse_args()
    rows = labels.training_rows()
    t0 = time.process_time()
    feats = featurize(rows)
    print(
        f"{len(rows)} tuning rows featurized in {time.process_time() - t0:.1f} s CPU; penalties {PENALTIES}"
    )
    for name in args.heads:
        head = Head(name, rows, feats)
        t0 = time.process_time()
        best, scores = choose(head, list(range(len(rows))))
        shipped = HYPERPARAMETERS[name]["ngram_l2"]
        print(f"\n{name}: LOSO pooled F1 by n-gram penalty (shipped {shipped:g})")
        for p, v in scores.items():
            print(f"  {p:>5g}  {v:.3f}{'  <- LOSO picks' if p == best else ''}")
        score, picked = nested(head)
        fixed = scores[shipped] if shipped in scores else float("nan")
        print(
            f"  nested LOSO (penalty chosen without the judged source): {score:.3f}   [shipped penalty: {fixed:.3f}]"
        )
        print("  chosen per held-out source: " + ", ".join(f"{s} {p:g}" for s, p in picked.items()))
        print(f"  ({time.process_time() - t0:.0f} s CPU)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
