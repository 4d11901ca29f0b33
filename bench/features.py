"""Throughput of style-feature extraction on real answers: serial, parallel, cache, per family.

    python bench/features.py [--corpus heldout|shared|arena] [--n 16100] [--jobs 2] [--features full]
                             [--families] [--stream 0]

Every timed run starts in a fresh Python process (as a CLI call does): it loads the corpus, builds the
resources the features need (tokenizer ranks, dictionaries, spaCy pipelines; timed separately as
"warm-up"), then times one ``response_features`` call. So nothing learnt by an earlier run (hyphenation
results, spaCy vocabulary) flatters a later one, and a parallel run pays its own pool start-up. Rows:

* serial (``jobs=1``), parallel (``--jobs``) and ``jobs=0`` (let the runner decide), cache off;
* cold cache (parallel, writing every value to an empty cache) and the warm re-run (every value cached);
* that the serial, parallel and cached frames are identical.

Each row gives responses/s (wall clock), CPU ms per response (this process and its workers: the steadier
figure, since other work on the machine slows the wall clock) and the 1-minute load average when the run
ended. ``--families`` adds serial CPU ms per response of each feature family alone (the table in
docs/features.md), extracted in chunks as the serial runner does. ``--stream N`` streams N synthetic-unique
responses (real answers with a serial number appended, so nothing dedupes or hits the cache) through
``iter_response_features`` and prints peak RSS, to
show memory does not grow with input length. Corpora: see bench/corpora.py (``heldout``, the default: answers
of the AlpacaEval models outside ../shared, which the code was never profiled on; ``shared``: the 16,100
AlpacaEval answers the code was tuned on; ``arena``: real Chatbot Arena answers).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpora  # noqa: E402


def cpu_s() -> float:
    a = resource.getrusage(resource.RUSAGE_SELF)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def rss_mb() -> tuple[float, float]:
    """Peak RSS (MB) of this process and of its largest (finished) child."""
    return (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    )


def child(spec: dict) -> None:
    """One timed run in this fresh process; prints one JSON line of figures."""
    from stylebias.extract import resolve_features, response_features
    from stylebias.extract.runner import warm_up

    texts, prompts = corpora.load(spec["corpus"], spec["n"])
    names = resolve_features(spec["features"])
    t0 = time.perf_counter()
    warm_up(names)
    warm = time.perf_counter() - t0
    cache = spec["cache"] or False
    runs = 2 if spec.get("rerun") else 1
    out = []
    for _ in range(runs):
        c0, t0 = cpu_s(), time.perf_counter()
        df = response_features(texts, prompts, features=names, jobs=spec["jobs"], cache=cache)
        out.append({"wall": time.perf_counter() - t0, "cpu": cpu_s() - c0, "load": os.getloadavg()[0]})
    if spec.get("frame"):
        df.to_parquet(spec["frame"])
    print(json.dumps({"n": len(texts), "warm_up": warm, "runs": out, "rss": rss_mb()}))


def run_child(spec: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True, check=False
    )
    if proc.returncode:
        sys.exit(f"benchmark child failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def row(label: str, n: int, r: dict) -> None:
    print(
        f"{label:<42} {n / r['wall']:>8,.0f} responses/s  {1000 * r['cpu'] / n:6.3f} CPU ms/response  "
        f"{r['wall']:6.1f} s  load {r['load']:.2f}",
        flush=True,
    )


def families(corpus: str, n: int) -> None:
    """Serial CPU ms per response of each family alone (one process, resources built first)."""
    from stylebias.extract import FEATURE_SETS, extract_batch
    from stylebias.extract.runner import DEFAULT_CHUNK, warm_up

    texts, prompts = corpora.load(corpus, n)
    warm_up()
    print(
        f"\nserial CPU ms per response by family ({len(texts):,} answers, one process, extract_batch on "
        f"chunks of {DEFAULT_CHUNK} as the serial runner does):"
    )
    for fam in ("verbosity", "structure", "emoji", "flattery", "refusal", "tone", "lmarena", "full"):
        names = list(FEATURE_SETS[fam])
        c0 = time.process_time()
        for s in range(0, len(texts), DEFAULT_CHUNK):
            extract_batch(texts[s : s + DEFAULT_CHUNK], prompts[s : s + DEFAULT_CHUNK], names)
        ms = 1000 * (time.process_time() - c0) / len(texts)
        print(f"  {fam:<10} {ms:6.3f} ms   load {os.getloadavg()[0]:.2f}", flush=True)


def stream(n_stream: int, jobs: int, names: list[str], texts: list[str]) -> None:
    from stylebias.extract import iter_response_features

    print(f"\nstreaming {n_stream:,} synthetic-unique responses (jobs={jobs}, no cache):")

    def gen():
        for i in range(n_stream):
            yield f"{texts[i % len(texts)]}\n\n#{i}"

    t0 = time.perf_counter()
    done = 0
    for block in iter_response_features(gen(), features=names, jobs=jobs, cache=False, block_size=20_000):
        done += len(block)
        me, _ = rss_mb()
        print(
            f"  {done:>10,} done  {done / (time.perf_counter() - t0):>7,.0f}/s  peak RSS self {me:,.0f} MB  "
            f"load {os.getloadavg()[0]:.2f}"
        )
    me, kids = rss_mb()
    print(f"  peak RSS: self {me:,.0f} MB, largest worker {kids:,.0f} MB")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # the default is answers the code was never profiled or tuned on (the speed targets' own population:
    # AlpacaEval models outside ../shared); ``shared`` is the corpus the code was tuned on
    ap.add_argument("--corpus", default="heldout", choices=corpora.CORPORA)
    ap.add_argument("--n", type=int, default=16_100, help="answers to use (first n of the corpus)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--features", default="full")
    ap.add_argument("--families", action="store_true", help="also time each feature family alone")
    ap.add_argument("--stream", type=int, default=0, help="synthetic-unique responses to stream (0 = skip)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(json.loads(args.child))
        return 0

    import pandas as pd

    from stylebias.extract import resolve_features

    names = resolve_features(args.features)
    print(f"cores: {os.cpu_count()}, load average at start: {os.getloadavg()}")
    texts, _ = corpora.load(args.corpus, args.n)
    n = len(texts)
    print(
        f"{n:,} real answers, corpus {args.corpus!r} (mean {sum(map(len, texts)) / n:,.0f} chars), "
        f"features: {args.features} ({len(names)} columns); every run in a fresh process\n"
    )
    base = {"corpus": args.corpus, "n": args.n, "features": args.features, "cache": None}
    with tempfile.TemporaryDirectory(prefix="sb_bench_") as tmp:
        frames = {}
        for label, jobs in (
            ("serial (jobs=1, no cache)", 1),
            (f"parallel (jobs={args.jobs}, no cache)", args.jobs),
        ):
            frames[jobs] = f"{tmp}/f{jobs}.parquet"
            r = run_child({**base, "jobs": jobs, "frame": frames[jobs]})
            row(label, n, r["runs"][0])
        print(f"{'':<42} (warm-up before each run: {r['warm_up']:.1f} s, not included)")
        r = run_child({**base, "jobs": 0})
        row("jobs=0 (the runner decides, no cache)", n, r["runs"][0])
        r = run_child(
            {**base, "jobs": args.jobs, "cache": f"{tmp}/cache", "rerun": True, "frame": f"{tmp}/c.parquet"}
        )
        row(f"cold cache (jobs={args.jobs}, writes cache)", n, r["runs"][0])
        row("warm cache (re-run, every value cached)", n, r["runs"][1])
        serial = pd.read_parquet(frames[1])
        pd.testing.assert_frame_equal(serial, pd.read_parquet(frames[args.jobs]), check_exact=True)
        pd.testing.assert_frame_equal(serial, pd.read_parquet(f"{tmp}/c.parquet"), check_exact=True)
        print("serial, parallel and cached frames identical: yes")
        print(
            f"peak RSS of a parallel run: parent {r['rss'][0]:,.0f} MB, largest worker {r['rss'][1]:,.0f} MB"
        )

    if args.families:
        families(args.corpus, args.n)
    if args.stream:
        stream(args.stream, args.jobs, names, texts)
    print(f"\nload average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
