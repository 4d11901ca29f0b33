"""Agreement between the first and an independent second annotation (220 round-1 items).

    python bench/labels/agreement.py

Prints raw agreement and Cohen's kappa per label. The second annotator never saw the first labels. The first
annotation (after adjudication) is the label everything else uses; this only says how reproducible it is.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent

VIEWS = {
    "flattery": lambda r: r["flattery"],
    "refusal (any)": lambda r: r["refusal"] != "none",
    "refusal (none/partial/full)": lambda r: r["refusal"],
    "full refusal": lambda r: r["refusal"] == "full",
    "emoji": lambda r: r["emoji"],
}


def kappa(a: list, b: list) -> tuple[float, float]:
    """(observed agreement, Cohen's kappa)."""
    n = len(a)
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[k] * cb[k] for k in set(a) | set(b)) / n / n
    return po, (po - pe) / (1 - pe) if pe < 1 else 1.0


def main() -> int:
    first = {r["id"]: r for r in map(json.loads, (HERE / "labels.jsonl").read_text().splitlines())}
    second = [json.loads(line) for line in (HERE / "second_opinion.jsonl").read_text().splitlines() if line]
    print(f"{len(second)} items labelled twice, independently")
    print(f"{'label':<30} {'agreement':>9} {'kappa':>6}  disagreements")
    for name, view in VIEWS.items():
        a = [view(first[s["id"]]) for s in second]
        b = [view(s) for s in second]
        po, k = kappa(a, b)
        diff = [s["id"] for s, x, y in zip(second, a, b, strict=True) if x != y]
        print(f"{name:<30} {po:>9.3f} {k:>6.3f}  {' '.join(diff)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
