"""Scale of the partitioned Bradley-Terry + style fit on a local Dask cluster (prints figures; not a test).

The battles are an LMArena-shaped stream made partition by partition *on the workers*: metadata-only,
200 models with Zipf-like popularity, 30 % ties, the four ``lmarena`` style counts per side (tokens,
headers, lists, bold) turned into LMArena's normalised pair differences, outcomes from a known
style-controlled Bradley-Terry model. A partition is a function of ``(seed, index)``, called again at
every pass and never kept, so no process ever holds more than one partition per worker and the stream is
never stored whole (``--keep`` instead makes each once and keeps it on its worker, as ``rank --dask``
keeps its files' chunks: then the passes cost only the fit's own work). For each size, on a fresh local
cluster laid out as a real one: a ``dask scheduler`` process and ``dask worker`` processes (2 single-threaded
by default) on this machine, the client in this process (``--in-process-scheduler`` uses a ``LocalCluster``
instead, whose scheduler shares the client's process and adds ~30 ms of CPU per second of wall time to it):

* wall time, worker CPU time (summed over workers), client CPU time, scheduler CPU time, passes and Newton
  iterations;
* peak RSS of each worker process (``VmHWM``) and of the client;
* the machine's load average beside every figure (the 2 cores are shared with other jobs).

At the first size it also fits the same battles in memory (``fit_design``, a child process) and prints
the largest difference of ratings, interval ends and (with ``--bootstrap``) bootstrap replicates.

Usage::

    /work/venv/bin/python bench/cluster.py                      # 2M, 5M, 20M; in-memory check at 2M
    /work/venv/bin/python bench/cluster.py --sizes 1 --bootstrap 10 --part-rows 250000
    /work/venv/bin/python bench/cluster.py --sizes 2 5 --keep --no-compare
    /work/venv/bin/python bench/cluster.py --sizes 1 2 --in-process-scheduler --no-compare
    /work/venv/bin/python bench/cluster.py --quick              # 0.2M + 0.5M smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import math
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
# worker processes import the stream's module (pickled by reference, not by value with every task)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT), str(ROOT / "bench"), *filter(None, [os.environ.get("PYTHONPATH")])]
)

from arena_stream import FEATURES, N_MODELS, PAIR_SD, TRUE_GAMMA, arena_chunk  # noqa: E402


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


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid``, children not included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def local_cluster(workers: int, in_process: bool) -> Iterator[tuple[Any, int | None]]:
    """A client of a fresh cluster on this machine and the scheduler's pid (``None``: in this process).

    By default the scheduler and the workers are processes of their own (``dask scheduler``, ``dask
    worker``), as on a real cluster, so this process's CPU time is the client's alone."""
    import logging

    from distributed import Client, LocalCluster

    if in_process:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": ":0"},
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
        try:
            yield client, None
        finally:
            client.close()
            cluster.close()
        return
    dask = str(Path(sys.executable).with_name("dask"))
    with tempfile.TemporaryDirectory() as tmp:
        address = os.path.join(tmp, "scheduler.json")
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        scheduler = subprocess.Popen(
            [dask, "scheduler", "--port", "0", "--no-dashboard", "--scheduler-file", address], **quiet
        )
        worker = subprocess.Popen(
            [dask, "worker", "--scheduler-file", address, "--nworkers", str(workers), "--nthreads", "1"]
            + ["--no-dashboard", "--local-directory", tmp],
            **quiet,
        )
        try:
            for _ in range(600):
                if os.path.exists(address):
                    break
                time.sleep(0.1)
            client = Client(scheduler_file=address, timeout="60s")
            client.wait_for_workers(workers, timeout=120)
            try:
                yield client, scheduler.pid
            finally:
                client.close()
        finally:
            for proc in (worker, scheduler):
                proc.terminate()
                proc.wait(timeout=60)


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
    from distributed import wait

    from stylebias.cluster.engine import DaskEngine
    from stylebias.rating import FitSettings
    from stylebias.rating.partitioned import fit_partitions

    settings = FitSettings(ci="bootstrap" if args.bootstrap else "sandwich", rounds=max(args.bootstrap, 2))
    with local_cluster(args.workers, args.in_process_scheduler) as (client, scheduler_pid):
        base = client.run(warm)
        cpu0 = sum(client.run(cpu_seconds).values())
        parts = parts_of(total, args.part_rows, args.seed)
        if args.keep:  # made once and kept in worker memory, as rank --dask keeps its files' chunks
            parts = [client.submit(p, pure=False) for p in parts]
            wait(parts)  # made on the workers; never brought to the client
        engine = Counting(DaskEngine(client, parts))
        load_before = load()
        s0 = process_cpu(scheduler_pid) if scheduler_pid else float("nan")
        t0, c0 = time.perf_counter(), time.process_time()
        result = fit_partitions(engine, FEATURES, settings)
        wall, client_cpu = time.perf_counter() - t0, time.process_time() - c0
        scheduler_cpu = process_cpu(scheduler_pid) - s0 if scheduler_pid else float("nan")
        peaks = client.run(hwm_mb)
        worker_cpu = sum(client.run(cpu_seconds).values()) - cpu0
    bt = result.controlled
    return {
        "battles": total,
        "partitions": len(engine),
        "passes": engine.passes,
        "newton": int(bt.n_iter_),
        "wall": wall,
        "worker_cpu": worker_cpu,
        "client_cpu": client_cpu,
        "scheduler_cpu": scheduler_cpu,
        "peak_worker_mb": sorted(peaks.values()),
        "base_worker_mb": sorted(base.values()),
        "client_mb": hwm_mb(),
        "load_before": load_before,
        "load_after": load(),
        "coef": (bt.coef_ / bt.feature_scale_ * PAIR_SD).tolist(),  # per the truth's fixed SD
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
    ap.add_argument(
        "--keep",
        action="store_true",
        help="make each partition once and keep it on its worker (not streamed)",
    )
    ap.add_argument(
        "--in-process-scheduler",
        action="store_true",
        help="a LocalCluster (its scheduler in this process, so the client CPU includes the scheduler's)",
    )
    ap.add_argument("--no-compare", action="store_true", help="skip the in-memory fit at the first size")
    ap.add_argument("--quick", action="store_true", help="0.2M and 0.5M battles, 100k per partition")
    ap.add_argument("--child", nargs=2, metavar=("BATTLES", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        in_memory_child(int(args.child[0]), args.part_rows, args.seed, args.bootstrap, args.child[1])
        return
    if args.quick:
        args.sizes, args.part_rows = [0.2, 0.5], 100_000
    # a terminated run still stops its scheduler and worker processes (the finally blocks run)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(
        f"partitioned fit, {args.workers} worker processes x 1 thread, "
        f"scheduler {'in the client process' if args.in_process_scheduler else 'in its own process'}, "
        f"{args.part_rows:,} battles per partition, "
        f"{N_MODELS} models, ci={f'bootstrap x{args.bootstrap}' if args.bootstrap else 'sandwich'}, "
        f"partitions {'kept on the workers' if args.keep else 'made again at every pass'}; "
        f"machine: {os.cpu_count()} cores   [{load()}]",
        flush=True,
    )
    warm()
    import distributed  # noqa: F401  (the client's imports, before any fit)

    from stylebias.cluster.engine import DaskEngine  # noqa: F401

    client_idle = hwm_mb()
    if args.in_process_scheduler:  # what the scheduler in this process costs while nothing runs
        with local_cluster(args.workers, True) as (client, _):
            client.run(warm)
            c0, t0 = time.process_time(), time.perf_counter()
            time.sleep(10)
            idle_cpu, idle_wall = time.process_time() - c0, time.perf_counter() - t0
        print(
            f"idle LocalCluster: this process used {idle_cpu:.2f} s of CPU in {idle_wall:.1f} s "
            f"({1000 * idle_cpu / idle_wall:.0f} ms per second of wall time)   [{load()}]",
            flush=True,
        )
    runs = []
    for i, millions in enumerate(args.sizes):
        total = int(round(millions * 1_000_000))
        run = distributed_run(total, args)
        runs.append(run)
        per_m = run["wall"] / (total / 1e6)
        scheduler = (
            "(scheduler in the client)"
            if math.isnan(run["scheduler_cpu"])
            else f"scheduler CPU {run['scheduler_cpu']:5.1f} s"
        )
        print(
            f"{total:>12,} battles  {run['partitions']:>3} partitions  {run['passes']:>3} passes "
            f"({run['newton']} Newton)  wall {run['wall']:7.1f} s ({per_m:5.2f} s/M)  "
            f"worker CPU {run['worker_cpu']:7.1f} s  client CPU {run['client_cpu']:5.2f} s  {scheduler}  "
            f"peak RSS/worker {' / '.join(f'{m:,.0f}' for m in run['peak_worker_mb'])} MB "
            f"(idle {' / '.join(f'{m:,.0f}' for m in run['base_worker_mb'])})  "
            f"client {run['client_mb']:,.0f} MB (idle {client_idle:,.0f})"
            f"   [{run['load_before']} -> {run['load_after']}]",
            flush=True,
        )
        if i == 0 and not args.no_compare:
            compare(run, args)
    truth = dict(zip(FEATURES, TRUE_GAMMA, strict=True))
    print(
        "style coefficients at the largest size, per the truth's fixed SD (truth in brackets): "
        + ", ".join(f"{n} {c:.3f} ({truth[n]:.2f})" for n, c in zip(FEATURES, runs[-1]["coef"], strict=True))
    )
    dim = N_MODELS + len(FEATURES)
    print(
        f"per pass each partition returns {(dim + dim * dim) * 8 / 1e6:.2f} MB (gradient + Hessian, dim {dim}), "
        f"summed on the workers in a tree of fan-in 8; the client receives one such array per pass"
    )


if __name__ == "__main__":
    main()
