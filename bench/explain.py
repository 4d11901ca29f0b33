"""Measure ``stylebias explain``: held-out vote prediction on real votes, speed on the demo, plot times.

    python bench/explain.py                 # all sections (needs ../shared/data for the HH section)
    python bench/explain.py --skip-hh

Prints, per data set (AlpacaEval demo judge votes, PandaLM human votes, Anthropic HH human votes), the
held-out log-loss / Brier / AUC of the vote model and its baselines (5 folds grouped by prompt, seed 0);
then wall time of ``explain_battles`` on the whole demo with a warm feature cache, split by stage; then
each figure's time; then whether two runs give byte-identical JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import stylebias  # noqa: E402
from stylebias.explain import explain_battles  # noqa: E402
from stylebias.explain.cv import LABELS, MODELS  # noqa: E402


def scores(name: str, res) -> None:
    cv = res.cv
    print(
        f"\n## {name}: {cv.n_battles:,} battles, {cv.n_prompts:,} prompts, {cv.folds} folds grouped by prompt"
    )
    print(f"{'predictor':58s} {'log-loss':>9s} {'Brier':>7s} {'AUC':>6s}")
    for m in MODELS:
        s = cv.scores.loc[m]
        print(f"{LABELS[m]:58s} {s['log_loss']:9.4f} {s['brier']:7.4f} {s['auc']:6.3f}")
    ll = cv.scores["log_loss"]
    best_style = min(ll["style_strength"], ll["style_only"])
    verdict = "beats" if best_style < ll["length_only"] else "does NOT beat"
    print(
        f"-> best LightGBM style model {verdict} the length-only baseline ({best_style:.4f} vs {ll['length_only']:.4f})"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-hh", action="store_true")
    args = ap.parse_args()
    print(
        f"stylebias {stylebias.__version__}; cores: {os.cpu_count()}; feature cache: "
        f"{os.environ.get('STYLEBIAS_CACHE_DIR', '~/.cache/stylebias')}"
    )

    t0 = time.perf_counter()
    demo = stylebias.load_battles()
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    stylebias.pair_features(demo.battles, "style", jobs=0)  # warm the feature cache
    t_feat = time.perf_counter() - t0
    print(
        f"demo: {len(demo.battles):,} battles; load {t_load:.1f} s; style features {t_feat:.1f} s "
        "(cold on first run, cached after)"
    )

    # --- speed on the whole demo, warm cache ----------------------------------------------------------
    from stylebias.progress import use_reporter

    stages: dict[str, float] = {}

    class Timer:
        def open(self, description, total):
            start = time.perf_counter()

            def close() -> None:
                stages[description] = stages.get(description, 0.0) + time.perf_counter() - start

            return (lambda n=1: None), close

    t0 = time.perf_counter()
    with use_reporter(Timer()):
        whole = explain_battles(demo)
    t_whole = time.perf_counter() - t0
    print(
        f"\n## explain_battles on the whole demo ({len(demo.battles):,} battles, style features, 5 folds): "
        f"{t_whole:.1f} s (feature cache warm; demo already loaded)"
    )
    for k, v in stages.items():
        print(f"  {k:30s} {v:6.1f} s")
    scores("whole demo (AlpacaEval judge + PandaLM human; two disconnected graphs)", whole)

    # --- held-out prediction per data set --------------------------------------------------------------
    ae = explain_battles(demo, judge="weighted_alpaca_eval_gpt4_turbo")
    scores("AlpacaEval 2 demo (GPT-4-turbo judge)", ae)
    pl = explain_battles(demo, judge="human")
    scores("PandaLM (human majority votes)", pl)
    if not args.skip_hh:
        hh_path = ROOT.parent / "shared" / "data" / "hh_rlhf_harmless_base_test" / "test.jsonl.gz"
        if hh_path.exists():
            hh = stylebias.load_battles(hh_path)
            res = explain_battles(hh)
            scores("Anthropic HH-RLHF harmless-base test (human; placeholder model names)", res)
            print("  group points for the side holding the chosen answer are in docs/explain.md")
        else:
            print(f"(HH data not found at {hh_path})")

    # --- plots ---------------------------------------------------------------------------------------
    from stylebias.explain import plots

    print("\n## figures on the whole-demo result (seconds to build + save PNG and SVG)")
    import matplotlib.pyplot as plt

    out = Path("/tmp/stylebias_bench_plots")
    out.mkdir(exist_ok=True)
    for name, make in (
        ("shap_beeswarm", lambda: plots.shap_beeswarm(whole)),
        ("attribution_bars", lambda: plots.attribution_bars(whole, None)),
        ("length_dependence", lambda: plots.length_dependence(whole)),
        ("calibration", lambda: plots.calibration_plot(whole)),
        ("forest_raw_vs_controlled", lambda: plots.forest_plot(whole.rank)),
    ):
        t0 = time.perf_counter()
        fig = make()
        t_make = time.perf_counter() - t0
        fig.savefig(out / f"{name}.png")
        fig.savefig(out / f"{name}.svg")
        plt.close(fig)
        print(f"  {name:28s} build {t_make:5.2f} s, build+save {time.perf_counter() - t0:5.2f} s")

    # --- determinism ----------------------------------------------------------------------------------
    again = explain_battles(demo, judge="human")
    same = json.dumps(again.to_json(), sort_keys=True) == json.dumps(pl.to_json(), sort_keys=True)
    print(f"\nbyte-identical JSON across two runs (PandaLM): {same}")


if __name__ == "__main__":
    main()
