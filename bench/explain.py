"""Measure ``stylebias explain`` out of sample: every real human-vote set, a planted rare effect, speed.

    python bench/explain.py                  # everything (needs ../shared/data)
    python bench/explain.py --only tables    # the held-out table per data set
    python bench/explain.py --only planted   # the planted rare effect at 500 / 2,000 / 20,000 battles
    python bench/explain.py --only halves    # Arena: choose + fit on one half of the prompts, score the other
    python bench/explain.py --only speed     # the whole demo: stages, figures, determinism

**Tables.** For each set (Chatbot Arena Llama-3-70B vs field, PandaLM, Anthropic HH, LLMBar's three human
sets, the AlpacaEval demo), nested cross-validation as ``stylebias explain`` runs it: 5 outer folds grouped by
prompt give the scores; inside each outer training fold the vote model (and the Bradley-Terry penalty) is
chosen on 5 inner folds of that training fold only. Printed: held-out log-loss of the vote model (whose
explanations are shown), BT + style with its penalty chosen the same way, BT + style at LMArena's 0.5,
length-only logistic and the prior; the vote model minus length-only; what was chosen on all battles.

**Planted.** Simulated votes (tests/_planted.py): 8 models, length matters, a refusal in ~3 % of battles costs
1.5 log-odds, one model refuses most. Per size: what was chosen, and that model's refusal points from the
vote model and from Bradley-Terry, with 95 % intervals, and whether they agree.

**Halves.** The Arena file split by prompt into two halves; the whole procedure (choose + fit) runs on one
half and is scored on the other, against length-only fitted on the same half (both ways round). This is the
shape of the check on battles outside ``../shared``.

CPU seconds (``time.process_time``) and the 1-minute load average are printed beside each figure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import stylebias  # noqa: E402
from bench.humansets import human_vote_sets, load_model_vs_field  # noqa: E402
from stylebias.explain import explain_battles  # noqa: E402

ROWS = ("vote_model", "bt_style", "bt_style_default", "length_only", "prior")
HEAD = ("vote model", "BT+style (CV reg)", "BT+style (0.5)", "length-only", "prior")


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def tables() -> None:
    print("\n## Held-out log-loss, nested CV (5 outer folds grouped by prompt, 5 inner), seed 0")
    print(
        "| data (votes) | battles / prompts | "
        + " | ".join(HEAD)
        + " | vote − length | shown model (chosen on all battles) |"
    )
    print("|---|---|" + "---|" * (len(HEAD) + 2))
    notes = []
    for name, get in human_vote_sets().items():
        try:
            bs = get()
        except FileNotFoundError as exc:
            print(f"| {name} | (missing: {exc}) |")
            continue
        t0 = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = explain_battles(bs, boot=0, bradley_terry=False)
        cpu = time.process_time() - t0
        s = res.cv.scores["log_loss"]
        best = min(s[r] for r in ROWS)
        cells = [f"**{s[r]:.4f}**" if s[r] == best else f"{s[r]:.4f}" for r in ROWS]
        d = s["vote_model"] - s["length_only"]
        label = res.vote_model.candidate.get("label", res.vote_model.kind)
        print(
            f"| {name} | {res.cv.n_battles:,} / {res.cv.n_prompts:,} | "
            + " | ".join(cells)
            + f" | {d:+.4f} | {label} |"
        )
        t = res.cv.selection.test
        picks = "; ".join(c["vote_model"] for c in res.cv.fold_choices)
        notes.append(
            f"{name}: {cpu:.0f} s CPU ({load()}); richer pick {t.get('pick_log_loss', float('nan')):.4f} vs "
            f"{t.get('reference')} {t.get('reference_log_loss', float('nan')):.4f}, SE {t.get('se', float('nan')):.4f}; "
            f"outer folds chose: {picks}"
        )
    print()
    for n in notes:
        print("- " + n)


def planted() -> None:
    from tests._planted import planted_battles

    print("\n## Planted rare effect: refusal in ~3 % of battles, -1.5 log-odds; the 'cautious' model's card")
    print(
        "| battles | seed | chosen | vote − length | refusal points, vote model (95 % CI) | "
        "refusal points, BT (95 % CI) | status | CPU s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for n, seeds in ((500, 3), (2000, 3), (20000, 1)):
        for seed in range(seeds):
            df, X, truth = planted_battles(n, seed)
            t0 = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = explain_battles(df, X, seed=seed, boot=100 if n < 20000 else 50)
            cpu = time.process_time() - t0
            s = res.cv.scores["log_loss"]
            a = res.agreement
            row = a[(a["model"] == "cautious") & (a["group"] == "refusal")]
            g = next(x for x in res.groups_of("cautious") if x["group"] == "refusal")
            vote = f"{g['points']:+.2f} ({g['low']:+.2f}, {g['high']:+.2f})"
            bt = f"{g.get('bt_points', float('nan')):+.2f} ({g.get('bt_low', float('nan')):+.2f}, {g.get('bt_high', float('nan')):+.2f})"
            status = row.iloc[0]["status"] if len(row) else "BT interval includes 0"
            label = res.vote_model.candidate.get("label", "")
            print(
                f"| {n:,} | {seed} | {label} | {s['vote_model'] - s['length_only']:+.4f} | {vote} | {bt} | "
                f"{status} | {cpu:.0f} ({load()}) |"
            )
            if n == 2000 and seed == 0:
                print(f"\n  sentence: {res.model_sentence('cautious')}")
                for note in res.model_notes("cautious"):
                    print(f"  note: {note}")
                print()


def halves() -> None:
    from scipy.special import expit

    from stylebias.explain.design import grouped_folds, prompt_groups
    from stylebias.explain.linear import fit_logistic
    from stylebias.explain.votemodel import log_loss

    print("\n## Arena 720: choose and fit on one half of the prompts, score on the other (both ways)")
    bs = load_model_vs_field()
    b = bs.battles
    halves = grouped_folds(prompt_groups(b["prompt"]), 2, seed=11)
    X = stylebias.pair_features(b, "style", jobs=0)
    for k, test in enumerate(halves):
        train = np.setdiff1d(np.arange(len(b)), test)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = explain_battles(
                b.iloc[train].reset_index(drop=True),
                X.iloc[train].reset_index(drop=True),
                boot=0,
                bradley_terry=False,
            )
        vote = res.vote_model
        Xt = X.iloc[test].reset_index(drop=True)
        yt = b["pref_a"].to_numpy()[test]
        p = vote.predict_proba(b["model_a"].to_numpy()[test], b["model_b"].to_numpy()[test], Xt)
        tok_tr, tok_te = X["tokens"].to_numpy()[train], Xt["tokens"].to_numpy()
        w = fit_logistic(np.column_stack([np.ones(len(train)), tok_tr]), b["pref_a"].to_numpy()[train])
        p_len = expit(w[0] + w[1] * tok_te)
        print(
            f"- half {k + 1} held out ({len(test)} battles): shown model {vote.candidate.get('label')}: "
            f"{log_loss(p, yt):.4f}; length-only {log_loss(p_len, yt):.4f}; "
            f"difference {log_loss(p, yt) - log_loss(p_len, yt):+.4f}"
        )


def speed() -> None:
    from stylebias.progress import use_reporter

    demo = stylebias.load_battles()
    stylebias.pair_features(demo.battles, "style", jobs=0)  # warm the feature cache
    stages: dict[str, float] = {}

    class Timer:
        def open(self, description, total):
            start = time.process_time()

            def close() -> None:
                stages[description] = stages.get(description, 0.0) + time.process_time() - start

            return (lambda n=1: None), close

    t0 = time.process_time()
    with use_reporter(Timer()):
        whole = explain_battles(demo)
    cpu = time.process_time() - t0
    print(
        f"\n## explain_battles on the whole demo ({len(demo.battles):,} battles, style features, nested 5x5, "
        f"100 bootstrap replicates): {cpu:.0f} s CPU ({load()}), feature cache warm"
    )
    for k, v in stages.items():
        print(f"  {k:42s} {v:6.1f} s")

    from stylebias.explain import plots

    print("\n## figures on the whole-demo result (CPU seconds to build, and to build + save PNG and SVG)")
    out = Path("/tmp/stylebias_bench_plots")
    out.mkdir(exist_ok=True)
    for name, make in (
        ("shap_beeswarm", lambda: plots.shap_beeswarm(whole)),
        ("attribution_bars", lambda: plots.attribution_bars(whole, None)),
        ("length_dependence", lambda: plots.length_dependence(whole)),
        ("calibration", lambda: plots.calibration_plot(whole)),
        ("forest_raw_vs_controlled", lambda: plots.forest_plot(whole.rank)),
    ):
        t0 = time.process_time()
        fig = make()
        t_make = time.process_time() - t0
        fig.savefig(out / f"{name}.png")
        fig.savefig(out / f"{name}.svg")
        print(f"  {name:28s} build {t_make:5.2f} s, build+save {time.process_time() - t0:5.2f} s")

    pl = explain_battles(demo, judge="human", boot=20)
    again = explain_battles(demo, judge="human", boot=20)
    same = json.dumps(again.to_json(), sort_keys=True) == json.dumps(pl.to_json(), sort_keys=True)
    print(f"\nbyte-identical JSON across two runs (PandaLM): {same}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=("tables", "planted", "halves", "speed"), action="append")
    args = ap.parse_args()
    chosen = args.only or ["tables", "planted", "halves", "speed"]
    print(f"stylebias {stylebias.__version__}; cores: {os.cpu_count()}; {load()}")
    for name in chosen:
        {"tables": tables, "planted": planted, "halves": halves, "speed": speed}[name]()


if __name__ == "__main__":
    main()
