"""Accuracy of the style detectors against hand labels: precision, recall, F1 per label.

    python bench/detectors.py [--labels ../shared/data/labels/dev.jsonl] [--errors] [--json out.json]

Labels (see ``labels/README.md`` for the rubric): ``flattery`` 0/1, ``refusal`` none/partial/full, ``emoji``
0/1. Reported rows: flattery (1 vs 0), refusal_any (partial or full vs none), refusal_full (full vs the rest),
refusal_partial, and emoji accuracy. Also per source, because the sources differ in style (AlpacaEval answers
vs Anthropic HH red-team replies), and the two halves of the file (odd/even line) as a stability check.

The detectors are rules, not a fitted model, so there is no train/test split to report; the per-source and
per-half rows show how much the numbers move between subsets. Targets: flattery F1 >= 0.85, refusal_any
F1 >= 0.85, refusal_full F1 >= 0.90, emoji accuracy >= 0.99.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stylebias.extract import response_features  # noqa: E402

TARGETS = {
    "flattery": ("f1", 0.85),
    "refusal_any": ("f1", 0.85),
    "refusal_full": ("f1", 0.90),
    "emoji": ("acc", 0.99),
}


def prf(gold: list[bool], pred: list[bool]) -> dict[str, float]:
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    fp = sum((not g) and p for g, p in zip(gold, pred, strict=True))
    fn = sum(g and not p for g, p in zip(gold, pred, strict=True))
    tn = len(gold) - tp - fp - fn
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "n": len(gold),
        "pos": tp + fn,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "p": p,
        "r": r,
        "f1": f,
        "acc": (tp + tn) / max(len(gold), 1),
    }


def evaluate(rows: list[dict], feats) -> dict[str, dict[str, float]]:
    g_ref = [r["refusal"] for r in rows]
    p_ref = list(feats["refusal"])
    return {
        "flattery": prf([bool(r["flattery"]) for r in rows], [bool(v) for v in feats["flattery"]]),
        "refusal_any": prf([g != "none" for g in g_ref], [p != "none" for p in p_ref]),
        "refusal_full": prf([g == "full" for g in g_ref], [p == "full" for p in p_ref]),
        "refusal_partial": prf([g == "partial" for g in g_ref], [p == "partial" for p in p_ref]),
        "emoji": prf([bool(r["emoji"]) for r in rows], [v > 0 for v in feats["emoji_count"]]),
    }


def table(title: str, res: dict[str, dict[str, float]]) -> str:
    lines = [
        f"\n{title}",
        f"{'label':<16}{'n':>5}{'pos':>5}{'TP':>5}{'FP':>5}{'FN':>5}{'P':>8}{'R':>8}{'F1':>8}{'acc':>8}",
    ]
    for name, m in res.items():
        lines.append(
            f"{name:<16}{m['n']:>5}{m['pos']:>5}{m['tp']:>5}{m['fp']:>5}{m['fn']:>5}"
            f"{m['p']:>8.3f}{m['r']:>8.3f}{m['f1']:>8.3f}{m['acc']:>8.3f}"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--labels", type=Path, default=ROOT.parent / "shared" / "data" / "labels" / "dev.jsonl")
    ap.add_argument("--errors", action="store_true", help="list every disagreement with the labels")
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    args = ap.parse_args()

    rows = [json.loads(line) for line in args.labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    t0 = time.perf_counter()
    feats = response_features(
        [r["response"] for r in rows],
        [r["prompt"] for r in rows],
        features=["flattery", "refusal", "emoji_count"],
        cache=False,
    )
    dt = time.perf_counter() - t0
    print(f"{args.labels}: {len(rows)} labelled responses, extracted in {dt:.1f}s")
    overall = evaluate(rows, feats)
    print(table("all", overall))

    by_source: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_source[r["source"]].append(i)
    by_source["half_odd_lines"] = list(range(0, len(rows), 2))
    by_source["half_even_lines"] = list(range(1, len(rows), 2))
    subsets = {}
    for name, idx in by_source.items():
        sub = evaluate([rows[i] for i in idx], feats.iloc[idx].reset_index(drop=True))
        subsets[name] = sub
        print(table(f"subset: {name}", {k: v for k, v in sub.items() if k != "refusal_partial"}))

    print("\ntargets:")
    ok = True
    for name, (metric, target) in TARGETS.items():
        val = overall[name][metric]
        flag = "met" if val >= target else "NOT MET"
        ok &= val >= target
        print(f"  {name:<14} {metric} {val:.3f} (target >= {target}) {flag}")

    if args.errors:
        print("\ndisagreements:")
        for i, r in enumerate(rows):
            pf, pr, pe = int(feats["flattery"][i]), feats["refusal"][i], int(feats["emoji_count"][i] > 0)
            if pf != r["flattery"] or pr != r["refusal"] or pe != r["emoji"]:
                print(
                    f"  {r['id']} [{r['source']}] flattery {r['flattery']}->{pf} refusal {r['refusal']}->{pr} "
                    f"emoji {r['emoji']}->{pe} | {r['response'][:100]!r}"
                )
    if args.json:
        args.json.write_text(json.dumps({"all": overall, "subsets": subsets}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
