"""Interval coverage of StyleBT on simulations with known truth (prints the table in docs/rating.md).

    python bench/coverage.py                       # 1000 sandwich sims, 100 bootstrap sims x 100 rounds
    python bench/coverage.py --sandwich 200 --bootstrap 20 --rounds 50   # quicker

Each simulation: 5 models (base-10 ratings 0.25, 0.1, 0, -0.1, -0.25), 2 style features (gamma 0.35, -0.2),
800 battles (600 for the bootstrap), 30 % ties whose expected score is exactly sigma(eta), so the half-tie
model is correctly specified in the mean. A parameter is covered when its 95 % interval contains the truth.
The same simulator with fewer repetitions is asserted in tests/test_rating_intervals.py (90-99 %).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy.special import expit

from stylebias.rating import StyleBT

LN10 = math.log(10)
NAMES = np.array([f"m{i}" for i in range(5)])
BETA = np.array([0.25, 0.1, 0.0, -0.1, -0.25])
GAMMA = np.array([0.35, -0.2])


def draw(rng: np.random.Generator, n: int, tie_rate: float = 0.3):
    a = rng.integers(0, 5, n)
    b = (a + rng.integers(1, 5, n)) % 5
    X = rng.normal(size=(n, 2)) * [3.0, 0.7]
    z = (X - X.mean(0)) / X.std(0)
    p = expit(LN10 * (BETA[a] - BETA[b]) + z @ GAMMA)
    q = np.clip((p - tie_rate / 2) / (1 - tie_rate), 0, 1)
    y = np.where(rng.random(n) < tie_rate, 0.5, (rng.random(n) < q).astype(float))
    return NAMES[a], NAMES[b], y, X


def covered(fit: StyleBT) -> np.ndarray:
    truth = 1000 + 400 * BETA
    r = (fit.rating_low_.to_numpy() <= truth) & (truth <= fit.rating_high_.to_numpy())
    c = (fit.coef_low_ <= GAMMA) & (GAMMA <= fit.coef_high_)
    return np.concatenate([r, c])


def run(label: str, sims: int, n: int, seed: int, **params: object) -> None:
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    hits = np.array(
        [covered(StyleBT(**params).fit(*draw(rng, n), ["length", "markdown"])) for _ in range(sims)]
    )
    per = hits.mean(axis=0)
    print(
        f"| {label} | {sims} ({n} battles) | {100 * hits.mean():.1f} % | "
        f"{100 * per.min():.1f}–{100 * per.max():.1f} % | {time.perf_counter() - t0:.0f} s |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sandwich", type=int, default=1000, help="sandwich simulations")
    ap.add_argument("--bootstrap", type=int, default=100, help="bootstrap simulations")
    ap.add_argument("--rounds", type=int, default=100, help="bootstrap replicates per simulation")
    args = ap.parse_args()
    print("| interval | simulations | coverage (7 parameters) | per parameter | time |")
    print("|---|---|---|---|---|")
    run("sandwich", args.sandwich, 800, 2024)
    if args.bootstrap:
        run(
            f"bootstrap, {args.rounds} rounds",
            args.bootstrap,
            600,
            77,
            ci="bootstrap",
            rounds=args.rounds,
            n_jobs=1,
        )


if __name__ == "__main__":
    main()
