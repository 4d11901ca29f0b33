"""Loader throughput and peak memory on LMArena-scale metadata-only battles.

Builds (once, cached in ``bench/_data/``, gitignored) synthetic battle files in FastChat's public
``clean_battle`` schema — ``question_id, model_a, model_b, winner, judge, turn, anony, language, tstamp,
conv_metadata{sum_assistant_*_tokens, header_count_*{h1..h6}, list_count_*{ordered, unordered},
bold_count_*{**, __}, ...}, is_code, is_refusal, dedup_tag, category_tag`` — as Parquet, JSONL and one
big JSON array (``json.dump(..., indent=2)``, as FastChat writes it), then loads each with
``stylebias.load_battles`` in a fresh interpreter and prints rows/s and peak RSS.

    python bench/loading.py                      # 1.7M rows, all three containers
    python bench/loading.py --rows 200000 --only parquet jsonl
    python bench/loading.py --rows 200000 --only text   # conversations JSONL (per-record, streaming)

Targets (docs/formats.md): 1.7M metadata-only rows from Parquet in <= 4 s and <= 1.5 GB peak RSS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"

CHILD = r"""
import json, sys, time
import stylebias.formats, stylebias.battles  # imports are not part of the load

def hwm_mb():  # peak RSS of this process (VmHWM; ru_maxrss can report the parent's peak after fork+exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

base = hwm_mb()
t = time.perf_counter()
data = stylebias.formats.load_battles(sys.argv[1])
seconds = time.perf_counter() - t
data.check_accounting()
print(json.dumps({"seconds": seconds, "read": data.read, "accepted": data.accepted,
                  "peak_rss_mb": hwm_mb(), "import_rss_mb": base}))
"""


def build_table(n: int, seed: int = 0):  # noqa: ANN201
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    models = np.array([f"model-{i:03d}" for i in range(160)])
    a = rng.integers(0, len(models), n)
    b = (a + rng.integers(1, len(models), n)) % len(models)
    winners = np.array(["model_a", "model_b", "tie", "tie (bothbad)"])[
        rng.choice(4, n, p=[0.35, 0.35, 0.2, 0.1])
    ]
    counts = lambda *names: pa.StructArray.from_arrays(  # noqa: E731
        [pa.array(rng.poisson(1.0, n)) for _ in names], names=list(names)
    )
    meta = {
        "sum_user_tokens": pa.array(rng.integers(1, 300, n)),
        "sum_assistant_a_tokens": pa.array(rng.integers(1, 2000, n)),
        "sum_assistant_b_tokens": pa.array(rng.integers(1, 2000, n)),
        "context_a_tokens": pa.array(rng.integers(1, 300, n)),
        "context_b_tokens": pa.array(rng.integers(1, 300, n)),
        "turns": pa.array(rng.integers(1, 4, n)),
    }
    for side in "ab":
        meta[f"header_count_{side}"] = counts("h1", "h2", "h3", "h4", "h5", "h6")
        meta[f"list_count_{side}"] = counts("ordered", "unordered")
        meta[f"bold_count_{side}"] = counts("**", "__")
    bools = lambda p: pa.array(rng.random(n) < p)  # noqa: E731
    category = pa.StructArray.from_arrays(
        [
            pa.StructArray.from_arrays(
                [bools(0.5) for _ in range(7)],
                names=[
                    "specificity",
                    "domain_knowledge",
                    "complexity",
                    "problem_solving",
                    "creativity",
                    "technical_accuracy",
                    "real_world",
                ],
            ),
            pa.StructArray.from_arrays([bools(0.3), pa.array(rng.integers(0, 5, n))], names=["if", "score"]),
            pa.StructArray.from_arrays([bools(0.1)], names=["math"]),
        ],
        names=["criteria_v0.1", "if_v0.1", "math_v0.1"],
    )
    ids = np.char.add("q", np.char.zfill(np.arange(n).astype(str), 10))
    judges = np.char.add("arena_user_", rng.integers(0, 400_000, n).astype(str))
    return pa.table(
        {
            "question_id": pa.array(ids),
            "model_a": pa.array(models[a]),
            "model_b": pa.array(models[b]),
            "winner": pa.array(winners),
            "judge": pa.array(judges),
            "turn": meta["turns"],
            "anony": bools(0.9),
            "language": pa.array(
                np.array(["English", "Chinese", "German", "Russian"])[
                    rng.choice(4, n, p=[0.7, 0.1, 0.1, 0.1])
                ]
            ),
            "tstamp": pa.array(1.7e9 + rng.random(n) * 3e7),
            "conv_metadata": pa.StructArray.from_arrays(list(meta.values()), names=list(meta)),
            "is_code": bools(0.15),
            "is_refusal": bools(0.05),
            "dedup_tag": pa.StructArray.from_arrays(
                [bools(0.05), bools(0.9)], names=["high_freq", "sampled"]
            ),
            "category_tag": category,
        }
    )


def build_conversations(n: int, path: Path, seed: int = 0) -> None:
    """lmsys/chatbot_arena_conversations-schema JSONL with markdown-ish answers of varied length."""
    rng = np.random.default_rng(seed)
    words = "the model answer is **bold** and\n- a list item\n## header\ncode `x` with more words here".split(
        " "
    )
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            turns = int(rng.integers(1, 3))
            conv = {}
            for side in "ab":
                msgs = []
                for t in range(turns):
                    msgs.append({"role": "user", "content": f"question {i} turn {t}"})
                    msgs.append(
                        {
                            "role": "assistant",
                            "content": " ".join(rng.choice(words, int(rng.integers(20, 400)))),
                        }
                    )
                conv[side] = msgs
            a = int(rng.integers(0, 60))
            rec = {
                "question_id": f"q{i:010d}",
                "model_a": f"model-{a:03d}",
                "model_b": f"model-{(a + 1 + int(rng.integers(0, 59))) % 60:03d}",
                "winner": ["model_a", "model_b", "tie", "tie (bothbad)"][int(rng.integers(0, 4))],
                "judge": f"arena_user_{int(rng.integers(0, 10**6))}",
                "conversation_a": conv["a"],
                "conversation_b": conv["b"],
                "turn": turns,
                "anony": True,
                "language": "English",
                "tstamp": 1.68e9 + i,
            }
            fh.write(json.dumps(rec) + "\n")


def build(n: int, only: list[str]) -> dict[str, Path]:
    import pyarrow.parquet as pq

    DATA.mkdir(parents=True, exist_ok=True)
    paths = {
        "parquet": DATA / f"clean_battle_{n}.parquet",
        "jsonl": DATA / f"clean_battle_{n}.jsonl",
        "json": DATA / f"clean_battle_{n}.json",
        "text": DATA / f"conversations_{n}.jsonl",
    }
    if all(paths[k].exists() for k in only):
        return paths
    t = time.perf_counter()
    if "text" in only and not paths["text"].exists():
        build_conversations(n, paths["text"])
    if all(paths[k].exists() for k in only):
        return paths
    table = build_table(n)
    if not paths["parquet"].exists():
        pq.write_table(table, paths["parquet"])
    for kind in ("jsonl", "json"):
        if kind in only and not paths[kind].exists():
            with open(paths[kind], "w", encoding="utf-8") as fh:
                if kind == "json":
                    fh.write("[\n")
                first = True
                for batch in table.to_batches(max_chunksize=50_000):
                    for rec in batch.to_pylist():
                        if kind == "jsonl":
                            fh.write(json.dumps(rec) + "\n")
                        else:
                            fh.write(
                                ("  " if first else ",\n  ") + json.dumps(rec, indent=2).replace("\n", "\n  ")
                            )
                            first = False
                if kind == "json":
                    fh.write("\n]\n")
    print(f"built {n:,}-row files in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_700_000)
    ap.add_argument(
        "--only",
        nargs="+",
        default=["parquet", "jsonl", "json"],
        choices=["parquet", "jsonl", "json", "text"],
    )
    ap.add_argument(
        "--repeat", type=int, default=1, help="load each file this many times (best time is shown)"
    )
    args = ap.parse_args()
    paths = build(args.rows, args.only)
    print(
        f"{'container':<10} {'size MB':>9} {'rows':>10} {'seconds':>8} {'rows/s':>11} {'peak RSS MB':>12} {'(imports)':>10}"
    )
    for kind in args.only:
        results = []
        for _ in range(args.repeat):
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(paths[kind])], check=True, capture_output=True, text=True
            )
            results.append(json.loads(out.stdout))
        best = min(results, key=lambda r: r["seconds"])
        size = paths[kind].stat().st_size / 1e6
        print(
            f"{kind:<10} {size:>9.0f} {best['read']:>10,} {best['seconds']:>8.2f} {best['read'] / best['seconds']:>11,.0f} "
            f"{max(r['peak_rss_mb'] for r in results):>12.0f} {best['import_rss_mb']:>10.0f}"
        )


if __name__ == "__main__":
    main()
