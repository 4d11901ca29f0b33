"""Agreement between the first and an independent second annotation.

    python bench/labels/agreement.py

Round 1: 220 random round-1 items (`second_opinion.jsonl`). Round 4: 120 `holdout2` items, all 75 red-team
chats (`hh_rlhf_harmless`) and 45 random others (`second_opinion_round4.jsonl`), labelled blind after the set
had been scored; reported overall and for the red-team chats alone. Prints raw agreement and Cohen's kappa per
label, the disagreeing ids, and for round 4 each disagreement with both labels. The second annotators never saw
the first labels. The first annotation (after adjudication) is the label everything else uses; this only says
how reproducible it is.
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
LABELS = ("flattery", "refusal", "emoji")


def kappa(a: list, b: list) -> tuple[float, float]:
    """(observed agreement, Cohen's kappa); kappa is 1.0 when both sides are constant and equal."""
    n = len(a)
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[k] * cb[k] for k in set(a) | set(b)) / n / n
    return po, (po - pe) / (1 - pe) if pe < 1 else 1.0


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def table(title: str, first: dict[str, dict], second: list[dict]) -> None:
    print(f"\n{title}: {len(second)} items labelled twice, independently")
    print(f"{'label':<30} {'agreement':>9} {'kappa':>6}  {'pos 1st/2nd':>11}  disagreements")
    for name, view in VIEWS.items():
        a = [view(first[s["id"]]) for s in second]
        b = [view(s) for s in second]
        po, k = kappa(a, b)
        pos = "" if name == "refusal (none/partial/full)" else f"{sum(map(bool, a))}/{sum(map(bool, b))}"
        diff = [s["id"] for s, x, y in zip(second, a, b, strict=True) if x != y]
        print(f"{name:<30} {po:>9.3f} {k:>6.3f}  {pos:>11}  {' '.join(diff)}")


def label_line(r: dict) -> str:
    return f"flattery {r['flattery']} refusal {r['refusal']} emoji {r['emoji']}"


def main() -> int:
    first = {r["id"]: r for r in read_jsonl(HERE / "labels.jsonl")}
    round1 = read_jsonl(HERE / "second_opinion.jsonl")
    table("Round 1 (random round-1 rows)", first, round1)

    round4 = read_jsonl(HERE / "second_opinion_round4.jsonl")
    if len({s["id"] for s in round4}) != len(round4):
        raise SystemExit("second_opinion_round4.jsonl: an id occurs twice")
    missing = [s["id"] for s in round4 if s["id"] not in first]
    if missing:
        raise SystemExit(f"second_opinion_round4.jsonl: ids not in labels.jsonl: {missing}")
    not_holdout2 = [s["id"] for s in round4 if first[s["id"]]["split"] != "holdout2"]
    if not_holdout2:
        raise SystemExit(f"second_opinion_round4.jsonl: ids outside holdout2: {not_holdout2}")
    table("Round 4 (holdout2: all red-team chats + random others)", first, round4)
    hh = [s for s in round4 if first[s["id"]]["source"] == "hh_rlhf_harmless"]
    table("Round 4, hh_rlhf_harmless alone", first, hh)
    others = [s for s in round4 if first[s["id"]]["source"] != "hh_rlhf_harmless"]
    table("Round 4, the other sources", first, others)

    print("\nRound 4 disagreements (id, source, first, second)")
    for s in round4:
        f = first[s["id"]]
        if any(f[k] != s[k] for k in LABELS):
            print(f"{s['id']}  {f['source']:<26} first: {label_line(f):<40} second: {label_line(s)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
