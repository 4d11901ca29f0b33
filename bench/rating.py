"""Speed and memory of style-controlled ranking at LMArena scale (prints figures; not a test).

Builds (once, cached in ``bench/_data/``, gitignored) a metadata-only battle file shaped like
``lmarena-ai/arena-human-preference-100k``: 1.7M battles, 130 models with Zipf-like popularity, 30 % ties
(a quarter of them ``tie (bothbad)``), and a ``conv_metadata`` struct with ``sum_assistant_a_tokens``,
``header_count_a {h1..h6}``, ``list_count_a {ordered, unordered}``, ``bold_count_a {**, __}`` and the ``_b``
twins. Outcomes follow a known style-controlled Bradley-Terry model, so the recovered coefficients can be
checked too. Then it times:

1. the whole CLI run, ``stylebias rank FILE --features lmarena --ci sandwich`` (wall time and peak RSS of
   the child process, measured with ``getrusage``), and the same with ``--ci bootstrap --rounds 100``;
2. the loader alone and the fits alone (in-process), bootstrap with 1 and 2 workers;
3. FastChat's objective solved FastChat's way (L-BFGS, 100 iterations) vs ours, and arena-rank's default
   penalty (``reg=1.0`` on the mean loss, style coefficients only) vs ours, on the same data.

Usage::

    /work/venv/bin/python bench/rating.py            # everything
    /work/venv/bin/python bench/rating.py --quick    # 170k battles, fewer rounds (smoke run)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "_data"
LN10 = math.log(10)
TRUE_GAMMA = np.array([0.30, 0.05, 0.10, 0.08])  # tokens, headers, lists, bold (per SD of the pair feature)


def build(path: Path, n: int, n_models: int = 130, seed: int = 0) -> None:
    """Write the synthetic arena file (vectorised; ~10 s for 1.7M rows)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    pop = 1.0 / np.arange(1, n_models + 1) ** 0.9  # Zipf-like popularity
    pop /= pop.sum()
    a = rng.choice(n_models, n, p=pop)
    b = rng.choice(n_models, n, p=pop)
    clash = a == b
    while clash.any():
        b[clash] = rng.choice(n_models, int(clash.sum()), p=pop)
        clash = a == b
    beta = rng.normal(0, 0.3, n_models)
    # per-model style habits: verbosity and markdown use
    tok_mu = rng.normal(6.0, 0.5, n_models)
    md = rng.gamma(2.0, 1.0, n_models)

    def side(m):
        tokens = np.maximum(1, rng.lognormal(tok_mu[m], 0.6)).astype(np.int64)
        h = rng.poisson(md[m][:, None] * np.array([0.3, 0.5, 0.4, 0.1, 0.0, 0.0]))
        lists = rng.poisson(md[m][:, None] * np.array([1.5, 2.5]))
        bold = rng.poisson(md[m][:, None] * np.array([2.0, 0.1]))
        return tokens, h, lists, bold

    ta, ha, la, ba = side(a)
    tb, hb, lb, bb = side(b)

    def norm(x, y):
        return (x - y) / (x + y + 1.0)

    X = np.column_stack(
        [norm(ta, tb), norm(ha.sum(1), hb.sum(1)), norm(la.sum(1), lb.sum(1)), norm(ba.sum(1), bb.sum(1))]
    )
    z = (X - X.mean(0)) / X.std(0)
    p = 1 / (1 + np.exp(-(LN10 * (beta[a] - beta[b]) + z @ TRUE_GAMMA)))
    tie_rate = 0.3
    q = np.clip((p - tie_rate / 2) / (1 - tie_rate), 0, 1)
    tie = rng.random(n) < tie_rate
    a_wins = rng.random(n) < q
    winner = np.where(
        tie, np.where(rng.random(n) < 0.25, "tie (bothbad)", "tie"), np.where(a_wins, "model_a", "model_b")
    )
    names = np.array([f"model-{i:03d}" for i in range(n_models)])

    def struct(arr, keys):
        return pa.StructArray.from_arrays([pa.array(arr[:, i]) for i in range(len(keys))], names=keys)

    hk = ["h1", "h2", "h3", "h4", "h5", "h6"]
    conv_metadata = pa.StructArray.from_arrays(
        [
            pa.array(ta),
            pa.array(tb),
            pa.array(rng.poisson(60, n)),
            pa.array(np.ones(n, dtype=np.int64)),
            struct(ha, hk),
            struct(hb, hk),
            struct(la, ["ordered", "unordered"]),
            struct(lb, ["ordered", "unordered"]),
            struct(ba, ["**", "__"]),
            struct(bb, ["**", "__"]),
        ],
        names=[
            "sum_assistant_a_tokens",
            "sum_assistant_b_tokens",
            "sum_user_tokens",
            "turns",
            "header_count_a",
            "header_count_b",
            "list_count_a",
            "list_count_b",
            "bold_count_a",
            "bold_count_b",
        ],
    )
    table = pa.table(
        {
            "question_id": pa.array([f"{i:08x}" for i in range(n)]),
            "model_a": pa.array(names[a]),
            "model_b": pa.array(names[b]),
            "winner": pa.array(winner),
            "judge": pa.array([f"arena_user_{i}" for i in rng.integers(0, 200_000, n)]),
            "turn": pa.array(np.ones(n, dtype=np.int64)),
            "anony": pa.array(np.ones(n, dtype=bool)),
            "language": pa.array(np.where(rng.random(n) < 0.7, "English", "Chinese")),
            "tstamp": pa.array(1.7e9 + np.sort(rng.uniform(0, 3e7, n))),
            "conv_metadata": conv_metadata,
            "is_code": pa.array(rng.random(n) < 0.2),
            "is_refusal": pa.array(rng.random(n) < 0.02),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(path)
    truth = {"models": names.tolist(), "beta": beta.tolist(), "gamma": TRUE_GAMMA.tolist()}
    path.with_suffix(".truth.json").write_text(json.dumps(truth))


def run_cli(args: list[str]) -> tuple[float, float, int]:
    """Wall seconds and peak RSS (MB) of one ``stylebias`` child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "stylebias", *args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-2000:])
    # ru_maxrss of RUSAGE_CHILDREN is the max over all waited-for children (KB on Linux)
    return wall, max(peak, before) / 1024, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--battles", type=int, default=1_700_000)
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="170k battles, 20 rounds")
    ap.add_argument("--skip-cli", action="store_true")
    ap.add_argument("--skip-baselines", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.battles, args.rounds = 170_000, 20
    path = DATA / f"arena_meta_{args.battles}.parquet"
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; numpy {np.__version__}")
    if not path.exists():
        t0 = time.perf_counter()
        build(path, args.battles)
        print(f"built {path.name} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")
    truth = json.loads(path.with_suffix(".truth.json").read_text())

    if not args.skip_cli:
        # one cold import of the package first, so the timed runs measure the steady state of a real user
        run_cli(["--version"])
        out = DATA / "rank_sandwich.json"
        cmd = ["rank", str(path), "--features", "lmarena", "--ci", "sandwich", "--quiet", "--json", str(out)]
        wall, peak, rc = run_cli(cmd)
        print(f"CLI  stylebias {' '.join(cmd[:6])}: {wall:.1f} s, peak RSS {peak:.0f} MB (rc={rc})")
        out_b = DATA / "rank_bootstrap.json"
        cmd_b = [
            "rank",
            str(path),
            "--features",
            "lmarena",
            "--ci",
            "bootstrap",
            "--rounds",
            str(args.rounds),
        ]
        cmd_b += ["--quiet", "--json", str(out_b)]
        wall_b, _, rc = run_cli(cmd_b)
        print(f"CLI  stylebias {' '.join(cmd_b[:8])}: {wall_b:.1f} s (rc={rc})")
        if out.exists():
            doc = json.loads(out.read_text())
            coef = {f["name"]: f["coef"] for f in doc["features"]}
            print(
                f"     recovered coefficients {coef} (true {dict(zip(coef, truth['gamma'], strict=False))})"
            )

    # in-process stages
    from stylebias.formats import load_battles
    from stylebias.rating import StyleBT
    from stylebias.rating.pipeline import battle_features

    t0 = time.perf_counter()
    data = load_battles([str(path)])
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    X = battle_features(data.battles, "lmarena", data.has_text)
    t_feat = time.perf_counter() - t0
    bt = data.battles
    ma, mb = bt["model_a"].to_numpy(dtype=object), bt["model_b"].to_numpy(dtype=object)
    y = bt["pref_a"].to_numpy(dtype=np.float64)
    print(f"load {len(bt):,} battles: {t_load:.1f} s; pair features: {t_feat:.2f} s")

    t0 = time.perf_counter()
    raw = StyleBT().fit(ma, mb, y)
    t_raw = time.perf_counter() - t0
    t0 = time.perf_counter()
    fit = StyleBT().fit(ma, mb, y, X, list(X.columns))
    t_fit = time.perf_counter() - t0
    print(
        f"fit raw BT (aggregated cells) + sandwich: {t_raw:.2f} s; style-controlled fit + sandwich: "
        f"{t_fit:.2f} s ({fit.n_iter_} Newton steps)"
    )
    est = (fit.ratings_.reindex(truth["models"]).to_numpy() - 1000) / 400
    err = np.abs(est - np.asarray(truth["beta"]))
    print(f"     |rating - truth|: max {400 * err.max():.1f} Elo, mean {400 * err.mean():.1f} Elo")
    for jobs in (1, 2):
        t0 = time.perf_counter()
        StyleBT(ci="bootstrap", rounds=args.rounds, n_jobs=jobs).fit(ma, mb, y, X, list(X.columns))
        print(f"bootstrap {args.rounds} rounds, {jobs} worker(s): {time.perf_counter() - t0:.1f} s")

    if not args.skip_baselines:
        baselines(fit, raw, ma, mb, y, X)


def baselines(fit, raw, ma, mb, y, X) -> None:
    """FastChat's solver (L-BFGS, maxiter 100) and arena-rank's default penalty on the same objective."""
    from scipy.optimize import minimize

    from stylebias.rating.design import encode_models, standardise
    from stylebias.rating.likelihood import tie_model
    from stylebias.rating.solver import PairLayout, Problem

    enc = encode_models(ma, mb)
    std = standardise(X.to_numpy(), list(X.columns))
    P, K = len(enc.models), len(std.names)
    order = np.argsort(enc.pair, kind="stable")
    layout = PairLayout.from_sorted(enc.pair[order], enc.pair_a, enc.pair_b, P)
    ys, Zs = y[order], np.asfortranarray(std.Z[order])

    def problem(reg):
        return Problem(layout, ys, Zs, tie_model("half"), reg)

    prob = problem(0.5)

    def f(theta):
        t = prob.terms(theta)
        return prob.objective(theta), prob.gradient(theta, t)

    t0 = time.perf_counter()
    res = minimize(f, np.zeros(P + K), jac=True, method="L-BFGS-B", options={"maxiter": 100, "gtol": 1e-6})
    t_l = time.perf_counter() - t0
    gap = 400 * np.abs((res.x[:P] - res.x[:P].mean()) - fit.beta_).max()
    print(
        f"FastChat-style L-BFGS (maxiter 100, our vectorised loss): {t_l:.1f} s, {res.nit} iterations, "
        f"converged={res.success}; max |rating - optimum| = {gap:.2f} Elo"
    )

    # arena-rank ContextualBradleyTerry default: mean log-loss + 0.5 * 1.0 * ||gamma||^2 (ratings unpenalised)
    n = len(y)
    free = problem(0.0)

    def g(theta):
        t = free.terms(theta)
        val = free.objective(theta) / n + 0.5 * float(theta[P:] @ theta[P:])
        grad = free.gradient(theta, t) / n
        grad[P:] += theta[P:]
        return val, grad

    res2 = minimize(g, np.zeros(P + K), jac=True, method="L-BFGS-B", options={"maxiter": 2000, "gtol": 1e-12})
    shrink = fit.coef_ / res2.x[P:]
    print(
        "arena-rank default (reg=1.0 on the mean loss) style coefficients: "
        + ", ".join(f"{nm} {c:.4f}" for nm, c in zip(std.names, res2.x[P:], strict=True))
        + "\n     ours (reg=0.5 on the summed loss): "
        + ", ".join(f"{nm} {c:.4f}" for nm, c in zip(std.names, fit.coef_, strict=True))
        + f"\n     shrinkage factor ours / arena-rank: {', '.join(f'{s:.1f}x' for s in shrink)}"
    )


if __name__ == "__main__":
    main()
