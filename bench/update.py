"""StyleControl.update vs a fresh fit on the union: time and max |difference|.

    /work/venv/bin/python bench/update.py [--old 100000] [--new 5000] [--repeat 3] [--no-demo]

Synthetic part: FastChat metadata-only battles (``conv_metadata`` counts, 40 models, ties and a style effect),
``--old`` battles fitted first, then ``--new`` battles added (including one new model). "fresh" =
``StyleControl().fit(old + new)`` from the DataFrame, "update" = ``sc.update(new)`` on the fitted model;
both include input conversion and features. Demo part: the embedded AlpacaEval demo (text battles, the
``style`` feature set), the last 5% of battles added by ``update``; feature extraction runs without the
cache (``cache=False``) so the fresh fit pays for every battle's text features, as it would on new data.
Prints median wall times of ``--repeat`` runs, Newton iterations and the largest differences.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import pandas as pd

from stylebias import load_battles
from stylebias.plugin import StyleControl


def synthetic(n: int, seed: int, n_models: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    beta = np.linspace(-0.6, 0.6, n_models)
    a = rng.integers(0, n_models, n)
    b = (a + rng.integers(1, n_models, n)) % n_models
    ta, tb = rng.integers(20, 1500, n), rng.integers(20, 1500, n)
    h = rng.poisson(1.0, (2, n))
    li = rng.poisson(3.0, (2, n))
    bo = rng.poisson(2.0, (2, n))
    eta = np.log(10) * (beta[a] - beta[b]) + 0.9 * (ta - tb) / (ta + tb + 1)
    u = rng.random(n)
    winner = np.where(u < 0.2, "tie", np.where(rng.random(n) < 1 / (1 + np.exp(-eta)), "model_a", "model_b"))
    names = np.array([f"model-{i:02d}" for i in range(n_models)])
    meta = [
        {
            "sum_assistant_a_tokens": int(ta[i]),
            "sum_assistant_b_tokens": int(tb[i]),
            "header_count_a": {"h1": int(h[0, i])},
            "header_count_b": {"h1": int(h[1, i])},
            "list_count_a": {"ordered": int(li[0, i]), "unordered": 0},
            "list_count_b": {"ordered": int(li[1, i]), "unordered": 0},
            "bold_count_a": {"**": int(bo[0, i]), "__": 0},
            "bold_count_b": {"**": int(bo[1, i]), "__": 0},
        }
        for i in range(n)
    ]
    return pd.DataFrame({"model_a": names[a], "model_b": names[b], "winner": winner, "conv_metadata": meta})


def compare(fresh: StyleControl, upd: StyleControl) -> dict[str, float]:
    return {
        "ratings": float((upd.ratings_ - fresh.ratings_.reindex(upd.ratings_.index)).abs().max()),
        "raw": float((upd.ratings_raw_ - fresh.ratings_raw_.reindex(upd.ratings_raw_.index)).abs().max()),
        "coef": float((upd.coef_ - fresh.coef_).abs().max()),
        "ci_low": float(
            (
                upd.leaderboard().set_index("model")["rating_low"]
                - fresh.leaderboard().set_index("model")["rating_low"]
            )
            .abs()
            .max()
        ),
    }


def run(label: str, old: object, new: object, union: object, repeat: int, **params: object) -> None:
    fresh_t, upd_t = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        fresh = StyleControl(**params).fit(union)
        fresh_t.append(time.perf_counter() - t)
        sc = StyleControl(**params).fit(old)
        t = time.perf_counter()
        sc.update(new)
        upd_t.append(time.perf_counter() - t)
    d = compare(fresh, sc)
    f, u = statistics.median(fresh_t), statistics.median(upd_t)
    print(f"[{label}] battles {sc.n_obs_:,} ({params})")
    print(
        f"  fresh fit on the union : {f:8.3f} s   Newton iterations {fresh.controlled_.n_iter_} (controlled)"
    )
    print(f"  update (warm start)    : {u:8.3f} s   Newton iterations {sc.controlled_.n_iter_} (controlled)")
    print(f"  speed-up               : {f / u:8.2f} x")
    print(
        f"  max |diff|  ratings {d['ratings']:.2e} Elo, raw {d['raw']:.2e} Elo, coef {d['coef']:.2e}, "
        f"CI low {d['ci_low']:.2e} Elo"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", type=int, default=100_000)
    ap.add_argument("--new", type=int, default=5_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-demo", action="store_true")
    args = ap.parse_args()
    warnings.simplefilter("ignore")

    old = synthetic(args.old, seed=1)
    new = synthetic(args.new, seed=2)
    new.loc[: min(199, len(new) - 1), "model_a"] = "new-model"
    union = pd.concat([old, new], ignore_index=True)
    run("synthetic metadata-only", old, new, union, args.repeat, n_jobs=1)

    if not args.no_demo:
        bs = load_battles()
        battles = bs.battles[bs.battles["source_file"].str.contains("alpaca")].reset_index(drop=True)
        cut = int(len(battles) * 0.95)
        o, n = battles.iloc[:cut].reset_index(drop=True), battles.iloc[cut:].reset_index(drop=True)
        run("demo AlpacaEval, style features, no cache", o, n, battles, 1, n_jobs=1, cache=False)


if __name__ == "__main__":
    main()
