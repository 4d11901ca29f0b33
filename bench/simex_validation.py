"""Does the detector-error correction (MC-SIMEX, ``stylebias detector-error``) recover effects it is not told?

    python bench/simex_validation.py                       # 20 simulated vote sets per scenario
    python bench/simex_validation.py --sims 50 --replicates 10

A simulation on the embedded AlpacaEval demo's real battles, where the truth is known because it is made: the
Bradley-Terry + style fit of the demo is the *true* model, each side's flattery and refusal label a *true*
label, and votes are drawn from the model (one Bernoulli vote per battle). The labels the analyst sees are
drawn through a misclassification, and three fits are compared with the truth: the fit on the seen labels
(what ``rank`` reports), its MC-SIMEX correction (what ``detector-error`` reports: ``--draws`` draws of the
misclassification from counts, ``--replicates`` re-draws per power) and the oracle fit on the true labels (how
close any estimate can get with these votes). Printed per scenario: for the flattery and refusal effects
(log-odds per unit) the true value, each estimate's mean over the simulated vote sets and how often its 95 %
interval holds the true value; the ratings' root-mean-square error (Elo); how many studies were refused.

Scenarios:

* A. rare labels: the true labels are the shipped detectors' labels of the demo's answers (flattery 0.4 % of
  replies, refusal 3 %), seen through the default misclassification (``validation``: stratified by the
  detectors' labels); the correction is given counts measured on as many replies as the shipped ones (drawn
  afresh per study from the same shares).
* B. the same rare labels through the stronger ``loso`` error (all tuning rows).
* C. common labels: the same battles and model, but each side's true flattery label drawn at 25 % (refusal as
  in A), seen and corrected with ``loso``: how the correction fares when false positives do not swamp the true
  ones.
* D. misspecified: A's labels seen through the ``held_out`` error, corrected with ``loso`` counts.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stylebias import load_battles  # noqa: E402
from stylebias.errors import UsageError  # noqa: E402
from stylebias.rating import Design, FitSettings, fit_design  # noqa: E402
from stylebias.rating.pipeline import prepare  # noqa: E402
from stylebias.rating.simex import (  # noqa: E402
    Misclassification,
    detector_sides,
    load_misclassification,
    posterior_cells,
    redraw_sides,
    simex_fit,
    stratified_matrix,
    with_detector_columns,
)
from stylebias.resources import demo_dir  # noqa: E402

SHOWN = ("flattery", "refusal")
FITS = ("seen", "corrected", "oracle")


def per_unit(bt, name: str) -> tuple[float, float, float]:
    """A fit's coefficient of ``name`` per unit with its interval."""
    j = list(bt.feature_names_).index(name)
    s = float(bt.feature_scale_[j])
    return float(bt.coef_[j]) / s, float(bt.coef_low_[j]) / s, float(bt.coef_high_[j]) / s


def with_labels(design: Design, sides: dict) -> Design:
    """``design`` with its detector columns the pair values of ``sides``."""
    return Design(design.model_a, design.model_b, design.pref_a, with_detector_columns(design.X, sides))


def remeasured(mis: Misclassification, rng: np.random.Generator) -> Misclassification:
    """The counts an analyst would have measured: as many hand-labelled replies as ``mis`` rests on, each
    labelled through its matrix (per true label); for a stratified measurement, each stratum's sample drawn
    again from its shares (counts + 1/2 over the detector labels it holds)."""
    if mis.strata is not None:
        strata = {}
        for n, parts in mis.strata.items():
            strata[n] = []
            for size, c in parts:
                p = posterior_cells(c)[1].ravel()
                strata[n].append(
                    (size, rng.multinomial(int(c.sum()), p / p.sum()).reshape(c.shape).astype(float))
                )
        matrices = {n: stratified_matrix(parts, lambda c: c / c.sum()) for n, parts in strata.items()}
        counts = {n: sum(c for _, c in parts) for n, parts in strata.items()}
        return Misclassification(matrices, counts, mis.basis, mis.how, strata)
    counts = {n: np.vstack([rng.multinomial(int(row.sum()), m[i]) for i, row in enumerate(mis.counts[n])]).astype(float)
              for n, m in mis.matrices.items()}  # fmt: skip
    return Misclassification(
        {n: c / c.sum(axis=1, keepdims=True) for n, c in counts.items()}, counts, mis.basis, mis.how
    )


def study(truth: Design, truth_bt, sides: dict, seen_mis, assumed_mis, settings, args, rng):
    """One simulated study: votes from the true model, labels seen through ``seen_mis``, the three fits."""
    p_a = truth_bt.predict_proba(truth.model_a, truth.model_b, truth.X)[:, 0]
    votes = (rng.random(p_a.size) < p_a).astype(np.float64)
    seen = redraw_sides(sides, seen_mis.matrices, rng)
    oracle = fit_design(Design(truth.model_a, truth.model_b, votes, truth.X), settings, raw=False).controlled
    observed = with_labels(Design(truth.model_a, truth.model_b, votes, truth.X), seen)
    res = simex_fit(observed, seen, remeasured(assumed_mis, rng), settings, replicates=args.replicates,
                    draws=args.draws, seed=int(rng.integers(1 << 31)))  # fmt: skip
    return oracle, res


def scenario(
    name: str, truth: Design, truth_bt, sides: dict, seen_mis, assumed_mis, settings, args, rng
) -> None:
    target = {n: per_unit(truth_bt, n)[0] for n in SHOWN}
    true_r = truth_bt.ratings_.loc[truth_bt.models_].to_numpy()
    est = {k: {n: [] for n in SHOWN} for k in FITS}
    cover = {k: {n: 0 for n in SHOWN} for k in FITS}
    rmse = {k: [] for k in FITS}
    refused: list[str] = []
    t0 = time.process_time()
    for _ in range(args.sims):
        try:
            oracle, res = study(truth, truth_bt, sides, seen_mis, assumed_mis, settings, args, rng)
        except UsageError as exc:
            refused.append(str(exc).split(":")[1].strip()[:60])
            continue
        eff = res.effects.set_index("name")
        for n in SHOWN:
            for k, (v, lo, hi) in (
                ("seen", per_unit(res.naive.controlled, n)),
                ("oracle", per_unit(oracle, n)),
                ("corrected", tuple(eff.loc[n, ["corrected", "low", "high"]])),
            ):
                est[k][n].append(v)
                cover[k][n] += bool(lo <= target[n] <= hi)
        r = res.ratings.set_index("model").loc[truth_bt.models_]
        for k, got in (
            ("seen", r["rating"]),
            ("corrected", r["corrected"]),
            ("oracle", oracle.ratings_.loc[truth_bt.models_]),
        ):
            rmse[k].append(float(np.sqrt(np.mean((got.to_numpy() - true_r) ** 2))))
    done = args.sims - len(refused)
    print(f"\n{name}\n  {done} of {args.sims} simulated studies corrected ({args.draws} misclassification draws x "
          f"{args.replicates} re-draws per power), {time.process_time() - t0:.0f} s CPU")  # fmt: skip
    if refused:
        print(f"  refused {len(refused)}: {sorted(set(refused))[0]} ...")
    if not done:
        return
    print(f"  {'effect':<10} {'true':>7}   " + "   ".join(f"{k + ': mean, covers':>22}" for k in FITS))
    for n in SHOWN:
        cells = [f"{np.mean(est[k][n]):+7.3f} {cover[k][n] / done:>6.0%}" for k in FITS]
        print(f"  {n:<10} {target[n]:+7.3f}   " + "   ".join(f"{c:>22}" for c in cells))
    print(
        "  ratings RMSE (Elo) against the true ratings: "
        + ", ".join(f"{k} {np.mean(v):.1f}" for k, v in rmse.items())
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sims", type=int, default=20)
    ap.add_argument(
        "--replicates", type=int, default=5, help="re-draws per power (per misclassification draw)"
    )
    ap.add_argument("--draws", type=int, default=10, help="misclassification draws per study")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    warnings.simplefilter("ignore")  # the demo's one non-Latin answer warns on every fit
    settings = FitSettings(features="style")
    bs = load_battles(demo_dir() / "alpaca_eval_ae2_demo.json.xz")
    prep = prepare(bs, "style", settings)
    design = Design(prep.design.model_a, prep.design.model_b, prep.design.pref_a, prep.design.X)
    sides = detector_sides(prep, list(SHOWN), settings)
    truth_bt = fit_design(design, settings, raw=False).controlled
    default = load_misclassification()
    loso, held = load_misclassification("loso"), load_misclassification("held_out")
    rng = np.random.default_rng(args.seed)
    n = len(design)
    common = {**sides, "flattery": tuple((rng.random(n) < 0.25).astype(float) for _ in range(2))}
    print(f"{n:,} demo battles, 'style' features; true model = the demo's own fit")
    scenario(f"A. rare labels (the demo's), seen and corrected with the default {default.basis} error", design,
             truth_bt, sides, default, default, settings, args, rng)  # fmt: skip
    scenario("B. rare labels, seen and corrected with the stronger loso error", design, truth_bt, sides, loso,
             loso, settings, args, rng)  # fmt: skip
    scenario("C. common flattery labels (25 %), seen and corrected with loso", with_labels(design, common),
             truth_bt, common, loso, loso, settings, args, rng)  # fmt: skip
    scenario("D. rare labels seen through the held-out misclassification, corrected with loso (misspecified)",
             design, truth_bt, sides, held, loso, settings, args, rng)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
