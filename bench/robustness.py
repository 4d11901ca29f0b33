"""Robustness figures for docs/robustness.md: 1 MB extraction, streaming memory, oversized records.

Sections (all by default; pick with ``--only``):

* ``mb``: every ``full`` feature of one ~1 MB response, for hostile inputs (long runs of markdown markers,
  unclosed links, 1,000-level nesting, emoji ZWJ sequences, lone surrogates, RTL, CJK) and for real answers
  concatenated. Target: each under 1 s. Prints wall-clock and CPU seconds per input (after a warm-up, best
  of ``--repeat``) with the machine's load average beside each, since a shared machine slows the wall clock.
* ``rss``: writes JSONL files of N and ``--factor`` x N battles with unique texts to a temp folder (not the
  repo), then, in a fresh process per file, loads them with ``load_battles`` and streams the ``lmarena``
  features of every response through ``iter_response_features`` (as ``stylebias features -o`` does),
  printing peak RSS (``VmHWM``) after loading and after extraction. The loaded BattleSet holds every text by
  design, so peak RSS grows with the texts; the point is by how much per byte on disk, and that the reader and
  the extraction add only a bounded amount on top.
* ``huge``: one absurdly large record (``--huge-mb``, default 200 MB) between two normal ones, in JSONL, JSON
  array and CSV files, loaded with the default 16 MiB ``max_record_bytes``: prints time, peak RSS and the
  reject, to show the clear error is not preceded by a swap storm.

Usage::

    python bench/robustness.py                       # everything (a few minutes on 2 cores)
    python bench/robustness.py --only mb --repeat 3
    python bench/robustness.py --only rss --battles 200000 --factor 4
    python bench/robustness.py --only huge --huge-mb 200
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FX = ROOT / "tests" / "fixtures" / "formats"
MB = 1 << 20


def vm(field: str) -> float:
    """``VmHWM`` (peak) or ``VmRSS`` (current) of this process in MB, from /proc/self/status."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


# --------------------------------------------------------------------------------------------- 1 MB texts


def real_answers() -> str:
    rows = json.load(gzip.open(FX / "alpaca_eval_annotations.json.gz"))
    rows += json.loads((FX / "pandalm_testset.json").read_text())
    texts = [r.get(k) for r in rows for k in ("output_1", "output_2", "response1", "response2")]
    return "\n\n".join(t for t in texts if isinstance(t, str))


def one_mb_inputs() -> dict[str, str]:
    def fill(unit: str) -> str:
        return (unit * (MB // len(unit) + 1))[:MB]

    nested_list = "".join("  " * i + "- item\n" for i in range(1000))
    nested_quote = "".join(">" * i + " quote\n" for i in range(1000))
    cases = {
        "real answers concatenated": fill(real_answers() + "\n\n"),
        "1,000-level nested list (1.0 MB)": nested_list,
        "1,000-level nested quote (0.5 MB)": nested_quote,
        "nested ordered list, 3-space indent": "".join("   " * i + "1. item\n" for i in range(800)),
        "'*' x 1M": fill("*"),
        "'_' x 1M": fill("_"),
        "'#' x 1M": fill("#"),
        "'`' x 1M": fill("`"),
        "'|' x 1M": fill("|"),
        "'|-|\\n' table rows": fill("|-|\n"),
        "unclosed links '[a]('": fill("[a]("),
        "markers mix '*_`|#[]('": fill("*_`|#[]("),
        "closed links '[a](b)'": fill("[a](b)"),
        "unclosed bold '**a '": fill("**a "),
        "fences '```\\n'": fill("```\n"),
        "ZWJ family emoji": fill("👨\u200d👩\u200d👧\u200d👦"),
        "skin tones + flags": fill("👍🏽🇺🇸🇯🇵 "),
        "RTL + bidi controls": fill("\u202eمرحبا بالعالم\u202c שלום \u2067x\u2069 "),
        "CJK": fill("你好，世界。这是一个测试！"),
        "combining marks": fill("e\u0301\u0302\u0303"),
        "lone surrogates": fill("a\ud800 "),
        "NUL and control chars": fill("\x00\x01\x1b[31m "),
        "one 1 MB word": fill("a"),
        "1 MB of newlines": fill("\n"),
        "refusal/flattery phrases": fill("Great question! I'm sorry, but I cannot help with that. "),
    }
    return cases


def bench_mb(repeat: int) -> None:
    from stylebias.extract import FEATURE_SETS, extract_one

    names = list(FEATURE_SETS["full"])
    extract_one("Warm up: I cannot help. **Great** question! 👍", "prompt", names)
    print(f"\n## 1 MB responses, all {len(names)} features of the 'full' set (best of {repeat}, seconds)\n")
    print(f"load average at start: {load()}; {os.cpu_count()} cores\n")
    print("| input | chars | wall s | CPU s | load (1 min) |")
    print("|---|---:|---:|---:|---:|")
    worst_wall = worst_cpu = 0.0
    for label, text in one_mb_inputs().items():
        wall = cpu = float("inf")
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            extract_one(text, None, names)
            wall = min(wall, time.perf_counter() - t0)
            cpu = min(cpu, time.process_time() - c0)
        worst_wall, worst_cpu = max(worst_wall, wall), max(worst_cpu, cpu)
        print(f"| {label} | {len(text):,} | {wall:.2f} | {cpu:.2f} | {os.getloadavg()[0]:.2f} |", flush=True)
    print(f"\nslowest: {worst_wall:.2f} s wall, {worst_cpu:.2f} s CPU (target < 1 s); load at end: {load()}")


def load() -> str:
    """The 1, 5 and 15 minute load averages, for the figures printed beside them."""
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


# ------------------------------------------------------------------------------------------ streaming RSS

WORDS = (
    "the model answer style length markdown list bold header emoji question user assistant because "
    "however therefore example result data value sure great happy help cannot sorry"
).split()


def write_battles(path: Path, n: int, chars: int, seed: int = 0) -> int:
    """JSONL battles with unique responses of ~``chars`` characters; returns the file size."""
    import random

    rng = random.Random(seed)
    models = [f"model-{i}" for i in range(20)]
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            a, b = rng.sample(models, 2)
            ra = " ".join(rng.choices(WORDS, k=chars // 6)) + f" #{i}a"
            rb = "- " + " ".join(rng.choices(WORDS, k=chars // 7)) + f"\n- **{i}b**"
            rec = {
                "question_id": i,
                "model_a": a,
                "model_b": b,
                "winner": rng.choice(["model_a", "model_b", "tie"]),
            }
            rec.update(prompt=f"question {i}", response_a=ra, response_b=rb)
            fh.write(json.dumps(rec) + "\n")
    return path.stat().st_size


def child_rss(path: str) -> None:
    """Run in a fresh process: load, then stream features; print one JSON line of figures."""
    from stylebias import load_battles
    from stylebias.extract import iter_response_features

    base = vm("VmRSS")
    t0 = time.perf_counter()
    bs = load_battles(path)
    t_load = time.perf_counter() - t0
    after_load, peak_load = vm("VmRSS"), vm("VmHWM")
    df = bs.battles

    def texts():
        yield from df["response_a"]
        yield from df["response_b"]

    t0 = time.perf_counter()
    n = 0
    for block in iter_response_features(texts(), features="lmarena", jobs=1, cache=False, total=2 * len(df)):
        n += len(block)  # like `stylebias features -o`: each block is written out and dropped
    t_feat = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "battles": len(df),
                "responses": n,
                "start_mb": base,
                "load_s": t_load,
                "after_load_mb": after_load,
                "peak_load_mb": peak_load,
                "extract_s": t_feat,
                "peak_total_mb": vm("VmHWM"),
                "text_mb": float(df["response_a"].str.len().sum() + df["response_b"].str.len().sum()) / MB,
            }
        )
    )


def bench_rss(n: int, factor: int, chars: int) -> None:
    print(f"\n## Streaming memory: load + lmarena features, {n:,} vs {factor * n:,} battles\n")
    print(
        "| battles | file MB | texts MB | load s | RSS after load MB | peak during load MB | extract s | peak total MB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = []
    with tempfile.TemporaryDirectory(prefix="sb_robust_") as tmp:
        for size in (n, factor * n):
            path = Path(tmp) / f"battles_{size}.jsonl"
            file_mb = write_battles(path, size, chars) / MB
            out = subprocess.run(
                [sys.executable, __file__, "--child-rss", str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            r["file_mb"] = file_mb
            rows.append(r)
            print(
                f"| {r['battles']:,} | {file_mb:,.0f} | {r['text_mb']:,.0f} | {r['load_s']:.1f} | "
                f"{r['after_load_mb']:,.0f} | {r['peak_load_mb']:,.0f} | {r['extract_s']:.1f} | "
                f"{r['peak_total_mb']:,.0f} |",
                flush=True,
            )
            path.unlink()
    small, big = rows
    d_rss = big["peak_total_mb"] - small["peak_total_mb"]
    d_file = big["file_mb"] - small["file_mb"]
    d_text = big["text_mb"] - small["text_mb"]
    print(
        f"\npeak RSS grows {d_rss:,.0f} MB for {d_file:,.0f} MB more file ({d_rss / d_file:.2f} MB per file MB, "
        f"{d_rss / d_text:.2f} per MB of response text held); extraction adds "
        f"{big['peak_total_mb'] - big['peak_load_mb']:,.0f} MB on top of the loaded data at {factor * n:,} battles "
        f"vs {small['peak_total_mb'] - small['peak_load_mb']:,.0f} MB at {n:,}"
    )


# ----------------------------------------------------------------------------------------- huge record


def child_huge(path: str) -> None:
    from stylebias import load_battles

    t0 = time.perf_counter()
    bs = load_battles(path)
    rej = bs.rejects.to_dict("records")
    print(
        json.dumps(
            {
                "seconds": time.perf_counter() - t0,
                "peak_mb": vm("VmHWM"),
                "accounting": bs.accounting(),
                "reject": rej[0] if rej else None,
            },
            default=str,
        )
    )


def bench_huge(huge_mb: int) -> None:
    print(f"\n## One {huge_mb} MB record between two normal ones (default max_record_bytes = 16 MiB)\n")
    print("| container | file MB | seconds | peak RSS MB | accepted/read | reject |")
    print("|---|---:|---:|---:|---:|---|")
    normal = {
        "model_a": "a",
        "model_b": "b",
        "winner": "model_a",
        "prompt": "p",
        "response_a": "x",
        "response_b": "y",
    }
    big_text = "z" * (huge_mb * MB)
    with tempfile.TemporaryDirectory(prefix="sb_huge_") as tmp:
        for ext in (".jsonl", ".json", ".csv"):
            path = Path(tmp) / f"huge{ext}"
            rows = [normal, {**normal, "response_a": big_text}, normal]
            with open(path, "w", encoding="utf-8", newline="") as fh:
                if ext == ".jsonl":
                    for r in rows:
                        fh.write(json.dumps(r) + "\n")
                elif ext == ".json":
                    fh.write("[\n" + ",\n".join(json.dumps(r) for r in rows) + "\n]\n")
                else:
                    import csv

                    w = csv.DictWriter(fh, list(normal))
                    w.writeheader()
                    w.writerows(rows)
            size = path.stat().st_size / MB
            out = subprocess.run(
                [sys.executable, __file__, "--child-huge", str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            acc = r["accounting"]
            reason = (r["reject"] or {}).get("reason", "")
            record = (r["reject"] or {}).get("record", "")
            print(
                f"| {ext[1:]} | {size:,.0f} | {r['seconds']:.2f} | {r['peak_mb']:,.0f} | "
                f"{acc['accepted']}/{acc['read']} | record {record}: {reason} |",
                flush=True,
            )
            path.unlink()
    del big_text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=["mb", "rss", "huge"], action="append")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--battles", type=int, default=200_000)
    ap.add_argument("--factor", type=int, default=4)
    ap.add_argument("--chars", type=int, default=300, help="characters per response in the rss files")
    ap.add_argument("--huge-mb", type=int, default=200)
    ap.add_argument("--child-rss", help=argparse.SUPPRESS)
    ap.add_argument("--child-huge", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_rss:
        return child_rss(args.child_rss)
    if args.child_huge:
        return child_huge(args.child_huge)
    only = set(args.only or ["mb", "rss", "huge"])
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    if "mb" in only:
        bench_mb(args.repeat)
    if "huge" in only:
        bench_huge(args.huge_mb)
    if "rss" in only:
        bench_rss(args.battles, args.factor, args.chars)


if __name__ == "__main__":
    main()
