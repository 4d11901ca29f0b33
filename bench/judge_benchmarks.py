"""Loading an Arena-Hard-Auto v2 benchmark folder at upstream's scale: judgments joined with every answer.

Builds (once, in ``bench/_data/``, gitignored) a folder in the upstream layout: ``question.jsonl`` with 750
questions, ``model_answer/<model>.jsonl`` for the baseline and ``--models`` judged models (answer texts of
1-6 KB with markdown, ``metadata`` counts), and ``model_judgment/gpt-4.1/<model>.jsonl`` with two games per
question. Then loads it with ``stylebias.load_battles`` in a fresh interpreter and prints battles/s, CPU
seconds, peak RSS and the machine load.

    python bench/judge_benchmarks.py                 # 30 models: 45,000 games, 31 answer files
    python bench/judge_benchmarks.py --models 60
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
BASELINE = "o3-mini-2025-01-31"
VERDICTS = ("A>>B", "A>B", "A=B", "B>A", "B>>A")

CHILD = r"""
import json, sys, time, warnings
import stylebias.formats

def hwm_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

base = hwm_mb()
wall, cpu = time.perf_counter(), time.process_time()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    data = stylebias.formats.load_battles(sys.argv[1])
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
data.check_accounting()
print(json.dumps({"seconds": wall, "cpu_seconds": cpu, "read": data.read, "accepted": data.accepted,
                  "peak_rss_mb": hwm_mb(), "import_rss_mb": base}))
"""


def answer_text(rng: random.Random) -> str:
    parts = ["## Answer", ""]
    for k in range(rng.randint(3, 12)):
        parts.append(f"{k + 1}. **Point {k}**: " + "lorem ipsum dolor sit amet " * rng.randint(3, 20))
    parts += [
        "",
        "```python",
        "print('hello')",
        "```",
        "",
        "In short: " + "consectetur " * rng.randint(5, 40),
    ]
    return "\n".join(parts)


def build(models: int, questions: int = 750, seed: int = 0) -> Path:
    root = DATA / f"arena-hard-v2.0-{models}m"
    if (root / "model_judgment").is_dir():
        return root
    rng = random.Random(seed)
    uids = [f"{rng.getrandbits(64):016x}" for _ in range(questions)]
    (root / "model_answer").mkdir(parents=True)
    (root / "model_judgment" / "gpt-4.1").mkdir(parents=True)
    with open(root / "question.jsonl", "w") as fh:
        for u in uids:
            q = {"uid": u, "category": "hard_prompt", "subcategory": "coding", "prompt": "Explain " + u}
            fh.write(json.dumps(q) + "\n")
    names = [BASELINE] + [f"model-{i:03d}" for i in range(models)]
    for name in names:
        with open(root / "model_answer" / f"{name}.jsonl", "w") as fh:
            for u in uids:
                text = answer_text(rng)
                meta = {
                    "token_len": len(text) // 4,
                    "header_count": {"h1": 0, "h2": 1, "h3": 0, "h4": 0, "h5": 0, "h6": 0},
                    "list_count": {"ordered": text.count("\n1."), "unordered": 0},
                    "bold_count": {"**": text.count("**") // 2, "__": 0},
                }
                rec = {
                    "uid": u,
                    "ans_id": f"{name}-{u}",
                    "model": name,
                    "messages": [
                        {"role": "user", "content": "Explain " + u},
                        {"role": "assistant", "content": {"answer": text}},
                    ],
                    "tstamp": 1744155079.0,
                    "metadata": meta,
                }
                fh.write(json.dumps(rec) + "\n")
    for name in names[1:]:
        with open(root / "model_judgment" / "gpt-4.1" / f"{name}.jsonl", "w") as fh:
            for u in uids:
                games = [
                    {"score": rng.choice(VERDICTS), "judgment": {"answer": "..."}, "prompt": []}
                    for _ in range(2)
                ]
                rec = {"uid": u, "category": "hard_prompt", "judge": "gpt-4.1", "model": name,
                       "baseline": BASELINE, "games": games}  # fmt: skip
                fh.write(json.dumps(rec) + "\n")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=30)
    args = parser.parse_args()
    root = build(args.models)
    size = sum(f.stat().st_size for f in root.rglob("*.jsonl")) / 1e6
    out = subprocess.run([sys.executable, "-c", CHILD, str(root)], check=True, capture_output=True, text=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    load1, load5, _ = os.getloadavg()
    print(
        f"{args.models} models, {size:.0f} MB: {r['accepted']:,} of {r['read']:,} games in {r['seconds']:.2f} s "
        f"({r['accepted'] / r['seconds']:,.0f}/s; CPU {r['cpu_seconds']:.2f} s), peak RSS {r['peak_rss_mb']:.0f} MB "
        f"(after imports {r['import_rss_mb']:.0f} MB); load average {load1:.2f} / {load5:.2f}"
    )


if __name__ == "__main__":
    main()
