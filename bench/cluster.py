"""Scale of the partitioned Bradley-Terry + style fit on a Dask ``LocalCluster`` (prints figures; not a test).

The battles are an LMArena-shaped stream made partition by partition *on the workers*: metadata-only,
200 models with Zipf-like popularity, 30 % ties, the four ``lmarena`` style counts per side (tokens,
headers, lists, bold) turned into LMArena's normalised pair differences, outcomes from a known
style-controlled Bradley-Terry model. A partition is a function of ``(seed, index)``, called again at
every pass and never kept, so no process ever holds more than one partition per worker and the stream is
never stored whole. For each size, on a fresh cluster of 2 single-threaded worker processes:

* wall time, worker CPU time (summed over workers), client CPU time, passes and Newton iterations;
* peak RSS of each worker process (``VmHWM``) and of the client;
* the machine's load average beside every figure (the 2 cores are shared with other jobs).

At the first size it also fits the same battles in memory (``fit_design``, a child process) and prints
the largest difference of ratings, interval ends and (with ``--bootstrap``) bootstrap replicates.

Usage::

    /work/venv/bin/python bench/cluster.py                      # 2M, 5M, 20M; in-memory check at 2M
    /work/venv/bin/python bench/cluster.py --sizes 2 5 --bootstrap 20
    /work/venv/bin/python bench/cluster.py --quick              # 0.2M + 0.5M smoke run
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

N_MODELS = 200
FEATURES = ["tokens", "header_count", "list_count", "bold_count"]
TRUE_GAMMA = np.array([0.30, 0.05, 0.10, 0.08])  # per (approximate) SD of each pair feature
PAIR_SD = np.array([0.35, 0.30, 0.40, 0.40])  # fixed scale of the truth (the fit standardises by the data)
LN10 = math.log(10)


def arena_chunk(seed: int, index: int, rows: int, n_models: int = N_MODELS) -> pd.DataFrame:
    """Partition ``index`` of the stream: ``rows`` battles, a pure function of its arguments."""
    habits = np.random.default_rng([seed, 0])
    pop = 1.0 / np.arange(1, n_models + 1) ** 0.9
    pop /= pop.sum()
    beta = habits.normal(0, 0.3, n_models)
    tok_mu = habits.normal(6.0, 0.5, n_models)
    md = habits.gamma(2.0, 1.0, n_models)
    rng = np.random.default_rng([seed, 1, index])
    cdf = np.cumsum(pop)
    a = np.minimum(np.searchsorted(cdf, rng.random(rows)), n_models - 1)
    b = np.minimum(np.searchsorted(cdf, rng.random(rows)), n_models - 1)
    clash = a == b
    b[clash] = (b[clash] + 1 + rng.integers(0, n_models - 1, int(clash.sum()))) % n_models

    def side(m: np.ndarray) -> list[np.ndarray]:
        return [
            np.maximum(1.0, rng.lognormal(tok_mu[m], 0.6)),
            rng.poisson(md[m] * 1.2).astype(np.float64),
            rng.poisson(md[m] * 4.0).astype(np.float64),
            rng.poisson(md[m] * 2.1).astype(np.float64),
        ]

    sa, sb = side(a), side(b)
    X = np.column_stack([(x - y) / (x + y + 1.0) for x, y in zip(sa, sb, strict=True)])
    p = 1.0 / (1.0 + np.exp(-(LN10 * (beta[a] - beta[b]) + (X / PAIR_SD) @ TRUE_GAMMA)))
    tie = rng.random(rows) < 0.3
    q = np.clip((p - 0.15) / 0.7, 0.0, 1.0)
    y = np.where(tie, 0.5, (rng.random(rows) < q).astype(np.float64))
    names = pd.Index([f"model-{i:03d}" for i in range(n_models)])
    frame = pd.DataFrame(
        {
            "model_a": pd.Categorical.from_codes(a, categories=names),
            "model_b": pd.Categorical.from_codes(b, categories=names),
            "pref_a": y,
        }
    )
    for j, name in enumerate(FEATURES):
        frame[name] = X[:, j]
    return frame


def parts_of(total: int, part_rows: int, seed: int) -> list[functools.partial]:
    n = math.ceil(total / part_rows)
    sizes = [part_rows] * (n - 1) + [total - part_rows * (n - 1)]
    return [functools.partial(arena_chunk, seed, i, rows) for i, rows in enumerate(sizes)]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}/{fifteen:.2f}"


def hwm_mb() -> float:
    """Peak RSS of this process in MB (``VmHWM``)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def warm() -> float:
    """Import what the partition functions need (so the baseline RSS includes it); returns VmHWM."""
    import stylebias.rating.chunks  # noqa: F401

    return hwm_mb()


class Counting:
    """An engine that counts its passes (one ``map`` or ``reduce`` = one pass over every partition)."""

    def __init__(self, engine) -> None:  # noqa: ANN001
        self.engine = engine
        self.passes = 0

    def __len__(self) -> int:
        return len(self.engine)

    def map(self, *a, **k):  # noqa: ANN002, ANN003, ANN201
        self.passes += 1
        return self.engine.map(*a, **k)

    def reduce(self, *a, **k):  # noqa: ANN002, ANN003, ANN201
        self.passes += 1
        return self.engine.reduce(*a, **k)


def distributed_run(total: int, args: argparse.Namespace) -> dict:
    import logging

    from distributed import Client, LocalCluster

    from stylebias.cluster.engine import DaskEngine
    from stylebias.rating import FitSettings
    from stylebias.rating.partitioned import fit_partitions

    settings = FitSettings(ci="bootstrap" if args.bootstrap else "sandwich", rounds=max(args.bootstrap, 2))
    cluster = LocalCluster(
        n_workers=args.workers, threads_per_worker=1, dashboard_address=None, silence_logs=logging.ERROR
    )
    client = Client(cluster)
    try:
        base = client.run(warm)
        cpu0 = sum(client.run(cpu_seconds).values())
        engine = Counting(DaskEngine(client, parts_of(total, args.part_rows, args.seed)))
        load_before = load()
        t0, c0 = time.perf_counter(), time.process_time()
        result = fit_partitions(engine, FEATURES, settings)
        wall, client_cpu = time.perf_counter() - t0, time.process_time() - c0
        peaks = client.run(hwm_mb)
        worker_cpu = sum(client.run(cpu_seconds).values()) - cpu0
    finally:
        client.close()
        cluster.close()
    bt = result.controlled
    return {
        "battles": total,
        "partitions": len(engine),
        "passes": engine.passes,
        "newton": int(bt.n_iter_),
        "wall": wall,
        "worker_cpu": worker_cpu,
        "client_cpu": client_cpu,
        "peak_worker_mb": sorted(peaks.values()),
        "base_worker_mb": sorted(base.values()),
        "client_mb": hwm_mb(),
        "load_before": load_before,
        "load_after": load(),
        "coef": bt.coef_.tolist(),
        "ratings": {
            "models": bt.models_,
            "rating": bt.ratings_.tolist(),
            "low": bt.rating_low_.tolist(),
            "high": bt.rating_high_.tolist(),
            "raw": result.raw.ratings_.tolist(),
            "boot": None if bt.boot_theta_ is None else bt.boot_theta_.tolist(),
        },
    }


def in_memory_child(total: int, part_rows: int, seed: int, bootstrap: int, out: str) -> None:
    """In a fresh process: the same battles concatenated and fitted by ``fit_design``."""
    from stylebias.rating import Design, FitSettings, fit_design

    t0 = time.perf_counter()
    frame = pd.concat([p() for p in parts_of(total, part_rows, seed)], ignore_index=True)
    made = time.perf_counter() - t0
    settings = FitSettings(ci="bootstrap" if bootstrap else "sandwich", rounds=max(bootstrap, 2))
    t1 = time.perf_counter()
    design = Design(frame["model_a"], frame["model_b"], frame["pref_a"].to_numpy(), frame[FEATURES])
    result = fit_design(design, settings)
    bt = result.controlled
    Path(out).write_text(
        json.dumps(
            {
                "make": made,
                "fit": time.perf_counter() - t1,
                "peak_mb": hwm_mb(),
                "models": bt.models_,
                "rating": bt.ratings_.tolist(),
                "low": bt.rating_low_.tolist(),
                "high": bt.rating_high_.tolist(),
                "raw": result.raw.ratings_.tolist(),
                "boot": None if bt.boot_theta_ is None else bt.boot_theta_.tolist(),
            }
        )
    )


def compare(run: dict, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "mem.json")
        print(
            f"in-memory fit of the same {run['battles']:,} battles (child process) ... {load()}", flush=True
        )
        cmd = [sys.executable, __file__, "--child", str(run["battles"]), out]
        cmd += [
            "--part-rows",
            str(args.part_rows),
            "--seed",
            str(args.seed),
            "--bootstrap",
            str(args.bootstrap),
        ]
        subprocess.run(cmd, check=True)
        mem = json.loads(Path(out).read_text())
    got = run["ratings"]
    assert got["models"] == mem["models"]
    diff = {k: float(np.max(np.abs(np.subtract(got[k], mem[k])))) for k in ("rating", "low", "high", "raw")}
    if mem["boot"] is not None:
        diff["boot"] = 400 * float(np.max(np.abs(np.subtract(got["boot"], mem["boot"]))))
    print(
        f"  in memory: made in {mem['make']:.1f} s, fitted in {mem['fit']:.1f} s, peak RSS {mem['peak_mb']:,.0f} MB"
        f"   [{load()}]"
    )
    print(
        "  max |partitioned - in memory| (Elo): "
        + ", ".join(f"{k} {v:.1e}" for k, v in diff.items())
        + "   (ratings, interval ends, raw ratings"
        + (", bootstrap replicates)" if "boot" in diff else ")")
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[2, 5, 20], help="millions of battles")
    ap.add_argument("--part-rows", type=int, default=500_000, help="battles per partition")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--bootstrap", type=int, default=0, help="bootstrap replicates (0: sandwich)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-compare", action="store_true", help="skip the in-memory fit at the first size")
    ap.add_argument("--quick", action="store_true", help="0.2M and 0.5M battles, 100k per partition")
    ap.add_argument("--child", nargs=2, metavar=("BATTLES", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        in_memory_child(int(args.child[0]), args.part_rows, args.seed, args.bootstrap, args.child[1])
        return
    if args.quick:
        args.sizes, args.part_rows = [0.2, 0.5], 100_000
    print(
        f"partitioned fit, {args.workers} worker processes x 1 thread, {args.part_rows:,} battles per partition, "
        f"{N_MODELS} models, ci={f'bootstrap x{args.bootstrap}' if args.bootstrap else 'sandwich'}; "
        f"machine: {os.cpu_count()} cores   [{load()}]",
        flush=True,
    )
    runs = []
    for i, millions in enumerate(args.sizes):
        total = int(round(millions * 1_000_000))
        run = distributed_run(total, args)
        runs.append(run)
        per_m = run["wall"] / (total / 1e6)
        print(
            f"{total:>12,} battles  {run['partitions']:>3} partitions  {run['passes']:>3} passes "
            f"({run['newton']} Newton)  wall {run['wall']:7.1f} s ({per_m:5.2f} s/M)  "
            f"worker CPU {run['worker_cpu']:7.1f} s  client CPU {run['client_cpu']:5.1f} s  "
            f"peak RSS/worker {' / '.join(f'{m:,.0f}' for m in run['peak_worker_mb'])} MB "
            f"(idle {' / '.join(f'{m:,.0f}' for m in run['base_worker_mb'])})  client {run['client_mb']:,.0f} MB"
            f"   [{run['load_before']} -> {run['load_after']}]",
            flush=True,
        )
        if i == 0 and not args.no_compare:
            compare(run, args)
    truth = dict(zip(FEATURES, TRUE_GAMMA, strict=True))
    print(
        "style coefficients at the largest size (truth per fixed SD in brackets): "
        + ", ".join(f"{n} {c:.3f} ({truth[n]:.2f})" for n, c in zip(FEATURES, runs[-1]["coef"], strict=True))
    )
    dim = N_MODELS + len(FEATURES)
    print(
        f"per pass each partition returns {(dim + dim * dim) * 8 / 1e6:.2f} MB (gradient + Hessian, dim {dim}), "
        f"summed on the workers in a tree of fan-in 8; the client receives one such array per pass"
    )


if __name__ == "__main__":
    main()
