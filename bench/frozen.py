"""Frozen coefficients on simulated boards: does a new model's interval cover the truth and the full refit?

Per seed: 6 board models (4,000 battles, one length effect of 0.8 log-odds per unit of the pair feature, 10 %
ties), the board fitted and frozen (anchored at ``old-0`` = 1000); one new model plays ``--new`` battles
against the board and is rated with the board held fixed. Printed: how often the new model's 95 % interval
covers its true rating and the full refit's rating (old + new battles, same anchor), for the frozen interval
(sandwich of the new battles + the board's covariance carried through) and for the interval that treats the
board's values as exact (the sandwich of the new battles alone), with the mean widths.

    python bench/frozen.py [--seeds 200] [--new 600]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stylebias.rating import Design, FitSettings, fit_design  # noqa: E402
from stylebias.rating.fit import Frozen  # noqa: E402
from stylebias.rating.intervals import frozen_sandwich  # noqa: E402
from tests.test_frozen import OLD, TRUTH, concat, simulate  # noqa: E402


def conditional_halfwidth(result, design) -> float:
    """95 % half-width of the new model's rating if the board's values were known exactly (no carried
    covariance): the same frozen sandwich with a zero covariance for the fixed block."""
    bt = result.controlled
    from stylebias.rating.design import encode_models
    from stylebias.rating.likelihood import HalfTies
    from stylebias.rating.solver import PairLayout, Problem

    enc = encode_models(design.model_a, design.model_b, extra=bt.models_)
    order = np.argsort(enc.pair, kind="stable")
    layout = PairLayout.from_sorted(enc.pair[order], enc.pair_a, enc.pair_b, len(enc.models))
    Z = ((design.X.to_numpy() - bt.feature_mean_) / bt.feature_scale_)[order]
    problem = Problem(layout, design.pref_a[order], Z, HalfTies(), bt.reg, None)
    free = np.zeros(len(bt.theta_), dtype=bool)
    free[: len(enc.models)] = [m not in bt.fixed_models_ for m in enc.models]
    V, _ = frozen_sandwich(problem, bt.theta_, free, np.zeros(((~free).sum(), (~free).sum())))
    i, a = enc.models.index("new-b"), enc.models.index("old-0")
    var = V[i, i] + V[a, a] - 2 * V[i, a]
    return 1.959964 * 400 * float(np.sqrt(var))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--new", type=int, default=600)
    a = ap.parse_args()
    settings = FitSettings(features=None, anchor=("old-0", 1000.0), components="refuse")
    t0 = time.process_time()
    hits = {
        "frozen: truth": 0,
        "frozen: full refit": 0,
        "exact board: truth": 0,
        "exact board: full refit": 0,
        "full refit: truth": 0,
    }
    errors = []
    widths = {"frozen": [], "exact board": []}
    for seed in range(a.seeds):
        old = simulate(4000, OLD, seed=10_000 + seed)
        board = fit_design(old, settings)
        new = simulate(a.new, OLD, seed=20_000 + seed, new="new-b")
        design = Design(
            new.model_a, new.model_b, new.pref_a, new.X, frozen=Frozen(board.controlled, board.raw)
        )
        result = fit_design(design, settings)
        full = fit_design(concat(old, new), settings)
        row = result.models.set_index("model").loc["new-b"]
        truth = 1000.0 + 400.0 * (TRUTH["new-b"] - TRUTH["old-0"])
        full_row = full.models.set_index("model").loc["new-b"]
        ref = float(full_row["rating"])
        hits["full refit: truth"] += int(full_row["rating_low"] <= truth <= full_row["rating_high"])
        widths.setdefault("full refit", []).append(float(full_row["rating_high"] - full_row["rating_low"]))
        errors.append(float(row["rating"]) - ref)
        half = conditional_halfwidth(result, new)
        for name, lo, hi in (
            ("frozen", row["rating_low"], row["rating_high"]),
            ("exact board", row["rating"] - half, row["rating"] + half),
        ):
            hits[f"{name}: truth"] += int(lo <= truth <= hi)
            hits[f"{name}: full refit"] += int(lo <= ref <= hi)
            widths[name].append(hi - lo)
    print(
        f"{a.seeds} simulated boards, {a.new} new battles each; CPU {time.process_time() - t0:.0f} s, "
        f"load {os.getloadavg()[0]:.1f}\n"
    )
    print("| interval of the new model | covers the truth | covers the full refit | mean width (Elo) |")
    print("|---|---|---|---|")
    for name in ("frozen", "exact board"):
        print(
            f"| {name} | {hits[name + ': truth'] / a.seeds:.1%} | {hits[name + ': full refit'] / a.seeds:.1%} "
            f"| {np.mean(widths[name]):.1f} |"
        )
    print(
        f"| (the full refit's own interval) | {hits['full refit: truth'] / a.seeds:.1%} | - | "
        f"{np.mean(widths['full refit']):.1f} |"
    )
    print(
        f"\nfrozen minus full-refit rating of the new model: mean {np.mean(errors):+.2f}, "
        f"max |.| {np.max(np.abs(errors)):.2f} Elo"
    )


if __name__ == "__main__":
    main()
