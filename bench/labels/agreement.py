"""Agreement between the first and an independent second annotation.

    python bench/labels/agreement.py

Round 1: 220 random round-1 items (`second_opinion.jsonl`). Round 4: 120 `holdout2` items, all 75 red-team
chats (`hh_rlhf_harmless`) and 45 random others (`second_opinion_round4.jsonl`), labelled blind after the set
had been scored; reported overall and for the red-team chats alone. Round 5: all 100 red-team chats of
`holdout3` (`second_opinion_round5.jsonl`), labelled blind before the set was scored. Round 6: all 120 red-team
chats of `holdout4` (`second_opinion_round6.jsonl`), the same way; round 7: all 150 of `holdout5`
(`second_opinion_round7.jsonl`), the same way; round 8: all 150 of `holdout6` (`second_opinion_round8.jsonl`),
reserved, so only its agreement figures are shown. The grey zone: every tuning row outside the
red-team chats whose reply opens (first 400 characters) with an "As an AI ..." / "I can't / I don't have ..."
line followed by "but / however / instead" within 600 characters (`second_opinion_grey.jsonl`, 112 rows chosen by
that pattern alone, not by any label or detector output), labelled blind: how reproducible the rubric's
disclaimer-beside-the-answer versus substitute boundary is. The validation sample (``validation.jsonl``): its
225 rows in the strata the detectors call a refusal or flattering, labelled blind again
(``second_opinion_validation.jsonl``). Prints raw agreement and
Cohen's kappa per label, the second annotation's F1 against the first (the figure a detector is judged by), the
disagreeing ids, and for rounds 4 and 5 each disagreement with both labels. The
second annotators never saw the first labels. The first annotation (after adjudication) is the label everything
else uses; this only says how reproducible it is.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import load  # noqa: E402

VIEWS = {
    "flattery": lambda r: r["flattery"],
    "refusal (any)": lambda r: r["refusal"] != "none",
    "refusal (none/partial/full)": lambda r: r["refusal"],
    "full refusal": lambda r: r["refusal"] == "full",
    "emoji": lambda r: r["emoji"],
}
LABELS = ("flattery", "refusal", "emoji")
#: the late held-out sets with a blind second annotation of their red-team chats: round -> split
LATE_ROUNDS = {4: "holdout2", 5: "holdout3", 6: "holdout4", 7: "holdout5", 8: "holdout6"}
#: every blind second annotation in this folder and what its rows are (the one list: ``bench/detectors.py``'s
#: human-ceiling table reads it too)
SECOND_OPINIONS = (
    ("second_opinion.jsonl", "round 1, random rows"),
    ("second_opinion_grey.jsonl", "tuning rows with an 'As an AI / I can't ... but' line"),
    ("second_opinion_round4.jsonl", "holdout2: red-team chats + random others"),
    *(
        (f"second_opinion_round{rnd}.jsonl", f"{split}: red-team chats")
        for rnd, split in LATE_ROUNDS.items()
        if rnd > 4
    ),
)


def kappa(a: list, b: list) -> tuple[float, float]:
    """(observed agreement, Cohen's kappa); kappa is 1.0 when both sides are constant and equal."""
    n = len(a)
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[k] * cb[k] for k in set(a) | set(b)) / n / n
    return po, (po - pe) / (1 - pe) if pe < 1 else 1.0


def f1_score(gold: list[bool], pred: list[bool]) -> float:
    """F1 of ``pred`` against ``gold``; 1.0 when neither has a positive (nothing to find, nothing claimed)."""
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    denom = sum(gold) + sum(pred)
    return 2 * tp / denom if denom else 1.0


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def table(title: str, first: dict[str, dict], second: list[dict], show_ids: bool = True) -> None:
    print(f"\n{title}: {len(second)} items labelled twice, independently")
    print(f"{'label':<30} {'agreement':>9} {'kappa':>6} {'F1':>6}  {'pos 1st/2nd':>11}  disagreements")
    for name, view in VIEWS.items():
        a = [view(first[s["id"]]) for s in second]
        b = [view(s) for s in second]
        po, k = kappa(a, b)
        graded = name == "refusal (none/partial/full)"
        pos = "" if graded else f"{sum(map(bool, a))}/{sum(map(bool, b))}"
        f1 = "" if graded else f"{f1_score(list(map(bool, a)), list(map(bool, b))):.3f}"
        diff = [s["id"] for s, x, y in zip(second, a, b, strict=True) if x != y]
        shown = " ".join(diff) if show_ids else f"({len(diff)}; ids not shown: reserved set)"
        print(f"{name:<30} {po:>9.3f} {k:>6.3f} {f1:>6}  {pos:>11}  {shown}")


def label_line(r: dict) -> str:
    return f"flattery {r['flattery']} refusal {r['refusal']} emoji {r['emoji']}"


def second_opinion(first: dict[str, dict], name: str) -> list[dict]:
    """The rows of a second-opinion file, checked: unique ids, each one a labelled row."""
    second = read_jsonl(HERE / name)
    if len({s["id"] for s in second}) != len(second):
        raise SystemExit(f"{name}: an id occurs twice")
    missing = [s["id"] for s in second if s["id"] not in first]
    if missing:
        raise SystemExit(f"{name}: ids not in labels.jsonl: {missing}")
    return second


def disagreements(title: str, first: dict[str, dict], second: list[dict]) -> None:
    print(f"\n{title} disagreements (id, source, first, second)")
    for s in second:
        f = first[s["id"]]
        if any(f[k] != s[k] for k in LABELS):
            print(f"{s['id']}  {f['source']:<26} first: {label_line(f):<40} second: {label_line(s)}")


def late_round(first: dict[str, dict], rnd: int, split: str, reserved: bool = False) -> None:
    """A second opinion on a late held-out set: overall, red-team chats alone, the rest, and each disagreement -
    for a reserved set (``load.RESERVED``, kept for a design not yet written) the agreement figures only, no id
    or label, so reading them tells its future designer nothing about single rows."""
    name = f"second_opinion_round{rnd}.jsonl"
    second = second_opinion(first, name)
    outside = [s["id"] for s in second if first[s["id"]]["split"] != split]
    if outside:
        raise SystemExit(f"{name}: {len(outside)} ids outside {split}")
    table(f"Round {rnd} ({split})", first, second, show_ids=not reserved)
    hh = [s for s in second if first[s["id"]]["source"] == "hh_rlhf_harmless"]
    others = [s for s in second if first[s["id"]]["source"] != "hh_rlhf_harmless"]
    if others:
        table(f"Round {rnd}, hh_rlhf_harmless alone", first, hh, show_ids=not reserved)
        table(f"Round {rnd}, the other sources", first, others, show_ids=not reserved)
    if not reserved:
        disagreements(f"Round {rnd}", first, second)


def main() -> int:
    first = {r["id"]: r for r in read_jsonl(HERE / "labels.jsonl")}
    round1 = read_jsonl(HERE / "second_opinion.jsonl")
    table("Round 1 (random round-1 rows)", first, round1)

    for rnd, split in LATE_ROUNDS.items():
        late_round(first, rnd, split, reserved=split in load.RESERVED)
    grey = second_opinion(first, "second_opinion_grey.jsonl")
    if any(first[s["id"]]["split"] != "dev" for s in grey):
        raise SystemExit("second_opinion_grey.jsonl: the grey-zone study reads tuning rows only")
    table("Grey zone ('As an AI / I can't ... but' tuning rows)", first, grey)
    disagreements("Grey zone", first, grey)
    validation_sample()
    return 0


def validation_sample() -> None:
    """The validation sample's rows in the strata the detectors call refusal or flattery, labelled again blind
    (``second_opinion_validation.jsonl``): how reproducible the labels its measurement rests on are."""
    first = {r["id"]: r for r in read_jsonl(load.VALIDATION)}
    second = read_jsonl(HERE / "second_opinion_validation.jsonl")
    if len({s["id"] for s in second}) != len(second) or any(s["id"] not in first for s in second):
        raise SystemExit("second_opinion_validation.jsonl: ids must be validation rows, each once")
    table("Validation sample, strata called a refusal or flattering", first, second)


if __name__ == "__main__":
    raise SystemExit(main())
