"""How close `stylebias rank --baseline` lands to Arena-Hard-Auto's ``show_result.py``, and how its controlled
score moves when a model joins the pool.

For each fixture seed (``tests/_arena_hard_fixture.py``: 7 models, ``--questions`` questions, v0.1 and v2
folders) it runs stylebias (default mode and ``--parity``) and the independent restatement of upstream's
script (``tests/_arena_hard_reference.py``, which the research notes checked against upstream itself: equal
to the printed digit for v0.1 plain, within 0.1 points otherwise) and prints the largest |difference| in
win-rate points per case, for the scores and for the interval ends. Then, on the v0.1 folder, it drops one
judged model from the pool and prints how far every other model's score moves: upstream's style-controlled
reading (the pool's average style gap), stylebias's equal-style reading, and a frozen board (``--load``).

    python bench/arena_hard_parity.py [--seeds 7 11 23] [--boot-seeds 0 1] [--questions 80]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stylebias import load_battles  # noqa: E402
from stylebias.rating import FitSettings, rank_battles  # noqa: E402
from stylebias.rating.fit import Frozen  # noqa: E402
from tests import _arena_hard_reference as ref  # noqa: E402
from tests._arena_hard_fixture import build  # noqa: E402

V01_JUDGE, V2_JUDGE = "gpt-4-1106-preview", "gpt-4.1"


def table(result):
    return result.models.set_index("model")


def diff(ours, theirs, pairs, scale=1.0):
    """max |ours - theirs| over models for (our column, their column) pairs (theirs times ``scale``)."""
    worst = 0.0
    for name in theirs.index:
        for a, b in pairs:
            worst = max(worst, abs(float(ours.loc[name, a]) - scale * float(theirs.loc[name, b])))
    return worst


SCORE = [("score", "score")]
CI = [("score_low", "lower"), ("score_high", "upper")]
RAW = [("score_raw", "score")]
RAW_CI = [("score_raw_low", "lower"), ("score_raw_high", "upper")]
V2 = [("score", "scores")]
V2_CI = [("score_low", "lower"), ("score_high", "upper")]
V2_RAW = [("score_raw", "scores")]
V2_RAW_CI = [("score_raw_low", "lower"), ("score_raw_high", "upper")]


def v01_cases(d: str, rows: dict) -> None:
    bs = load_battles([d])
    judgments = ref.load_judgments_v01(d, V01_JUDGE)
    plain = ref.score_v01(ref.battles_v01(judgments), "gpt-4-0314", "plain", 100, 42).table.set_index("model")
    meta = ref.load_metadata_v01(d)
    style = ref.score_v01(ref.battles_v01(judgments, metadata=meta), "gpt-4-0314", "style", 100, 42)
    style = style.table.set_index("model")
    base = FitSettings(features="arena-hard-v0.1", baseline="gpt-4-0314")
    default = table(rank_battles(bs, settings=base))
    parity = table(rank_battles(bs, settings=base.replace(parity="arena-hard-v0.1")))
    for key, value in (
        ("v0.1 plain, default (stylebias's fit)", (diff(default, plain, RAW), None)),
        ("v0.1 plain, --parity arena-hard-v0.1", (diff(parity, plain, RAW), diff(parity, plain, RAW_CI))),
        ("v0.1 style, default (stylebias's fit)", (diff(default, style, SCORE), None)),
        ("v0.1 style, --parity arena-hard-v0.1", (diff(parity, style, SCORE), diff(parity, style, CI))),
    ):
        rows.setdefault(key, []).append(value)


def v2_cases(d: str, boot_seeds: list[int], rows: dict) -> None:
    bs = load_battles([d])
    battles, _ = ref.battles_v2(ref.load_judgments_v2(d, [V2_JUDGE]))
    meta = ref.load_metadata_v2(d)
    for category in ("hard_prompt", "creative_writing"):
        part = bs.select((bs.battles["category"] == category).to_numpy())
        base = FitSettings(features="arena-hard", baseline="auto")
        default = table(rank_battles(part, settings=base))
        exact = ref.score_v2_style(battles, meta, category, seed=0, optimizer="exact").table.set_index(
            "Model"
        )
        rows.setdefault(f"v2 {category} style: reference at the exact optimum vs its torch port", []).append(
            (
                diff(
                    exact,
                    ref.score_v2_style(battles, meta, category, seed=0).table.set_index("Model"),
                    [("scores", "scores")],
                    1.0,
                )
                * 100,
                None,
            )
        )
        for seed in boot_seeds:
            plain = ref.score_v2_plain(battles, category, seed=seed).table.set_index("Model")
            style = ref.score_v2_style(battles, meta, category, seed=seed).table.set_index("Model")
            parity = table(rank_battles(part, settings=base.replace(parity="arena-hard-v2", seed=seed)))
            for key, value in (
                (f"v2 {category} plain, default", (diff(default, plain, V2_RAW, 100), None)),
                (
                    f"v2 {category} plain, --parity arena-hard-v2",
                    (diff(parity, plain, V2_RAW, 100), diff(parity, plain, V2_RAW_CI, 100)),
                ),
                (f"v2 {category} style, default", (diff(default, style, V2, 100), None)),
                (
                    f"v2 {category} style, --parity arena-hard-v2",
                    (diff(parity, style, V2, 100), diff(parity, style, V2_CI, 100)),
                ),
            ):
                rows.setdefault(key, []).append(value)


def pool_move(d: str, moved: dict) -> None:
    """Drop one judged model's judgments: how far do the others' scores move?"""
    work = Path(tempfile.mkdtemp(prefix="ah_pool_"))
    try:
        small = work / "small"
        shutil.copytree(d, small)
        (small / "model_judgment" / V01_JUDGE / "cirrus-verbose-v1.jsonl").unlink()
        s = FitSettings(features="arena-hard-v0.1", baseline="gpt-4-0314")
        full_r = rank_battles(load_battles([d]), settings=s)
        small_r = rank_battles(load_battles([str(small)]), settings=s)
        full, part = table(full_r), table(small_r)
        frozen = rank_battles(
            load_battles([d]),
            settings=s,
            frozen=(Frozen(small_r.controlled, small_r.raw, "bench"), small_r.fit_settings),
        )
        fz = table(frozen)
        others = [m for m in part.index if m != "gpt-4-0314"]
        for key, col, t in (
            ("upstream's reading (score: the pool's average style gap)", "score", full),
            ("equal style (score_equal_style)", "score_equal_style", full),
            ("frozen board (--load), score", "score", fz),
        ):
            moved.setdefault(key, []).append(max(abs(t.loc[m, col] - part.loc[m, col]) for m in others))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[7, 11, 23])
    ap.add_argument("--boot-seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--questions", type=int, default=80)
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    rows: dict = {}
    moved: dict = {}
    t0 = time.process_time()
    for seed in a.seeds:
        out = tempfile.mkdtemp(prefix=f"ah_fixture_{seed}_")
        try:
            build(out, seed=seed, questions=a.questions)
            v01_cases(os.path.join(out, "arena-hard-v0.1"), rows)
            v2_cases(os.path.join(out, "arena-hard-v2.0"), a.boot_seeds, rows)
            pool_move(os.path.join(out, "arena-hard-v0.1"), moved)
        finally:
            shutil.rmtree(out, ignore_errors=True)
    print(
        f"fixtures {a.seeds}, {a.questions} questions, v2 bootstrap seeds {a.boot_seeds}; "
        f"CPU {time.process_time() - t0:.0f} s, load {os.getloadavg()[0]:.1f}"
    )
    print("\n| case | runs | max abs diff, score | max abs diff, CI ends |\n|---|---|---|---|")
    for key, vals in rows.items():
        s = max(v[0] for v in vals)
        c = [v[1] for v in vals if v[1] is not None]
        print(
            f"| {key} | {len(vals)} | {s:.2f} | {max(c):.2f} |"
            if c
            else f"| {key} | {len(vals)} | {s:.2f} | - |"
        )
    print("\nDropping cirrus-verbose-v1 from the v0.1 pool: largest move of another model's score (points)\n")
    print("| reading | " + " | ".join(f"fixture {s}" for s in a.seeds) + " |")
    print("|---|" + "---|" * len(a.seeds))
    for key, vals in moved.items():
        print(f"| {key} | " + " | ".join(f"{v:.2f}" for v in vals) + " |")


if __name__ == "__main__":
    main()
