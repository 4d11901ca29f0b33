"""Measure how often the flattery and refusal detectors say each label given the hand label; write
``models/detectors/confusion.json`` (read by ``stylebias detector-error``).

    python bench/detector_confusion.py [--out models/detectors/confusion.json]

A covariate read with error biases the effects it feeds; correcting for that (MC-SIMEX,
``stylebias.rating.simex``) needs the misclassification: per detector, counts of (hand label, detector label).
Four measurements are written, as plain counts so a reader sees how many replies each row rests on:

* ``validation`` (the correction's default): the shipped detectors on benchmark answers, a sample drawn
  **stratified by what they say** and labelled blind (``bench/labels/validation.py``), kept per stratum with the
  strata's population sizes - two-phase sampling measures a rare label's error where random draws hold almost
  none of it. Also printed: each head's F1 in that population, with Dirichlet intervals.
* ``random``: every reply drawn **at random** and labelled by detectors that never saw it - the held-out sets'
  by the shipped detectors, the tuning rows' by detectors fitted without their source (pooled and per source).
  A reply enriched for likely positives is easier than a random positive and a hard negative harder than a
  random negative, so of the unstratified measurements only random draws estimate P(detector says j | label i)
  for ordinary answers.
* ``held_out``: the random part from the held-out sets alone (the shipped detectors exactly; mostly red-team
  chats, since later held-out rounds drew from them).
* ``loso``: leave-one-source-out predictions on all 3,442 tuning rows: more replies per cell, but half of them
  drawn enriched, so its false-positive rates are too high for ordinary answers.

Nothing here tunes a detector: the held-out sets are read the way the final report reads them, to measure;
a reserved set is never read.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._scripts import load_script  # noqa: E402

detectors = load_script("detectors")

from stylebias.extract.detectors.detect import load_models  # noqa: E402
from stylebias.extract.detectors.training import featurize, predict  # noqa: E402
from stylebias.rating.simex import (  # noqa: E402
    DETECTOR_LEVELS,
    load_misclassification,
    stratified_joint,
)

labels = detectors.labels


def counts(rows: list[dict], preds: list[dict], name: str) -> list[list[int]]:
    """``[i][j]`` = replies hand-labelled ``levels[i]`` that the detector labels ``levels[j]``."""
    levels = DETECTOR_LEVELS[name]
    index = {v: k for k, v in enumerate(levels)}
    out = [[0] * len(levels) for _ in levels]
    for r, p in zip(rows, preds, strict=True):
        out[index[_label(r, name)]][index[_label(p, name)]] += 1
    return out


def _label(d: dict, name: str) -> str:
    v = d[name]
    return v if name == "refusal" else ("yes" if int(v) == 1 else "no")


def measurement(rows: list[dict], preds: list[dict]) -> dict:
    """Counts per detector, pooled and per source."""
    by_source: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_source[r["source"]].append(i)
    out = {}
    for name in DETECTOR_LEVELS:
        out[name] = {
            "pooled": counts(rows, preds, name),
            "by_source": {
                s: counts([rows[i] for i in idx], [preds[i] for i in idx], name)
                for s, idx in sorted(by_source.items())
            },
        }
    return {"rows": len(rows), "by_source_rows": {s: len(i) for s, i in sorted(by_source.items())}, **out}


def held_out() -> tuple[list[dict], list[dict], list[str]]:
    """The random draws of every held-out set a final report scores, labelled by the shipped detectors."""
    shipped = load_models()
    splits = list(detectors.final_splits())
    rows = [
        r for s in splits for r in labels.held_out_rows(s, final_report=True) if r.get("drawn") == "random"
    ]
    return rows, predict(shipped, featurize(rows)), splits


def loso() -> tuple[list[dict], list[dict]]:
    """Every tuning row with the label of detectors fitted without its source."""
    rows = labels.training_rows()
    preds, _ = detectors.loso(rows, featurize(rows))
    return rows, preds


def stratified(rows: list[dict], preds: list[dict], sizes: dict[str, int]) -> dict:
    """A sample stratified by ``rows[r]["stratum"]`` (``sizes``: each stratum's population size), kept as per
    stratum (hand label, detector label) counts: ``stylebias.rating.simex`` weights each stratum by its size
    and draws each one's shares from its own counts, so a stratum of many answers and few labels (the plain
    one) carries its own, large uncertainty. ``pooled`` is the plain sample total, for reading."""
    drawn = Counter(r["stratum"] for r in rows)
    out = {}
    for name in DETECTOR_LEVELS:
        by = {h: counts([r for r in rows if r["stratum"] == h], [p for r, p in zip(rows, preds, strict=True)
                                                                 if r["stratum"] == h], name)
              for h in sizes}  # fmt: skip
        out[name] = {"pooled": counts(rows, preds, name), "by_stratum": by}
    return {"rows": len(rows), "strata": {h: {"size": sizes[h], "drawn": drawn[h]} for h in sizes}, **out}


def f1(joint: np.ndarray, head: str) -> float:
    """F1 of one head from a (label, detector label) table: flattery yes; refusal any (partial or full) or full."""
    pos = {"flattery": [1], "any": [1, 2], "full": [2]}[head]
    neg = [k for k in range(joint.shape[0]) if k not in pos]
    tp, fp, fn = joint[np.ix_(pos, pos)].sum(), joint[np.ix_(neg, pos)].sum(), joint[np.ix_(pos, neg)].sum()
    return float(2 * tp / (2 * tp + fp + fn))


def population_f1(path: Path, basis: str = "validation", draws: int = 2000, seed: int = 20261202) -> dict:
    """Each head's F1 in the population a stratified measurement (of the file ``path``) stands for, with a
    95 % interval from ``draws`` draws of every stratum's shares (Dirichlet(counts + 1/2))."""
    mis = load_misclassification(basis, path)
    rng = np.random.default_rng(seed)
    out = {}
    for head, label in (("flattery", "flattery"), ("any", "refusal"), ("full", "refusal")):
        strata = mis.strata[label]
        point = f1(stratified_joint(strata, lambda c: c / c.sum()), head)
        drawn = [f1(stratified_joint(strata, lambda c: rng.dirichlet(c.ravel()).reshape(c.shape)), head)
                 for _ in range(draws)]  # fmt: skip
        out[head] = (point, *np.percentile(drawn, [2.5, 97.5]))
    return out


def validation() -> tuple[list[dict], list[dict], dict]:
    """The stratified validation sample (``bench/labels/validation.py``), labelled by the shipped detectors."""
    design = json.loads(labels.VALIDATION_DESIGN.read_text(encoding="utf-8"))
    rows = labels.validation_rows(final_report=True)
    return rows, predict(load_models(), featurize(rows)), design


def random_draws(rows: list[dict], preds: list[dict]) -> tuple[list[dict], list[dict]]:
    keep = [i for i, r in enumerate(rows) if r.get("drawn") == "random"]
    return [rows[i] for i in keep], [preds[i] for i in keep]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "models" / "detectors" / "confusion.json")
    args = ap.parse_args()
    t0 = time.process_time()
    ho_rows, ho_preds, splits = held_out()
    lo_rows, lo_preds = loso()
    rnd_rows, rnd_preds = random_draws(lo_rows, lo_preds)
    va_rows, va_preds, design = validation()
    doc = {
        "schema": 1,
        "what": "counts of (hand label, detector label) per detector: rows are the hand label, columns what "
        "the detector says, in the order of 'levels'",
        "date": date.today().isoformat(),
        "command": "python bench/detector_confusion.py",
        "levels": {k: list(v) for k, v in DETECTOR_LEVELS.items()},
        "measurements": {
            "validation": {
                "how": f"{len(va_rows)} benchmark answers (every source but the red-team chats; "
                f"{design['population_size']:,} unlabelled answers) drawn stratified by the shipped detectors' "
                "labels and labelled blind (bench/labels/validation.py); each stratum weighted by its size",
                **stratified(va_rows, va_preds, {h: v["size"] for h, v in design["strata"].items()}),
            },
            "random": {
                "how": "replies drawn at random, each labelled by detectors that never saw it: the held-out "
                f"sets' ({', '.join(splits)}) by the shipped ones, the tuning rows' by detectors fitted "
                "without their source",
                **measurement(ho_rows + rnd_rows, ho_preds + rnd_preds),
            },
            "held_out": {
                "how": "the shipped detectors on the random draws of the held-out sets "
                f"{', '.join(splits)} (answers to prompts no tuning row holds; never tuned on)",
                **measurement(ho_rows, ho_preds),
            },
            "loso": {
                "how": "leave-one-source-out on all tuning rows: each source labelled by detectors fitted "
                "without it (half the rows drawn enriched for likely positives and hard negatives, which "
                "biases the error rates)",
                **measurement(lo_rows, lo_preds),
            },
        },
    }
    args.out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    for basis, m in doc["measurements"].items():
        print(
            f"{basis}: {m['rows']} rows; refusal {m['refusal']['pooled']}; flattery {m['flattery']['pooled']}"
        )
    print(f"wrote {args.out} in {time.process_time() - t0:.0f} s CPU")
    print("F1 of the shipped detectors on benchmark answers (validation, weighted to its population): " + ", ".join(
        f"{h} {p:.3f} ({lo:.2f}-{hi:.2f})" for h, (p, lo, hi) in population_f1(args.out).items()))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
