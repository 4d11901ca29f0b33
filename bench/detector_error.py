"""What one more layer of the detectors' measured error does to the style effects they feed.

    python bench/detector_error.py                    # 50 replicates on the embedded AlpacaEval demo
    python bench/detector_error.py --replicates 200 --seed 1

The flattery and refusal pair features come from detectors that are right only so often out of source
(``bench/detectors.py``). A covariate read with error biases its own coefficient - mostly toward 0 - and can
move the others. This measures by how much, on the embedded AlpacaEval demo (14,436 battles, the ``style``
set): the shipped detectors' per-side labels are drawn again ``--replicates`` times through the confusion the
detectors showed **leave-one-source-out** on the 3,442 tuning rows (P(detector says j | label i), per head:
refusal none / partial / full, flattery no / yes; the ``loso`` counts of ``models/detectors/confusion.json``,
written by ``bench/detector_confusion.py``), the pair features recomputed from the drawn labels and
Bradley-Terry + style refitted. Printed per feature: the coefficient as fitted (per SD of its pair feature, and
per unit), the mean and the 2.5-97.5 % range over the replicates, and their ratio.

So the ratio is what one more layer of that error does to an effect. It is the attenuation of the effects
users read only if that error describes the demo's answers - and it does not: the demo's detectors say
flattery and full refusal less often than those error rates alone would (``stylebias detector-error
--misclassification loso`` refuses the demo for that reason; its default, stratified measurement does describe
it). The correction itself, with that check, intervals and a simulation of how well it recovers a planted
effect, is ``stylebias detector-error`` (``bench/simex_validation.py``).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from stylebias import load_battles, rank_battles  # noqa: E402
from stylebias.rating import FitSettings  # noqa: E402
from stylebias.rating.pipeline import prepare  # noqa: E402
from stylebias.rating.simex import (  # noqa: E402
    DETECTOR_LEVELS,
    detector_sides,
    load_misclassification,
    redraw_sides,
    with_detector_columns,
)
from stylebias.resources import demo_dir  # noqa: E402

LEVELS = DETECTOR_LEVELS["refusal"]
SHOWN = ("refusal", "flattery", "tokens", "bold_count", "list_count")


def loso_confusions() -> dict[str, np.ndarray]:
    """The refusal (3 x 3) and flattery (2 x 2) confusions of the leave-one-source-out predictions."""
    return load_misclassification("loso").matrices


def effects(bs, pf: pd.DataFrame) -> pd.DataFrame:
    """Bradley-Terry + style on these pair features: each feature's coefficient per SD and per unit."""
    res = rank_battles(bs, features=pf)
    table = res.features.set_index("name")
    return pd.DataFrame({"coef": table["coef"], "per_unit": table["coef"] / table["feature_sd"]})


def redrawn_effects(
    bs, pf: pd.DataFrame, sides: dict, matrices: dict, rng: np.random.Generator
) -> pd.DataFrame:
    """The effects once both sides' refusal and flattery labels are re-drawn through ``matrices``."""
    return effects(bs, with_detector_columns(pf, redraw_sides(sides, matrices, rng)))


def print_confusions(matrices: dict[str, np.ndarray]) -> None:
    refusal_m, flattery_m = matrices["refusal"], matrices["flattery"]
    print("leave-one-source-out confusion on the tuning rows, P(detector says column | label row):")
    print("  refusal " + "  ".join(f"{v:>8}" for v in LEVELS))
    for name, row in zip(LEVELS, refusal_m, strict=True):
        print(f"  {name:<7} " + "  ".join(f"{x:>8.3f}" for x in row))
    print(f"  flattery: P(1 | 0) = {flattery_m[0, 1]:.3f}, P(1 | 1) = {flattery_m[1, 1]:.3f}")


def print_one_more_layer(fitted: pd.DataFrame, draws: list[pd.DataFrame]) -> None:
    print(
        f"{'feature':<12} {'fitted':>8} {'re-drawn mean (2.5-97.5 %)':>30} {'ratio':>6}   per unit: fitted, re-drawn, ratio"
    )
    for name in SHOWN:
        coef = np.array([d.loc[name, "coef"] for d in draws])
        unit = np.array([d.loc[name, "per_unit"] for d in draws])
        lo, hi = np.percentile(coef, [2.5, 97.5])
        f, u = fitted.loc[name, "coef"], fitted.loc[name, "per_unit"]
        print(
            f"{name:<12} {f:>+8.3f} {coef.mean():>+12.3f} ({lo:+.3f} to {hi:+.3f}) {coef.mean() / f:>6.2f}"
            f"   {u:+.3f}, {unit.mean():+.3f}, {unit.mean() / u:.2f}"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicates", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    warnings.simplefilter("ignore")  # the demo's one non-Latin answer warns on every fit
    t0 = time.process_time()
    matrices = loso_confusions()
    print_confusions(matrices)
    bs = load_battles(demo_dir() / "alpaca_eval_ae2_demo.json.xz")
    settings = FitSettings(features="style")
    prep = prepare(bs, "style", settings)
    pf = prep.design_features
    # both sides' labels, checked to rebuild the extractor's own pair features; refusal first, as drawn before
    sides = detector_sides(prep, ["refusal", "flattery"], settings)
    fitted = effects(bs, pf)
    rng = np.random.default_rng(args.seed)
    draws = [redrawn_effects(bs, pf, sides, matrices, rng) for _ in range(args.replicates)]
    print(
        f"\n{len(bs.battles):,} demo battles, 'style' set; {args.replicates} re-draws (seed {args.seed}); "
        f"{time.process_time() - t0:.0f} s CPU"
    )
    print_one_more_layer(fitted, draws)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
