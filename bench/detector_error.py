"""What the detectors' measured error does to the style effects they feed.

    python bench/detector_error.py                    # 50 replicates on the embedded AlpacaEval demo
    python bench/detector_error.py --replicates 200 --seed 1 --simex-replicates 50

The flattery and refusal pair features come from detectors that are right only so often out of source
(``bench/detectors.py``). A covariate read with error biases its own coefficient - mostly toward 0 - and can
move the others. This measures by how much, on the embedded AlpacaEval demo (14,436 battles, the ``style``
set): the shipped detectors' per-side labels are taken as the truth, then drawn again ``--replicates`` times
through the confusion the detectors showed **leave-one-source-out** on the 3,442 tuning rows (P(detector says j
| label i), per head: refusal none / partial / full, flattery 0 / 1), the pair features recomputed from the drawn
labels and Bradley-Terry + style refitted. Printed per feature: the coefficient as fitted (per SD of its pair
feature, and per unit), the mean and the 2.5-97.5 % range over the replicates, and their ratio.

So the ratio is what one more layer of detector-sized error does to an effect; read the other way, a reported
flattery or refusal effect is roughly the true one times that ratio. Then **MC-SIMEX** (Küchenhoff, Mwalili and
Lesaffre, Biometrics 2006, the simulation-extrapolation method for misclassified categorical covariates): the
labels are re-drawn through the confusion raised to the powers 0.5, 1, 1.5 and 2 (eigen-decomposition), the
per-unit coefficient fitted at each level of added error, and a quadratic in the power extrapolated back to -1,
where no error is left - an estimate of the effect a perfect detector would give. Both rest on the same
assumptions: the errors do not depend on the vote and are like those on the labelled rows (whose sources the
demo's models resemble only in part). Only tuning rows are read (``load.training_rows``); no held-out set.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# bench/detectors.py by its file (bench/ holds scripts named like packages; see tests/test_detector_bench.py)
_spec = importlib.util.spec_from_file_location("bench_detectors", ROOT / "bench" / "detectors.py")
detectors = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(detectors)

from stylebias import load_battles, pair_features, rank_battles, response_features  # noqa: E402
from stylebias.extract.detectors.training import featurize  # noqa: E402
from stylebias.extract.pairs import (  # noqa: E402
    no_difference_where_not_applicable,
    numeric_side,
    pair_values,
)
from stylebias.extract.registry import FEATURE_BY_NAME  # noqa: E402
from stylebias.resources import demo_dir  # noqa: E402

LEVELS = ("none", "partial", "full")
#: the added-error levels of MC-SIMEX: powers of the confusion (1 = the error once more)
SIMEX_POWERS = (0.5, 1.0, 1.5, 2.0)
SHOWN = ("refusal", "flattery", "tokens", "bold_count", "list_count")


def confusion(gold: list, pred: list, values: tuple) -> np.ndarray:
    """Row-normalised confusion: ``[i, j]`` = P(detector says ``values[j]`` | label ``values[i]``)."""
    m = np.zeros((len(values), len(values)))
    index = {v: k for k, v in enumerate(values)}
    for g, p in zip(gold, pred, strict=True):
        m[index[g], index[p]] += 1
    return m / m.sum(axis=1, keepdims=True)


def loso_confusions() -> tuple[np.ndarray, np.ndarray]:
    """The refusal (3 x 3) and flattery (2 x 2) confusions of the leave-one-source-out predictions."""
    rows = detectors.labels.training_rows()
    preds, _ = detectors.loso(rows, featurize(rows))
    refusal = confusion([r["refusal"] for r in rows], [p["refusal"] for p in preds], LEVELS)
    flattery = confusion([int(r["flattery"]) for r in rows], [int(p["flattery"]) for p in preds], (0, 1))
    return refusal, flattery


def redraw(codes: np.ndarray, matrix: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each finite code ``i`` replaced by a draw from row ``i`` of ``matrix``; NaN (not applicable) kept."""
    out = codes.copy()
    cumulative = matrix.cumsum(axis=1)
    for i in range(matrix.shape[0]):
        at = np.flatnonzero(codes == i)
        out[at] = np.searchsorted(cumulative[i], rng.random(at.size), side="right").clip(
            max=matrix.shape[0] - 1
        )
    return out


def matrix_power(matrix: np.ndarray, power: float) -> np.ndarray:
    """``matrix`` to a real power by eigen-decomposition, as MC-SIMEX needs; rows renormalised to sum to 1.

    Defined when the eigenvalues are positive (a confusion whose diagonal dominates); anything else is an error,
    not a guess."""
    values, vectors = np.linalg.eig(matrix)
    if np.any(np.abs(values.imag) > 1e-9) or np.any(values.real <= 0):
        raise ValueError(f"confusion has eigenvalues {values}: no real power of it is a confusion")
    out = (vectors @ np.diag(values.real**power) @ np.linalg.inv(vectors)).real
    if out.min() < -1e-6:
        raise ValueError(f"confusion to the power {power} has negative entries: MC-SIMEX does not apply")
    out = out.clip(min=0.0)
    return out / out.sum(axis=1, keepdims=True)


def extrapolate(powers: list[float], values: list[float], to: float = -1.0) -> float:
    """The quadratic through (power, value) by least squares, read at ``to`` (SIMEX's usual extrapolant)."""
    return float(np.polyval(np.polyfit(powers, values, 2), to))


def pair_difference(a: np.ndarray, b: np.ndarray, name: str) -> np.ndarray:
    """The pair value of feature ``name`` from its two sides, by the pair features' own rules (its kind's
    combination, and no difference where either side is not applicable)."""
    out = pd.DataFrame({name: pair_values(a, b, FEATURE_BY_NAME[name].kind)})
    no_difference_where_not_applicable(out)
    return out[name].to_numpy()


def side_codes(battles: pd.DataFrame, side: str) -> tuple[np.ndarray, np.ndarray]:
    """Each battle's refusal code (none 0, partial 1, full 2; NaN not applicable) and flattery flag on ``side``."""
    feats = response_features(
        battles[f"response_{side}"].tolist(), battles["prompt"].tolist(), features=["refusal", "flattery"]
    )
    return numeric_side(feats["refusal"], "refusal"), numeric_side(feats["flattery"], "flattery")


def effects(bs, pf: pd.DataFrame) -> pd.DataFrame:
    """Bradley-Terry + style on these pair features: each feature's coefficient per SD and per unit."""
    res = rank_battles(bs, features=pf)
    table = res.features.set_index("name")
    return pd.DataFrame({"coef": table["coef"], "per_unit": table["coef"] / table["feature_sd"]})


def redrawn_effects(
    bs, pf: pd.DataFrame, sides: dict, matrices: tuple, rng: np.random.Generator
) -> pd.DataFrame:
    """The effects once both sides' refusal and flattery labels are re-drawn through ``matrices``."""
    refusal_m, flattery_m = matrices
    noisy = pf.copy()
    noisy["refusal"] = pair_difference(
        redraw(sides["ref_a"], refusal_m, rng), redraw(sides["ref_b"], refusal_m, rng), "refusal"
    )
    noisy["flattery"] = pair_difference(
        redraw(sides["fl_a"], flattery_m, rng), redraw(sides["fl_b"], flattery_m, rng), "flattery"
    )
    return effects(bs, noisy)


def print_confusions(refusal_m: np.ndarray, flattery_m: np.ndarray) -> None:
    print("leave-one-source-out confusion on the tuning rows, P(detector says column | label row):")
    print("  refusal " + "  ".join(f"{v:>8}" for v in LEVELS))
    for name, row in zip(LEVELS, refusal_m, strict=True):
        print(f"  {name:<7} " + "  ".join(f"{x:>8.3f}" for x in row))
    print(f"  flattery: P(1 | 0) = {flattery_m[0, 1]:.3f}, P(1 | 1) = {flattery_m[1, 1]:.3f}")


def demo_sides(bs, pf: pd.DataFrame) -> dict:
    """Both sides' labels, checked to rebuild the extractor's own pair features."""
    ref_a, fl_a = side_codes(bs.battles, "a")
    ref_b, fl_b = side_codes(bs.battles, "b")
    if not (
        np.allclose(pair_difference(ref_a, ref_b, "refusal"), pf["refusal"])
        and np.allclose(pair_difference(fl_a, fl_b, "flattery"), pf["flattery"])
    ):
        raise SystemExit(
            "the per-side labels do not rebuild the pair features: the bench and the extractor disagree"
        )
    return {"ref_a": ref_a, "ref_b": ref_b, "fl_a": fl_a, "fl_b": fl_b}


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


def print_simex(fitted: pd.DataFrame, curves: dict[str, list[float]], replicates: int) -> None:
    print(
        f"\nMC-SIMEX: per-unit coefficient with the confusion raised to {', '.join(map(str, SIMEX_POWERS))} "
        f"({replicates} re-draws each), quadratic extrapolated to -1 (no error left)"
    )
    print(f"{'feature':<12} {'fitted':>8} {'at each power':>36} {'corrected':>10} {'ratio':>6}")
    for name in SHOWN:
        first = fitted.loc[name, "per_unit"]
        corrected = extrapolate([0.0, *SIMEX_POWERS], [first, *curves[name]])
        print(
            f"{name:<12} {first:>+8.3f} {' '.join(f'{v:+.3f}' for v in curves[name]):>36} {corrected:>+10.3f}"
            f" {corrected / first:>6.2f}"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicates", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--simex-replicates", type=int, default=20, help="re-draws per MC-SIMEX power")
    args = ap.parse_args()
    warnings.simplefilter("ignore")  # the demo's one non-Latin answer warns on every fit
    t0 = time.process_time()
    matrices = loso_confusions()
    print_confusions(*matrices)
    bs = load_battles(demo_dir() / "alpaca_eval_ae2_demo.json.xz")
    pf = pair_features(bs, "style")
    sides = demo_sides(bs, pf)
    fitted = effects(bs, pf)
    rng = np.random.default_rng(args.seed)
    draws = [redrawn_effects(bs, pf, sides, matrices, rng) for _ in range(args.replicates)]
    curves: dict[str, list[float]] = {name: [] for name in SHOWN}
    for power in SIMEX_POWERS:
        powered = tuple(matrix_power(m, power) for m in matrices)
        runs = [redrawn_effects(bs, pf, sides, powered, rng) for _ in range(args.simex_replicates)]
        for name in SHOWN:
            curves[name].append(float(np.mean([r.loc[name, "per_unit"] for r in runs])))
    print(
        f"\n{len(bs.battles):,} demo battles, 'style' set; {args.replicates} re-draws (seed {args.seed}); "
        f"{time.process_time() - t0:.0f} s CPU"
    )
    print_one_more_layer(fitted, draws)
    print_simex(fitted, curves, args.simex_replicates)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
