"""Check that extraction still produces the same feature frames, value for value, bit for bit.

    python bench/frames.py --save /work/cache/perf/ref      # once, on the code before a change
    python bench/frames.py --check /work/cache/perf/ref     # after it: exit 1 and a diff on any change

Computes the ``full`` feature frame (serial, no cache) of each real corpus in :mod:`corpora` (``shared``: the
AlpacaEval answers bench/features.py uses; ``heldout``: answers of other AlpacaEval models; ``arena``: real
Chatbot Arena answers) and saves it as Parquet outside the repository, or compares it with the saved one:
same columns and dtypes, integers equal, floats equal as bit patterns (so ``-0.0`` vs ``0.0`` or a last-digit
change counts), labels equal. Prints, per corpus and column, how many rows differ and the first few.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpora  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from stylebias.extract import response_features  # noqa: E402


def frame(name: str, jobs: int) -> pd.DataFrame:
    texts, prompts = corpora.load(name)
    c0, t0 = time.process_time(), time.perf_counter()
    df = response_features(texts, prompts, features="full", jobs=jobs, cache=False)
    print(
        f"{name}: {len(texts):,} answers, {time.perf_counter() - t0:.1f} s wall, "
        f"{1000 * (time.process_time() - c0) / len(texts):.2f} CPU ms/response (this process), "
        f"load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    return df


def differences(ref: pd.DataFrame, new: pd.DataFrame) -> list[str]:
    if list(ref.columns) != list(new.columns) or len(ref) != len(new):
        return [f"shape/columns differ: {ref.shape} {list(ref.columns)} vs {new.shape} {list(new.columns)}"]
    out = []
    for col in ref.columns:
        a, b = ref[col], new[col]
        if (
            a.dtype.kind not in "iuf" and b.dtype.kind not in "iuf"
        ):  # labels: Parquet reads object back as str
            a, b = a.astype(object), b.astype(object)
        if a.dtype != b.dtype:
            out.append(f"{col}: dtype {a.dtype} vs {b.dtype}")
            continue
        if a.dtype.kind == "f":
            bad = a.to_numpy().view(np.int64) != b.to_numpy().view(np.int64)
        else:
            bad = a.to_numpy() != b.to_numpy()
        rows = np.flatnonzero(bad)
        if len(rows):
            ex = ", ".join(f"row {i}: {a.iloc[i]!r} -> {b.iloc[i]!r}" for i in rows[:5])
            out.append(f"{col}: {len(rows)} rows differ ({ex})")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--save", type=Path, help="folder to write the reference frames to")
    g.add_argument("--check", type=Path, help="folder holding the reference frames")
    ap.add_argument("--corpus", action="append", choices=corpora.CORPORA)
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args()
    failed = False
    for name in args.corpus or corpora.CORPORA:
        df = frame(name, args.jobs)
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            df.to_parquet(args.save / f"{name}.parquet")
            continue
        diffs = differences(pd.read_parquet(args.check / f"{name}.parquet"), df)
        print(f"  {name}: " + ("identical" if not diffs else "DIFFERENT"))
        for d in diffs:
            print(f"    {d}")
        failed |= bool(diffs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
