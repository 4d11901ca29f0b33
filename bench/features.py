"""Throughput and memory of style-feature extraction on real answers.

    python bench/features.py [--n 16100] [--jobs 2] [--features full] [--stream 0]

Reads the 20 AlpacaEval ``model_outputs`` files (16,100 distinct real answers to 805 instructions) and prints:

* serial (1 process) and parallel (``--jobs``) responses/s, CPU ms per response, and that both give
  identical frames;
* cold vs warm cache (a re-run on the same data reads every value from the cache);
* seconds for single ~1 MB responses of several shapes;
* with ``--stream N``: streams N synthetic-unique responses (real answers with a serial number appended so
  nothing dedupes or hits the cache) through ``iter_response_features`` and prints peak RSS as it goes, to show
  memory does not grow with input length;
* peak RSS of this process and of its workers, and the load average (other work on the machine slows every
  wall-clock figure; CPU ms per response does not depend on it).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from stylebias.extract import iter_response_features, resolve_features, response_features  # noqa: E402
from stylebias.extract.core import extract_one  # noqa: E402
from stylebias.extract.runner import warm_up  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "alpaca_eval" / "model_outputs"


def rss_mb() -> tuple[float, float]:
    """Peak RSS (MB) of this process and of its (finished) children."""
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return self_kb / 1024, kids_kb / 1024


def cpu_s() -> float:
    a = resource.getrusage(resource.RUSAGE_SELF)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def load(n: int) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    prompts: list[str] = []
    for f in sorted(DATA.glob("*.json.gz")):
        for r in json.loads(gzip.open(f).read()):
            texts.append(r["output"])
            prompts.append(r["instruction"])
    return texts[:n], prompts[:n]


def timed(label: str, n: int, fn) -> tuple[object, float]:
    c0, t0 = cpu_s(), time.perf_counter()
    out = fn()
    wall, cpu = time.perf_counter() - t0, cpu_s() - c0
    print(f"{label:<44} {n / wall:>8,.0f} responses/s   {1000 * cpu / n:6.2f} CPU ms/response   {wall:6.1f}s")
    return out, wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=16_100, help="real answers to use (max 16,100)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--features", default="full")
    ap.add_argument("--stream", type=int, default=0, help="synthetic-unique responses to stream (0 = skip)")
    args = ap.parse_args()
    names = resolve_features(args.features)
    print(f"cores: {os.cpu_count()}, load average at start: {os.getloadavg()}")
    texts, prompts = load(args.n)
    print(f"{len(texts):,} real answers from {DATA} (mean {sum(map(len, texts)) / len(texts):,.0f} chars)")
    print(f"features: {args.features} ({len(names)} columns)\n")

    warm_up()
    serial, _ = timed(
        "serial (jobs=1, no cache)",
        len(texts),
        lambda: response_features(texts, prompts, features=names, jobs=1, cache=False),
    )
    parallel, _ = timed(
        f"parallel (jobs={args.jobs}, no cache)",
        len(texts),
        lambda: response_features(texts, prompts, features=names, jobs=args.jobs, cache=False),
    )
    pd.testing.assert_frame_equal(serial, parallel)
    print("serial and parallel frames identical: yes")

    with tempfile.TemporaryDirectory() as tmp:
        timed(
            f"cold cache (jobs={args.jobs}, writes cache)",
            len(texts),
            lambda: response_features(texts, prompts, features=names, jobs=args.jobs, cache=tmp),
        )
        warm, _ = timed(
            "warm cache (re-run, every value cached)",
            len(texts),
            lambda: response_features(texts, prompts, features=names, jobs=args.jobs, cache=tmp),
        )
        pd.testing.assert_frame_equal(serial, warm)
        print("cached frame identical: yes")

    print("\nsingle ~1 MB responses (all features):")
    shapes = {
        "real answers concatenated": "\n\n".join(texts)[:1_000_000],
        "one 1 MB word": "x" * 1_000_000,
        "1 MB of newlines": "\n" * 1_000_000,
        "140k list items": "- item\n" * 140_000,
        "ZWJ emoji only": "👨‍👩‍👧‍👦" * 140_000,
        "markdown + emoji + phrases": (
            "What a great question! I can't help with that. **Bold** [l](http://x.y) 😊\n\n| a | b |\n|---|---|\n"
            * 10_000
        )[:1_000_000],
    }
    full = resolve_features("full")
    for label, text in shapes.items():
        t0 = time.perf_counter()
        extract_one(text, "prompt", full)
        print(f"  {label:<30} {len(text):>9,} chars  {time.perf_counter() - t0:5.2f}s")

    if args.stream:
        print(f"\nstreaming {args.stream:,} synthetic-unique responses (jobs={args.jobs}, no cache):")

        def gen():
            for i in range(args.stream):
                yield f"{texts[i % len(texts)]}\n\n#{i}"

        t0 = time.perf_counter()
        done = 0
        for block in iter_response_features(
            gen(), features=names, jobs=args.jobs, cache=False, block_size=20_000
        ):
            done += len(block)
            me, kids = rss_mb()
            print(
                f"  {done:>10,} done  {done / (time.perf_counter() - t0):>7,.0f}/s  peak RSS self {me:,.0f} MB"
            )
        me, kids = rss_mb()
        print(f"  peak RSS: self {me:,.0f} MB, largest worker {kids:,.0f} MB")

    me, kids = rss_mb()
    print(f"\npeak RSS: this process {me:,.0f} MB, largest worker {kids:,.0f} MB")
    print(f"load average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
