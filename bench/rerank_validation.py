"""Validate ``stylebias rerank`` against human judgement: AlpacaEval 2 re-ranked vs LMArena style control.

Effects are learned from the AlpacaEval 2 weighted GPT-4-turbo annotations (48 models x 805 instructions),
the AlpacaEval 2 leaderboard is re-ranked from model outputs, and the result is compared by Spearman rho with
LMArena's human style-controlled ratings (2025-04-24, category ``full``) over the models both boards hold
(``bench/name_map_alpaca_lmarena.csv``, reviewed by hand). Same models for every score: raw win rate,
AlpacaEval's own length-controlled (LC) win rate and stylebias's style-neutral win rate.

Two model sets:

* ``outputs`` (main): the models whose ``model_outputs.json`` are in ``alpaca_eval/model_outputs`` and that
  map to LMArena. None of them has battles in the training annotations (only the reference does, as the
  fixed side A), so there is no leak.
* ``wide``: adds annotated models that map to LMArena, with their outputs taken from the annotation files
  (``output_2``). Their own battles are in the training data, so each is re-ranked with effects refitted
  without its battles (leave-one-model-out), and the leaky in-sample figure is shown next to it.

Also: every feature set tried, per-family ablation (only one family / all but one), bootstrap over models
for the uncertainty of rho (n is small), and a check that the library path (``rerank_leaderboard`` with the
saved model) gives the same numbers as this script's direct computation.

Run from the project root (features are cached, so a second run takes ~1 minute)::

    STYLEBIAS_CACHE_DIR=/tmp/sb_cache python bench/rerank_validation.py --jobs 0 --json bench/rerank_validation.json
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
AE = DATA / "alpaca_eval"
ANNOTATIONS = AE / "annotations_ae2_weighted_gpt4_turbo"
OUTPUTS = AE / "model_outputs"
BOARD = AE / "leaderboards" / "src__data_AlpacaEval_2__weighted_alpaca_eval_gpt4_turbo_leaderboard.csv"
LMARENA = DATA / "lmarena_leaderboards" / "2025-04-24" / "leaderboard-text-style-control.json"
NAME_MAP = ROOT / "bench" / "name_map_alpaca_lmarena.csv"
REFERENCE = "gpt4_1106_preview"
FAMILIES = ("verbosity", "structure", "emoji", "flattery", "refusal", "tone")


def read_name_map() -> pd.DataFrame:
    with open(NAME_MAP, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return pd.DataFrame(rows)


def lmarena_ratings() -> dict[str, float]:
    doc = json.loads(LMARENA.read_text(encoding="utf-8"))["full"]
    return {k: float(v["rating"]) for k, v in doc.items()}


def annotation_outputs(battles: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """Outputs of annotated models rebuilt from the annotations (side B = the model, prompt = instruction)."""
    sub = battles[battles["model_b"].isin(models)]
    return pd.DataFrame(
        {
            "generator": sub["model_b"].to_numpy(),
            "key": sub["prompt"].to_numpy(),  # what pair_with_reference matches answers on
            "instruction": sub["prompt"].to_numpy(),
            "output": sub["response_b"].to_numpy(),
            "source_file": sub["source_file"].to_numpy(),
            "source_record": sub["source_record"].to_numpy(),
        }
    )


def fit(battles: pd.DataFrame, Z: pd.DataFrame, cols: list[str], mask: np.ndarray | None = None):
    from stylebias.rating import StyleBT

    b = battles if mask is None else battles[mask]
    z = Z[cols] if mask is None else Z.loc[mask, cols]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return StyleBT().fit(b["model_a"], b["model_b"], b["pref_a"], z)


def neutral(bt, X: pd.DataFrame, model_of_row: np.ndarray, model: str, p_percent: float) -> float:
    """Style-neutral win rate (%) of one model: the library's solver on this model's rows."""
    from stylebias.rerank import solve_offset

    rows = model_of_row == model
    g = (X.loc[rows, bt.feature_names_].to_numpy() / bt.feature_scale_) @ bt.coef_
    n = int(rows.sum())
    p = min(max(p_percent / 100.0, 0.5 / n), 1 - 0.5 / n)
    return 100.0 * float(expit(solve_offset(p, g)))


def rho(x: list[float], y: list[float]) -> float:
    return float(spearmanr(x, y).statistic)


def bootstrap_rho(table: pd.DataFrame, cols: list[str], rounds: int, seed: int) -> dict[str, object]:
    """Resample models with replacement: percentile 95% intervals and P(stylebias rho >= LC rho)."""
    rng = np.random.default_rng(seed)
    n = len(table)
    human = table["lmarena"].to_numpy()
    out: dict[str, list[float]] = {c: [] for c in cols}
    for _ in range(rounds):
        idx = rng.integers(0, n, n)
        if len(np.unique(idx)) < 4:
            continue
        for c in cols:
            out[c].append(float(spearmanr(table[c].to_numpy()[idx], human[idx]).statistic))
    res: dict[str, object] = {}
    for c in cols:
        v = np.array(out[c])
        v = v[np.isfinite(v)]
        res[c] = [round(float(np.quantile(v, 0.025)), 3), round(float(np.quantile(v, 0.975)), 3)]
    a, b = np.array(out["stylebias"]), np.array(out["lc"])
    ok = np.isfinite(a) & np.isfinite(b)
    res["p_stylebias_ge_lc"] = round(float((a[ok] >= b[ok]).mean()), 3)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=0, help="feature-extraction workers (0 = all cores)")
    ap.add_argument("--rounds", type=int, default=2000, help="bootstrap replicates over models")
    ap.add_argument("--main", default="tokens only", help="feature set reported as stylebias's figure")
    ap.add_argument("--json", type=Path, default=None, help="write every figure as JSON")
    args = ap.parse_args()
    if not ANNOTATIONS.is_dir():
        sys.exit(f"real data not found at {DATA}")

    import stylebias
    from stylebias.extract import FEATURE_SETS, pair_features
    from stylebias.rerank import ModelOutputs, pair_with_reference, read_model_outputs, read_score_board

    t0 = time.perf_counter()
    data = stylebias.load_battles([str(ANNOTATIONS)])
    battles = data.battles.reset_index(drop=True)
    Z = pair_features(battles, "full", jobs=args.jobs)
    t_ann = time.perf_counter() - t0

    board = read_score_board(BOARD).set_index("model")
    human = lmarena_ratings()
    nm = read_name_map()
    mapped = nm[nm["lmarena"].astype(str).str.len() > 0]
    outs = read_model_outputs([str(OUTPUTS)]).outputs
    main_models = [
        m for m in mapped.loc[mapped["outputs"] == "model_outputs", "alpaca_eval"] if m != REFERENCE
    ]
    ann_models = list(mapped.loc[mapped["outputs"] == "annotations", "alpaca_eval"])
    all_outputs = pd.concat([outs, annotation_outputs(battles, ann_models)], ignore_index=True)
    every = pd.DataFrame({"model": main_models + ann_models})
    pairs = pair_with_reference(every, ModelOutputs(all_outputs, pd.DataFrame()), REFERENCE, 1).pairs
    X = pair_features(pairs, "full", jobs=args.jobs)
    model_of_row = pairs["model_a"].to_numpy()
    t_feat = time.perf_counter() - t0
    for m in main_models + ann_models:
        assert m in board.index, m
        assert (model_of_row == m).sum() >= 800, (m, (model_of_row == m).sum())

    def table_for(models: list[str], scores: dict[str, float]) -> pd.DataFrame:
        rows = [
            {
                "model": m,
                "lmarena": human[mapped.set_index("alpaca_eval").loc[m, "lmarena"]],
                "raw": float(board.loc[m, "score"]),
                "lc": float(board.loc[m, "lc"]),
                "stylebias": scores[m],
            }
            for m in [REFERENCE, *models]
        ]
        return pd.DataFrame(rows)

    def rhos(t: pd.DataFrame) -> dict[str, float]:
        return {c: round(rho(t[c].tolist(), t["lmarena"].tolist()), 4) for c in ("raw", "lc", "stylebias")}

    # ---- feature sets, main model set (no leak)
    sets: dict[str, list[str]] = {
        "lmarena": list(FEATURE_SETS["lmarena"]),
        "tokens only": ["tokens"],
        "verbosity": list(FEATURE_SETS["verbosity"]),
        "style": list(FEATURE_SETS["style"]),
        "full": list(FEATURE_SETS["full"]),
        # best of the family ablation on the main set; scored on the wide set too, to see whether it holds
        "style, no verbosity": [c for c in FEATURE_SETS["style"] if c not in FEATURE_SETS["verbosity"]],
    }
    results: dict[str, object] = {"n_battles": len(battles), "reference": REFERENCE}
    fits: dict[str, object] = {}
    by_set: dict[str, dict[str, float]] = {}
    tables: dict[str, pd.DataFrame] = {}
    for name, cols in sets.items():
        bt = fit(battles, Z, cols)
        fits[name] = bt
        scores = {REFERENCE: 50.0} | {
            m: neutral(bt, X, model_of_row, m, float(board.loc[m, "score"])) for m in main_models
        }
        tables[name] = table_for(main_models, scores)
        by_set[name] = rhos(tables[name])
    results["feature_sets_outputs"] = by_set
    main = tables[args.main]
    results["main"] = {
        "feature_set": args.main,
        "n": len(main),
        "rho": by_set[args.main],
        "bootstrap_95": bootstrap_rho(main, ["raw", "lc", "stylebias"], args.rounds, seed=0),
        "models": main.round(3).to_dict("records"),
    }

    # ---- family ablation on the 'style' set (the full concept list)
    base = sets["style"]
    ablation: dict[str, dict[str, float]] = {}
    for fam in FAMILIES:
        fam_cols = [c for c in base if c in FEATURE_SETS[fam]]
        for label, cols in (
            (f"only {fam}", fam_cols),
            (f"all but {fam}", [c for c in base if c not in fam_cols]),
        ):
            if not cols:
                continue
            bt = fit(battles, Z, cols)
            scores = {REFERENCE: 50.0} | {
                m: neutral(bt, X, model_of_row, m, float(board.loc[m, "score"])) for m in main_models
            }
            ablation[label] = {
                "stylebias": rhos(table_for(main_models, scores))["stylebias"],
                "features": cols,
            }
    results["family_ablation_style"] = ablation

    # ---- wide model set: annotated models too, leave-one-model-out effects for them
    wide: dict[str, dict[str, object]] = {}
    for name in sets:
        cols = sets[name]
        bt_all = fits[name]
        leaky, loo = {REFERENCE: 50.0}, {REFERENCE: 50.0}
        for m in main_models + ann_models:
            p = float(board.loc[m, "score"])
            leaky[m] = neutral(bt_all, X, model_of_row, m, p)
            if m in ann_models:
                mask = ((battles["model_a"] != m) & (battles["model_b"] != m)).to_numpy()
                loo[m] = neutral(fit(battles, Z, cols, mask), X, model_of_row, m, p)
            else:
                loo[m] = leaky[m]
        t_loo = table_for(main_models + ann_models, loo)
        wide[name] = {
            "n": len(t_loo),
            "rho_leave_model_out": rhos(t_loo),
            "rho_in_sample": rhos(table_for(main_models + ann_models, leaky))["stylebias"],
            "bootstrap_95": bootstrap_rho(t_loo, ["raw", "lc", "stylebias"], args.rounds, seed=1),
        }
    results["wide"] = wide

    # ---- variant tried: instruction difficulty (the reference split into one pseudo-model per instruction,
    # as AlpacaEval's LC GLM has an instruction term). gamma is then identified within instructions; the solve
    # either ignores psi (gamma only) or uses mean sigma(d + psi_i + g_i) = p and reports mean sigma(d + psi_i).
    from stylebias.rating import StyleBT
    from stylebias.rerank import solve_offset

    pid, prompts = pd.factorize(battles["prompt"])
    psi_battles = battles.assign(model_a=[f"{REFERENCE}#{i}" for i in pid])
    instr: dict[str, dict[str, float]] = {}
    for name in ("tokens only", "lmarena", "style"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bt = StyleBT().fit(
                psi_battles["model_a"], psi_battles["model_b"], psi_battles["pref_a"], Z[sets[name]]
            )
        beta = pd.Series(bt.beta_, index=bt.models_)
        ref_beta = np.array([beta[f"{REFERENCE}#{i}"] for i in range(len(prompts))])
        psi_of = dict(zip(prompts, -np.log(10) * (ref_beta - ref_beta.mean()), strict=True))
        s_gamma, s_psi = {REFERENCE: 50.0}, {REFERENCE: 50.0}
        for m in main_models:
            rows = model_of_row == m
            g = (X.loc[rows, bt.feature_names_].to_numpy() / bt.feature_scale_) @ bt.coef_
            psi = np.array([psi_of.get(q, 0.0) for q in pairs.loc[rows, "prompt"]])
            p = float(board.loc[m, "score"]) / 100
            s_gamma[m] = 100 * float(expit(solve_offset(p, g)))
            s_psi[m] = 100 * float(expit(solve_offset(p, g + psi) + psi).mean())
        instr[name] = {
            "gamma_only": rhos(table_for(main_models, s_gamma))["stylebias"],
            "psi_in_solve": rhos(table_for(main_models, s_psi))["stylebias"],
        }
    results["instruction_effects_variant"] = instr

    # ---- variants tried: other length measures; training without the adversarial entries
    other: dict[str, float] = {}
    adversarial = ("NullModel", "gpt4_gamed")
    keep = ~(battles["model_b"].isin(adversarial) | battles["model_a"].isin(adversarial)).to_numpy()
    for label, cols, mask in (
        ("chars only", ["chars"], None),
        ("words only", ["words"], None),
        ("tokens only, without NullModel/gpt4_gamed", sets["tokens only"], keep),
        ("lmarena, without NullModel/gpt4_gamed", sets["lmarena"], keep),
        ("style, without NullModel/gpt4_gamed", sets["style"], keep),
    ):
        bt = fit(battles, Z, cols, mask)
        scores = {REFERENCE: 50.0} | {
            m: neutral(bt, X, model_of_row, m, float(board.loc[m, "score"])) for m in main_models
        }
        other[label] = rhos(table_for(main_models, scores))["stylebias"]
    # AlpacaEval LC's own length term, tanh(char-length difference / sd), but with one slope for all models:
    # separates "functional form" from "per-model slope" as the reason LC does better.
    from stylebias.rerank import solve_offset

    dl = (battles["response_a"].str.len() - battles["response_b"].str.len()).to_numpy(dtype=np.float64)
    sd = float(dl.std())
    bt = fit(battles, pd.DataFrame({"tanh_len": np.tanh(dl / sd)}), ["tanh_len"])
    dlx = (pairs["response_a"].str.len() - pairs["response_b"].str.len()).to_numpy(dtype=np.float64)
    gx = np.tanh(dlx / sd) / bt.feature_scale_[0] * bt.coef_[0]
    scores = {REFERENCE: 50.0} | {
        m: 100 * float(expit(solve_offset(float(board.loc[m, "score"]) / 100, gx[model_of_row == m])))
        for m in main_models
    }
    other["AlpacaEval length term tanh(dchars/sd), one slope"] = rhos(table_for(main_models, scores))[
        "stylebias"
    ]
    results["other_variants"] = other

    # ---- the library path gives the same numbers (saved model -> rerank_leaderboard)
    import tempfile

    from stylebias.rating.persist import load_stylebt, save_stylebt
    from stylebias.rerank import rerank_leaderboard

    with tempfile.TemporaryDirectory() as tmp:
        save_stylebt(fits[args.main], tmp, features=sets[args.main], card={})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lib = rerank_leaderboard(
                BOARD, [str(OUTPUTS)], REFERENCE, load_stylebt(tmp), jobs=args.jobs, rounds=0
            )
    lib_scores = lib.models.set_index("model")["score_style_neutral"]
    diff = max(
        abs(float(lib_scores[m]) - float(s)) for m, s in zip(main["model"], main["stylebias"], strict=True)
    )
    results["library_max_abs_diff"] = diff
    results["seconds"] = {"annotations_features": round(t_ann, 1), "all_features": round(t_feat, 1)}
    results["seconds"]["total"] = round(time.perf_counter() - t0, 1)

    # ---- report
    print(
        f"battles: {len(battles):,}; reference {REFERENCE}; LMArena {LMARENA.parent.name} style control, full"
    )
    print("\nSpearman rho with LMArena (main set: model_outputs, no leak)")
    print(f"  {'features':<19} {'n':>3} {'raw':>7} {'LC':>7} {'stylebias':>10}")
    for name, r in by_set.items():
        print(f"  {name:<19} {len(main):>3} {r['raw']:>7.3f} {r['lc']:>7.3f} {r['stylebias']:>10.3f}")
    b = results["main"]["bootstrap_95"]
    print(
        f"  bootstrap over models ({args.rounds}), main = {args.main}: raw {b['raw']}, LC {b['lc']}, "
        f"stylebias {b['stylebias']}; P(stylebias >= LC) = {b['p_stylebias_ge_lc']}"
    )
    print("\nfamily ablation (style set), stylebias rho:")
    for label, r in ablation.items():
        print(f"  {label:<22} {r['stylebias']:.3f}")
    print("\nwide set (annotated models added; their effects refitted without their own battles):")
    for name, r in wide.items():
        rr = r["rho_leave_model_out"]
        print(
            f"  {name:<8} n={r['n']} raw {rr['raw']:.3f} LC {rr['lc']:.3f} stylebias {rr['stylebias']:.3f} "
            f"(in-sample effects {r['rho_in_sample']:.3f}); bootstrap {r['bootstrap_95']}"
        )
    print("\nvariant: instruction difficulty terms in the fit (stylebias rho, main set):")
    for name, r in instr.items():
        print(
            f"  {name:<12} gamma from within-instruction fit {r['gamma_only']:.3f}; also psi in the solve {r['psi_in_solve']:.3f}"
        )
    for label, r in other.items():
        print(f"  {label:<50} {r:.3f}")
    print(f"\nlibrary path vs direct: max |diff| = {diff:.2e} points")
    print(f"seconds: {results['seconds']}")
    print("\nmain table:")
    print(main.sort_values("stylebias", ascending=False).round(2).to_string(index=False))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
